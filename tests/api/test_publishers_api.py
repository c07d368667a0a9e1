"""Publishers through the API: listed with their status (read), registered and revoked (admin) on the real broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest

from api.http.auth.keys import ApiKeyRepository, Scope
from deploy.settings import Settings
from deploy.stack.manager import LocalStack
from tests.fixtures.api import api_settings, bearer, ops_get, serve_api
from tests.fixtures.ingest import free_port
from tests.fixtures.mqtt import BlockingClient, open_client, unique_publisher_id
from tests.fixtures.stack import IsolatedDatabase

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
    assert (answer["mqtt_username"], answer["publisher"]["area_code"]) == (publisher_id, "24611")
    # Nothing heard from it yet: onboarding (no alert within its grace period), and silent, not online.
    assert (answer["publisher"]["state"], answer["publisher"]["status"], answer["publisher"]["silent"]) == (
        "onboarding", "silent", True
    )  # fmt: skip
    broker = open_client(stack, publisher_id, answer["mqtt_password"])
    mqtt_clients.append(broker)
    assert not broker.wait_connected().is_failure  # the password the API printed works on the broker

    db.execute(
        "INSERT INTO publisher_status (at, publisher_id, state, received_at) VALUES (%s, %s, 'online', now())",
        (datetime(2026, 11, 27, 3, 0, tzinfo=UTC), publisher_id),
    )
    listed = {p["id"]: p for p in client.get("/api/v1/publishers", headers=operator).json()}
    # Its last will says online, but it was heard from ten days ago: silent, never shown online.
    assert (listed[publisher_id]["status"], listed[publisher_id]["last_status"], listed[publisher_id]["status_at"]) == (
        "silent", "online", "2026-11-27T03:00:00Z"
    )  # fmt: skip
    assert (listed[publisher_id]["last_seen_at"], listed[publisher_id]["completeness"]) == (
        "2026-11-27T03:00:00Z",
        None,
    )
    # Seqs 10, 11, 12 and 14 of the last hour (13 never came), one without seq, one from yesterday.
    now = datetime.now(UTC)
    arrived = now.replace(microsecond=0)
    for seq, at in ((10, 50), (11, 40), (12, 30), (14, 20), (None, 10), (1, 26 * 3600)):
        db.execute(
            "INSERT INTO payment_transactions (occurred_at, event_id, publisher_id, area_code, seq, sector, method,"
            " amount_vnd, outcome, received_at) VALUES (%s, gen_random_uuid(), %s, '24611', %s, 'health', 'qr',"
            " 1000, 'succeeded', %s)",
            (now - timedelta(seconds=at), publisher_id, seq, arrived - timedelta(seconds=at - 1)),
        )
    listed = {p["id"]: p for p in client.get("/api/v1/publishers", headers=operator).json()}
    seen = (arrived - timedelta(seconds=9)).isoformat().replace("+00:00", "Z")
    assert (listed[publisher_id]["last_seen_at"], listed[publisher_id]["completeness"]) == (seen, 80.0)
    assert client.get(f"/api/v1/publishers/{publisher_id}/gaps", headers=operator).json() == [
        {"first": 13, "last": 13, "missing": 1}
    ]

    again = client.post("/api/v1/publishers", json=body, headers=admin)
    assert (again.status_code, again.json()["error"]["message"]) == (409, f"publisher {publisher_id} already exists")
    bad = client.post("/api/v1/publishers", json=body | {"id": "Bad Id"}, headers=admin)
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_request")
    disabled = client.post(f"/api/v1/publishers/{publisher_id}/disable", headers=admin)
    assert disabled.json()["disabled_at"] is not None
    missing = client.post("/api/v1/publishers/nobody-here/disable", headers=admin)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")


def test_keys_targets_rules_and_metrics(
    client: httpx.Client, db: psycopg.Connection[tuple[object, ...]], api_config: Settings
) -> None:
    admin = bearer(ApiKeyRepository(db).create("ops-admin", Scope.ADMIN))
    reader = bearer(ApiKeyRepository(db).create("wall-9", Scope.READ))
    assert client.get("/api/v1/apikeys", headers=reader).status_code == 403
    created = client.post("/api/v1/apikeys", json={"name": "wall-10", "scope": "read"}, headers=admin).json()
    assert (created["name"], created["scope"]) == ("wall-10", "read")
    assert client.get("/api/v1/kpis", headers=bearer(created["key"])).status_code == 200
    names = {k["name"]: k["revoked_at"] for k in client.get("/api/v1/apikeys", headers=admin).json()}
    assert names == {"ops-admin": None, "wall-9": None, "wall-10": None}
    assert "key" not in client.get("/api/v1/apikeys", headers=admin).json()[0]  # secrets never come back
    assert client.post("/api/v1/apikeys/wall-10/revoke", headers=admin).status_code == 204
    assert client.get("/api/v1/kpis", headers=bearer(created["key"])).status_code == 401
    taken = client.post("/api/v1/apikeys", json={"name": "wall-9", "scope": "admin"}, headers=admin)
    assert (taken.status_code, taken.json()["error"]["message"]) == (409, "an API key named wall-9 exists already")

    targets = client.get("/api/v1/targets", headers=reader).json()
    assert [(t["kpi"], t["value"]) for t in targets if t["kpi"] == "portal.e_cert_rate"] == [
        ("portal.e_cert_rate", 70.0),
        ("portal.e_cert_rate", 90.0),
    ]
    rules = {r["id"]: r for r in client.get("/api/v1/alert-rules", headers=reader).json()}
    assert rules["coverage-drop"]["below"] == 50
    scraped = ops_get(api_config, "/metrics").text
    assert 'ioc_api_requests_total{method="GET",route="/api/v1/apikeys",status="403"} 1.0' in scraped


def test_registration_needs_the_broker_and_never_builds_a_local_stack(
    stack: LocalStack,
    database: IsolatedDatabase,
    redis_url: str,
    db: psycopg.Connection[tuple[object, ...]],
    tmp_path: Path,
) -> None:
    """The API manages accounts through the object it built at start-up: a request makes no local stack
    (no `$IOC_HOME` appears), a broker that is down is a 503 with nothing registered, and an API without
    the broker admin's password says so."""
    admin = bearer(ApiKeyRepository(db).create("ops-admin", Scope.ADMIN))
    body = {"id": unique_publisher_id("kiosk"), "source": "payments", "area_code": "24611"}
    nowhere = tmp_path / "no-home"
    settings = api_settings(stack, database, redis_url).model_copy(update={"home": nowhere})
    with serve_api(settings) as client:
        assert client.post("/api/v1/publishers", json=body, headers=admin).status_code == 201
    assert not nowhere.exists()
    port = free_port()
    with serve_api(settings.model_copy(update={"mqtt_port": port})) as client:
        down = client.post("/api/v1/publishers", json=body | {"id": unique_publisher_id("kiosk")}, headers=admin)
        gone = client.post(f"/api/v1/publishers/{body['id']}/disable", headers=admin)
    unreachable = f"the broker at 127.0.0.1:{port} is unreachable (Connection refused)"
    assert (down.status_code, down.json()["error"]) == (
        503, {"code": "unavailable", "message": f"{unreachable}; nothing was registered"}
    )  # fmt: skip
    assert (gone.status_code, gone.json()["error"]["message"]) == (
        503, f"{unreachable}; publisher {body['id']} is still enabled"
    )  # fmt: skip
    assert db.execute("SELECT id, disabled_at FROM publishers").fetchall() == [(body["id"], None)]
    with serve_api(settings.model_copy(update={"mqtt_admin_password": None})) as client:
        refused = client.post("/api/v1/publishers", json=body | {"id": unique_publisher_id("kiosk")}, headers=admin)
    assert (refused.status_code, refused.json()["error"]["message"]) == (
        503, "this API has no broker admin account (IOC_MQTT_ADMIN_PASSWORD): it cannot manage publishers"
    )  # fmt: skip
    stack.mosquitto.accounts.delete(str(body["id"]))
