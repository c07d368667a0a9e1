"""The console's status board (`GET /api/v1/system/status`) from what the services share: a silent
publisher and a dead-letter burst are problems, seq gaps a warning, the engine and ingest judged from
Redis, the live clients of every API process added up."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest
import redis

from api.http.auth.keys import ApiKeyRepository, Scope
from deploy.settings import Settings
from runtime.redis_names import API_LIVE_CLIENTS_PREFIX, KPI_EPOCH, KPI_HEARTBEAT
from tests.api.dead_letter_rows import add_dead_letter
from tests.fixtures.api import bearer, serve_api

pytestmark = pytest.mark.integration


def _transaction(db: psycopg.Connection[tuple[object, ...]], publisher: str, seq: int, at: datetime) -> None:
    db.execute(
        "INSERT INTO payment_transactions (occurred_at, event_id, publisher_id, area_code, seq, sector, method,"
        " amount_vnd, outcome, received_at) VALUES (%s, gen_random_uuid(), %s, '24611', %s, 'health', 'qr',"
        " 1000, 'succeeded', %s)",
        (at, publisher, seq, at),
    )


def test_the_board_names_silent_publishers_gaps_and_a_dead_letter_burst(
    api_config: Settings, db: psycopg.Connection[tuple[object, ...]], redis_url: str
) -> None:
    reader = bearer(ApiKeyRepository(db).create("night-shift", Scope.READ))
    now = datetime.now(UTC)
    db.execute(
        "INSERT INTO publishers (id, source, area_code, silent_after_seconds, disabled_at) VALUES"
        " ('quiet-1', 'payments', '24611', NULL, NULL), ('quick-1', 'payments', '24612', 60, NULL),"
        " ('gappy-1', 'payments', '24611', NULL, NULL), ('gone-1', 'payments', '24611', NULL, now()),"
        " ('weekly-1', 'payments', '24611', 604800, NULL)"
    )
    # As the engine counts silence: not in maintenance, not while onboarding within its grace period.
    db.execute(
        "INSERT INTO publishers (id, source, area_code, created_at, maintenance_until, maintenance_by) VALUES"
        " ('fixing-1', 'payments', '24611', now() - interval '30 days', now() + interval '1 day', 'ops-anh'),"
        " ('new-1', 'payments', '24611', now() - interval '1 hour', NULL, NULL),"
        " ('late-1', 'payments', '24611', now() - interval '2 days', NULL, NULL)"
    )
    _transaction(db, "fixing-1", 1, now - timedelta(minutes=20))
    # Its own threshold is a week: two days of quiet is no silence (older than the day the board reads back).
    _transaction(db, "weekly-1", 1, now - timedelta(days=2))
    _transaction(db, "quiet-1", 1, now - timedelta(minutes=20))  # older than the default 15 minutes
    _transaction(db, "quick-1", 1, now - timedelta(minutes=2))  # older than its own 60 s
    for seq in (1, 2, 5):  # 3 and 4 never came
        _transaction(db, "gappy-1", seq, now - timedelta(seconds=30 - seq))
    for i in range(6):
        add_dead_letter(db, at=now - timedelta(seconds=i), topic="ioc/v1/x", payload=b"%d" % i, publisher="gappy-1")
    add_dead_letter(db, at=now - timedelta(minutes=10), topic="ioc/v1/x", payload=b"old")
    # The notifier gave one up an hour ago, and one from two days ago no longer counts.
    db.execute(
        "INSERT INTO notification_outbox (receiver, idempotency_key, subject, event, payload, state, attempts,"
        " created_at, last_attempt_at, last_error) VALUES"
        " ('webhook:bot', 'ioc:alert:1:opened', 'alert:1', 'opened', '{}', 'failed', 9, now() - interval '25 hours',"
        "  now() - interval '1 hour', 'HTTP 410'),"
        " ('webhook:bot', 'ioc:alert:0:opened', 'alert:0', 'opened', '{}', 'failed', 9, now() - interval '3 days',"
        "  now() - interval '2 days', 'HTTP 410')"
    )
    with redis.Redis.from_url(redis_url) as client:
        client.set(KPI_HEARTBEAT, (now - timedelta(seconds=1)).isoformat(), ex=10)
        client.set(KPI_EPOCH, f"{now - timedelta(hours=2):%Y%m%dT%H%M%SZ}-abc123")
        client.set(f"{API_LIVE_CLIENTS_PREFIX}other-replica", json.dumps({"kpis": 3, "events": 1}), ex=15)
    with serve_api(api_config.model_copy(update={"api_dead_letter_burst": 5})) as http:
        answer = http.get("/api/v1/system/status", headers=reader)
        assert answer.status_code == 200, answer.text
        board = answer.json()
        assert http.get("/api/v1/system/status").status_code == 401
    items = {i["name"]: i for i in board["items"]}
    assert list(items) == [
        "silent_publishers", "publishers_with_gaps", "dead_letter_burst", "engine", "engine_rebuild", "ingest",
        "websocket_clients", "broker", "notifications",
    ]  # fmt: skip
    assert items["notifications"] == {
        "name": "notifications", "level": "problem", "value": 1, "subjects": ["webhook:bot"],
        "reason": "1 notifications not delivered in the last day: webhook:bot (1)",
    }  # fmt: skip
    assert board["level"] == "problem"
    assert items["silent_publishers"] == {
        "name": "silent_publishers", "level": "problem", "reason": "3 silent: late-1, quick-1, quiet-1", "value": 3,
        "subjects": ["late-1", "quick-1", "quiet-1"],
    }  # fmt: skip
    assert items["publishers_with_gaps"] == {
        "name": "publishers_with_gaps", "level": "warning", "value": 1, "subjects": ["gappy-1"],
        "reason": "1 with seq gaps in the last hour (2 missing): gappy-1",
    }  # fmt: skip
    assert (items["dead_letter_burst"]["level"], items["dead_letter_burst"]["reason"]) == (
        "problem", "6 dead letters in 5 minutes, more than 5"
    )  # fmt: skip
    assert items["engine"]["level"] == "ok"
    assert items["engine_rebuild"]["level"] == "ok"
    # gappy-1 is heard, yet ingest put nothing on the stream (these rows were written behind its back).
    assert items["ingest"] == {
        "name": "ingest", "level": "warning", "value": None, "subjects": [],
        "reason": "ingest has stored nothing since Redis started",
    }  # fmt: skip
    # This API's own key (0 clients) and the other replica's.
    assert (items["websocket_clients"]["value"], items["websocket_clients"]["reason"]) == (
        4, "4 live clients (3 walls and KPI feeds, 1 event tails) on 2 API processes"
    )  # fmt: skip
    assert items["broker"] == {
        "name": "broker", "level": "ok", "reason": "the broker accepts connections", "value": None, "subjects": []
    }  # fmt: skip
    assert [(p["id"], p["silent"], p["missing"], p["open_dead_letters"]) for p in board["publishers"]] == [
        ("late-1", True, 0, 0), ("quick-1", True, 0, 0), ("quiet-1", True, 0, 0), ("gappy-1", False, 2, 6),
    ]  # fmt: skip


def test_without_the_engine_and_after_a_new_epoch_the_board_says_so(
    client: httpx.Client, db: psycopg.Connection[tuple[object, ...]], redis_url: str
) -> None:
    reader = bearer(ApiKeyRepository(db).create("night-shift", Scope.READ))
    with redis.Redis.from_url(redis_url) as r:
        r.set(KPI_EPOCH, f"{datetime.now(UTC) - timedelta(seconds=30):%Y%m%dT%H%M%SZ}-abc123")
    items = {i["name"]: i for i in client.get("/api/v1/system/status", headers=reader).json()["items"]}
    assert (items["engine"]["level"], items["engine"]["reason"]) == ("problem", "no heartbeat from the KPI engine")
    assert items["engine_rebuild"]["level"] == "warning"
    assert items["silent_publishers"]["level"] == "ok"
    assert items["notifications"]["level"] == "ok"
    assert items["dead_letter_burst"] == {
        "name": "dead_letter_burst", "level": "ok", "reason": "0 dead letters in 5 minutes", "value": 0, "subjects": []
    }  # fmt: skip
