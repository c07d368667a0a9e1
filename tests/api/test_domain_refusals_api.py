"""Hostile requests the registry, the dead letters, the alerts and the rulebook refuse: through the real API on the
real stack, each answers its documented status and `error` body (docs/api.md, "API keys and errors")."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from api.http.auth.keys import ApiKeyRepository, Scope
from tests.fixtures.api import bearer
from tests.fixtures.mqtt import unique_publisher_id

pytestmark = pytest.mark.integration
RULE = {"id": "coverage-drop", "kpi": "payments.cashless_share", "window": "5m", "levels": ["province"], "below": 50}


def _error(answer: httpx.Response) -> tuple[int, str, str]:
    """Status, code and message: the body must be exactly `{"error": {"code", "message"}}`."""
    body = answer.json()
    assert (list(body), list(body["error"])) == (["error"], ["code", "message"]), body
    return answer.status_code, body["error"]["code"], body["error"]["message"]


def test_publishers_the_registry_refuses(client: httpx.Client, db: psycopg.Connection[tuple[object, ...]]) -> None:
    admin = bearer(ApiKeyRepository(db).create("ops-admin", Scope.ADMIN))
    body = {"id": unique_publisher_id("kiosk"), "source": "payments", "area_code": "24611"}
    for changed, message in (
        ({"id": "ioc-ingest"}, "publisher ids starting with 'ioc-' are reserved for the system"),
        ({"area_code": "99999"}, "area '99999' is not in the areas table"),
    ):
        refused = client.post("/api/v1/publishers", json=body | changed, headers=admin)
        assert _error(refused) == (400, "invalid_request", message), changed
    registered = db.execute("SELECT count(*) FROM publishers WHERE id IN ('ioc-ingest', %s)", (body["id"],))
    assert registered.fetchone() == (0,)
    long_id = "x" * 300  # the path takes any text; no publisher has it
    missing = client.post(f"/api/v1/publishers/{long_id}/disable", headers=admin)
    assert _error(missing) == (404, "not_found", f"publisher {long_id} does not exist")
    # A NUL character: the database refuses the value before the registry can look for it.
    nul = client.post("/api/v1/publishers/kiosk%00-1/disable", headers=admin)
    assert _error(nul) == (400, "invalid_request", "a value in the request cannot be used: DataError")


def test_dead_letters_and_alerts_that_do_not_exist(
    client: httpx.Client, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    operator = bearer(ApiKeyRepository(db).create("night-shift", Scope.OPERATE))
    replay = client.post("/api/v1/dead-letters/2147483647/replay", headers=operator)
    assert _error(replay) == (404, "not_found", "dead letter 2147483647 does not exist")
    ack = client.post("/api/v1/alerts/2147483647/ack", headers=operator)
    assert _error(ack) == (404, "not_found", "no open alert 2147483647")


def test_the_rulebook_refuses_unknown_kpis_and_taken_ids_and_deadlines(
    client: httpx.Client, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    admin = bearer(ApiKeyRepository(db).create("ops-admin", Scope.ADMIN))
    taken = client.post("/api/v1/alert-rules", json=RULE, headers=admin)  # a shipped rule's id
    assert _error(taken) == (409, "conflict", "an alert rule with id 'coverage-drop' exists already")
    hostile_kpi = "payments.nothing\x00<script>'\"Đắk"
    unknown = client.put("/api/v1/alert-rules/coverage-drop", json=RULE | {"kpi": hostile_kpi}, headers=admin)
    assert _error(unknown) == (
        400,
        "invalid_request",
        f"no KPI with id {hostile_kpi!r} in the catalog (GET /api/v1/kpis lists them)",
    )
    target = {"kpi": "payments.cashless_share", "value": 65, "direction": "at_least"}
    assert client.post("/api/v1/targets", json=target | {"deadline": "2026-12-31"}, headers=admin).status_code == 201
    later = client.post("/api/v1/targets", json=target | {"deadline": "2027-06-30"}, headers=admin).json()
    moved = client.put(f"/api/v1/targets/{later['id']}", json=target | {"deadline": "2026-12-31"}, headers=admin)
    assert _error(moved) == (409, "conflict", "another target of payments.cashless_share has the same deadline")
    rows = db.execute("SELECT deadline::text FROM kpi_targets WHERE id = %s", (later["id"],)).fetchone()
    assert rows == ("2027-06-30",)  # the refused update changed nothing
