"""Targets and alert rules edited through the API, and the KPI engine following them (real services)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import psycopg
import pytest

from api.http.auth.keys import ApiKeyRepository, Scope
from ingest.service.stored_events_publisher import StoredEventsPublisher
from tests import factories
from tests.fixtures.api import bearer
from tests.fixtures.ingest import Publisher, RunningIngest, wait_for
from tests.fixtures.streams import RunningEngine, current_frames

pytestmark = pytest.mark.integration
CASH_RULE = {"id": "cash-heavy", "kpi": "payments.cashless_share", "window": "5m", "levels": ["province"], "below": 50}


def test_admins_create_and_update_targets_and_rules_and_others_may_not(
    client: httpx.Client, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    admin = bearer(ApiKeyRepository(db).create("ops-admin", Scope.ADMIN))
    operator = bearer(ApiKeyRepository(db).create("on-call", Scope.OPERATE))
    target = {"kpi": "payments.cashless_share", "value": 65, "direction": "at_least", "deadline": "2026-12-31"}

    assert client.post("/api/v1/targets", json=target, headers=operator).status_code == 403
    created = client.post("/api/v1/targets", json=target, headers=admin)
    assert created.status_code == 201
    target_id = created.json()["id"]
    assert created.json() == {**target, "value": 65.0, "source": "", "id": target_id}
    again = client.post("/api/v1/targets", json=target, headers=admin)
    assert (again.status_code, again.json()["error"]) == (
        409,
        {"code": "conflict", "message": "payments.cashless_share already has a target with deadline 2026-12-31"},
    )
    unknown = client.post("/api/v1/targets", json={**target, "kpi": "payments.nothing"}, headers=admin)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, "invalid_request")
    assert "no KPI with id 'payments.nothing'" in unknown.json()["error"]["message"]
    wrong = client.post("/api/v1/targets", json={**target, "direction": "upwards"}, headers=admin)
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (400, "invalid_request")
    not_a_number = client.post(
        "/api/v1/targets", content=b'{"kpi": "payments.cashless_share", "value": NaN, "direction": "at_least"}',
        headers=admin | {"content-type": "application/json"},
    )  # fmt: skip
    assert (not_a_number.status_code, not_a_number.json()["error"]["code"]) == (400, "invalid_request")
    # Numbers and booleans are not read as one another, nor a number as a date.
    for body, message in (
        ({**target, "value": True}, "value: Input should be a valid number"),
        ({**target, "deadline": 0}, "deadline: Value error, a deadline is a date, such as 2025-12-31"),
    ):
        refused = client.post("/api/v1/targets", json=body, headers=admin)
        assert (refused.status_code, refused.json()["error"]["message"]) == (400, message)

    updated = client.put(f"/api/v1/targets/{target_id}", json={**target, "value": 75}, headers=admin)
    assert (updated.status_code, updated.json()["value"]) == (200, 75.0)
    missing = client.put("/api/v1/targets/999999", json=target, headers=admin)
    assert (missing.status_code, missing.json()["error"]["message"]) == (404, "no target with id 999999")
    listed = client.get("/api/v1/targets", headers=operator).json()
    assert [(t["value"], t["deadline"]) for t in listed if t["kpi"] == "payments.cashless_share"] == [
        (75.0, "2026-12-31"),
        (50.0, None),  # the shipped one, seeded by the migration
    ]

    assert client.post("/api/v1/alert-rules", json=CASH_RULE, headers=operator).status_code == 403
    assert client.post("/api/v1/alert-rules", json=CASH_RULE, headers=admin).status_code == 201
    assert client.post("/api/v1/alert-rules", json=CASH_RULE, headers=admin).status_code == 409
    two = client.post("/api/v1/alert-rules", json={**CASH_RULE, "id": "two", "above": 90}, headers=admin)
    assert two.status_code == 400
    assert "exactly one of below, above, below_target, stale_after_seconds" in two.json()["error"]["message"]
    for field, value, message in (
        ("for_seconds", False, "for_seconds: Input should be a valid number"),
        ("below_target", 1, "below_target: Input should be a valid boolean"),
    ):
        loose = client.post("/api/v1/alert-rules", json={**CASH_RULE, "id": "loose", field: value}, headers=admin)
        assert (loose.status_code, loose.json()["error"]["message"]) == (400, message)
    renamed = client.put("/api/v1/alert-rules/cash-heavy", json={**CASH_RULE, "id": "other"}, headers=admin)
    assert (renamed.status_code, renamed.json()["error"]["message"]) == (
        400,
        "the rule's id (other) must be the id in the path (cash-heavy)",
    )
    assert client.put("/api/v1/alert-rules/nope", json={**CASH_RULE, "id": "nope"}, headers=admin).status_code == 404
    changed = client.put("/api/v1/alert-rules/cash-heavy", json={**CASH_RULE, "below": 40}, headers=admin)
    assert (changed.status_code, changed.json()["below"]) == (200, 40.0)
    rules = {r["id"]: r for r in client.get("/api/v1/alert-rules", headers=operator).json()}
    assert rules["cash-heavy"]["below"] == 40.0
    assert rules["coverage-drop"]["below"] == 50.0  # the shipped rules are there too


def test_the_engine_follows_the_rulebook_without_a_restart(
    client: httpx.Client,
    db: psycopg.Connection[tuple[object, ...]],
    redis_url: str,
    start_ingest: Callable[..., RunningIngest],
    start_engine: Callable[..., RunningEngine],
    register_publisher: Callable[..., Publisher],
) -> None:
    admin = bearer(ApiKeyRepository(db).create("ops-admin", Scope.ADMIN))
    payments = register_publisher("payments", "24611")
    start_ingest(stored_events=StoredEventsPublisher(redis_url, producer="ingest-under-test"))
    start_engine(follow_rulebook=True)
    for _ in range(3):
        body = factories.transaction(area_code="24611", method="cash", amount_vnd=100_000)
        payments.client.publish(payments.topic("transaction"), factories.encode(body))

    def province_share() -> tuple[float | None, float | None] | None:
        frame = current_frames(redis_url).get("payments.cashless_share|67|5m")
        return None if frame is None else (frame.value, frame.target)

    assert wait_for(lambda: province_share() == (0.0, 50.0))  # the shipped target, no alert rule on it

    def alerts() -> list[tuple[object, ...]]:
        return db.execute(
            "SELECT rule_id, area_code, state FROM alerts WHERE rule_id = 'cash-heavy' ORDER BY id"
        ).fetchall()

    [shipped] = [
        t for t in client.get("/api/v1/targets", headers=admin).json() if t["kpi"] == "payments.cashless_share"
    ]
    changed = {**shipped, "value": 80}
    del changed["id"]
    assert client.put(f"/api/v1/targets/{shipped['id']}", json=changed, headers=admin).status_code == 200
    assert client.post("/api/v1/alert-rules", json=CASH_RULE, headers=admin).status_code == 201
    assert wait_for(lambda: province_share() == (0.0, 80.0))  # the same value, published again with its new target
    assert wait_for(lambda: alerts() == [("cash-heavy", "67", "open")])

    narrowed = {**CASH_RULE, "levels": ["district"]}
    assert client.put("/api/v1/alert-rules/cash-heavy", json=narrowed, headers=admin).status_code == 200
    assert wait_for(lambda: alerts() == [("cash-heavy", "67", "resolved"), ("cash-heavy", "660", "open")])
