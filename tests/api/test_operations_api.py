"""Operations through the API: alerts acknowledged (scope operate), dead letters listed and replayed (real services)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import httpx
import psycopg
import pytest
import redis

from api.http.auth.keys import ApiKeyRepository, Scope
from ingest.stored_events import StoredEventsBatch
from runtime.redis_names import STORED_EVENTS_STREAM
from streams.alerts.evaluator import AlertOpened
from streams.alerts.rules import AlertRule
from streams.alerts.store import AlertStore
from tests import factories
from tests.fixtures.api import bearer
from tests.streams.kpi_data import NOW_US

pytestmark = pytest.mark.integration


def test_reading_keys_list_alerts_and_only_operators_acknowledge_them(
    client: httpx.Client,
    db: psycopg.Connection[tuple[object, ...]],
) -> None:
    rule = AlertRule(id="coverage-drop", kpi="coverage.usable_share", window="1h", below=50, severity="major")
    AlertStore(db).apply([AlertOpened(rule, "24615", 41.0, "usable share 41 % in 24615", NOW_US)])
    reader = bearer(ApiKeyRepository(db).create("wall-1", Scope.READ))
    operator = bearer(ApiKeyRepository(db).create("night-shift", Scope.OPERATE))
    [alert] = client.get("/api/v1/alerts", headers=reader).json()
    assert (alert["rule_id"], alert["area_code"], alert["state"], alert["severity"]) == (
        "coverage-drop",
        "24615",
        "open",
        "major",
    )
    refused = client.post(f"/api/v1/alerts/{alert['id']}/ack", headers=reader)
    assert (refused.status_code, refused.json()["error"]) == (
        403,
        {"code": "forbidden", "message": "this route needs scope 'operate'; the key 'wall-1' has 'read'"},
    )
    assert client.post(f"/api/v1/alerts/{alert['id']}/ack", headers=operator).status_code == 204
    again = client.post(f"/api/v1/alerts/{alert['id']}/ack", headers=operator)
    assert (again.status_code, again.json()["error"]["code"]) == (404, "not_found")
    history = client.get(f"/api/v1/alerts/{alert['id']}/history", headers=reader).json()
    assert [(h["state"], h["actor"]) for h in history] == [("open", "engine"), ("acknowledged", "night-shift")]
    assert [
        a["state"] for a in client.get("/api/v1/alerts", params={"state": "acknowledged"}, headers=reader).json()
    ] == ["acknowledged"]
    bad = client.get("/api/v1/alerts", params={"state": "closed"}, headers=reader)
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_request")


def test_an_operator_replays_a_dead_letter_and_the_kpi_stream_hears_of_it(
    client: httpx.Client,
    db: psycopg.Connection[tuple[object, ...]],
    redis_url: str,
) -> None:
    db.execute("INSERT INTO publishers (id, source, area_code) VALUES ('counter-9', 'payments', '24611')")
    payload = factories.encode(factories.transaction(area_code="24611", amount_vnd=75_000))
    topic = "ioc/v1/payments/counter-9/transaction"
    db.execute(
        "INSERT INTO dead_letters (received_at, topic, publisher_id, reason, detail, payload, fingerprint)"
        " VALUES (%s, %s, 'counter-9', 'unknown_publisher', 'not registered then', %s, %s)",
        (datetime.now(UTC), topic, payload, hashlib.sha256(topic.encode() + b"\x00" + payload).digest()),
    )
    operator = bearer(ApiKeyRepository(db).create("night-shift", Scope.OPERATE))
    [letter] = client.get("/api/v1/dead-letters", headers=operator).json()
    assert (letter["reason"], letter["publisher_id"], letter["resolved_at"]) == ("unknown_publisher", "counter-9", None)
    replayed = client.post(f"/api/v1/dead-letters/{letter['id']}/replay", headers=operator)
    assert replayed.json() == {"id": letter["id"], "status": "stored", "detail": "transaction from counter-9"}
    assert client.get("/api/v1/dead-letters", headers=operator).json() == []
    assert len(client.get("/api/v1/dead-letters", params={"include_resolved": "true"}, headers=operator).json()) == 1
    beyond = client.get("/api/v1/dead-letters", params={"before_id": str(2**63)}, headers=operator)
    assert (beyond.status_code, beyond.json()["error"]["message"]) == (
        400,
        "before_id: Input should be less than or equal to 9223372036854775807",
    )
    entries = [StoredEventsBatch.decode(f) for _, f in redis.Redis.from_url(redis_url).xrange(STORED_EVENTS_STREAM)]
    assert [(b.producer, b.pseq, b.final, len(b.records.get("transaction", []))) for b in entries] == [
        ("ioc-replay", 1, False, 1),
        ("ioc-replay", 2, True, 0),
    ]
    missing = client.post("/api/v1/dead-letters/999999/replay", headers=operator)
    assert missing.json() == {"error": {"code": "not_found", "message": "dead letter 999999 does not exist"}}
