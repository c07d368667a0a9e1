"""Publishers through the API: listed with their status (read), registered and revoked (admin) on the real broker."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import psycopg
import pytest

from api.http.auth.keys import ApiKeyRepository, Scope
from deploy.stack.manager import LocalStack
from tests.fixtures.api import bearer
from tests.fixtures.mqtt import BlockingClient, open_client, unique_publisher_id

pytestmark = pytest.mark.integration


def test_admins_register_and_revoke_publishers_and_others_may_not(
    client: httpx.Client,
    stack: LocalStack,
    db: psycopg.Connection[tuple[object, ...]],
    mqtt_clients: list[BlockingClient],
) -> None:
    admin = bearer(ApiKeyRepository(db).create("ops-admin", Scope.ADMIN))
    operator = bearer(ApiKeyRepository(db).create("night-shift", Scope.OPERATE))
    publisher_id = unique_publisher_id("kiosk")
    body = {"id": publisher_id, "source": "payments", "area_code": "24611", "description": "hospital counter"}
    refused = client.post("/api/v1/publishers", json=body, headers=operator)
    assert (refused.status_code, refused.json()["error"]["message"]) == (
        403,
        "this route needs scope 'admin'; the key 'night-shift' has 'operate'",
    )
    created = client.post("/api/v1/publishers", json=body, headers=admin)
    assert created.status_code == 201
    answer = created.json()
    assert (answer["mqtt_username"], answer["publisher"]["area_code"], answer["publisher"]["status"]) == (
        publisher_id,
        "24611",
        None,
    )
    broker = open_client(stack, publisher_id, answer["mqtt_password"])
    mqtt_clients.append(broker)
    assert not broker.wait_connected().is_failure  # the password the API printed works on the broker

    db.execute(
        "INSERT INTO publisher_status (at, publisher_id, state, received_at) VALUES (%s, %s, 'online', now())",
        (datetime(2026, 11, 27, 3, 0, tzinfo=UTC), publisher_id),
    )
    listed = {p["id"]: p for p in client.get("/api/v1/publishers", headers=operator).json()}
    assert (listed[publisher_id]["status"], listed[publisher_id]["status_at"]) == ("online", "2026-11-27T03:00:00Z")
    assert client.get(f"/api/v1/publishers/{publisher_id}/gaps", headers=operator).json() == []

    again = client.post("/api/v1/publishers", json=body, headers=admin)
    assert (again.status_code, again.json()["error"]["message"]) == (400, f"publisher {publisher_id} already exists")
    bad = client.post("/api/v1/publishers", json=body | {"id": "Bad Id"}, headers=admin)
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_request")
    disabled = client.post(f"/api/v1/publishers/{publisher_id}/disable", headers=admin)
    assert disabled.json()["disabled_at"] is not None
    missing = client.post("/api/v1/publishers/nobody-here/disable", headers=admin)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
