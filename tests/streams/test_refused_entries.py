"""Stored-events entries of other format versions, through real Redis and TimescaleDB to the engine's KPIs.

An entry of the previous version (an ingest not yet upgraded) is applied as it always was. One the
engine does not read (a newer ingest, or garbage a hostile writer put on the stream) is refused with
a log line and a metric, and the engine rebuilds from the database: the events it announced are
counted all the same, and every KPI still equals its SQL definition."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import redis
from psycopg import sql

from ingest.service.stored_events_publisher import StoredEventsPublisher
from ingest.stored_events import RECORD_COLUMNS, StoredEventsBatch, StoredTransaction
from runtime.redis_names import STORED_EVENTS_STREAM
from tests.fixtures.ingest import Publisher, RunningIngest, count_rows, wait_for
from tests.fixtures.stack import IsolatedDatabase
from tests.fixtures.streams import RunningEngine, current_frames
from tests.streams.test_engine import _province_tx_count, frames_match_sql, metric, publish_mix, publishers

pytestmark = pytest.mark.integration
__all__ = ["publishers"]  # the fixture, for the tests below


def store_payments(database: IsolatedDatabase, publisher_id: str, count: int) -> tuple[int, list[StoredTransaction]]:
    """`count` succeeded payments stored straight into the database, as another ingest would; their
    transaction's id and their records."""
    returning = sql.SQL(", ").join(map(sql.Identifier, RECORD_COLUMNS["transaction"]))
    insert = sql.SQL(
        "INSERT INTO payment_transactions (occurred_at, event_id, publisher_id, area_code, sector, method,"
        " amount_vnd, outcome, received_at) SELECT %s, gen_random_uuid(), %s, '24611', 'health', 'qr', 150000,"
        " 'succeeded', now() FROM generate_series(1, %s) RETURNING {}"
    ).format(returning)
    with psycopg.connect(database.url) as conn:
        rows = conn.execute(insert, (datetime.now(UTC) - timedelta(seconds=10), publisher_id, count)).fetchall()
        xid = conn.execute("SELECT pg_current_xact_id()::text").fetchone()
        assert xid is not None
    return int(str(xid[0])), [StoredTransaction._make(row) for row in rows]


def test_an_entry_of_the_previous_version_is_applied_and_one_not_read_makes_the_engine_rebuild_exactly(
    database: IsolatedDatabase,
    db: psycopg.Connection[tuple[object, ...]],
    redis_url: str,
    start_ingest: Callable[..., RunningIngest],
    start_engine: Callable[..., RunningEngine],
    publishers: dict[str, Publisher],
    caplog: pytest.LogCaptureFixture,
) -> None:
    start_ingest(stored_events=StoredEventsPublisher(redis_url, producer="ingest-under-test"))
    running = start_engine()
    payments = publishers["payments"]
    succeeded = publish_mix(publishers, random.Random(21), 30)
    assert wait_for(lambda: _province_tx_count(redis_url) == succeeded)
    client = redis.Redis.from_url(redis_url)

    # An ingest of the previous release: its entry has no `v` and no `columns`.
    xid, stored = store_payments(database, payments.id, 3)
    old = StoredEventsBatch("ingest-old", "s-old", 1, {"transaction": stored}, (xid,)).encode()
    del old["v"], old["columns"]
    client.xadd(STORED_EVENTS_STREAM, old)  # type: ignore[arg-type]
    succeeded += 3
    assert wait_for(lambda: _province_tx_count(redis_url) == succeeded)
    assert metric(running, "ioc_streams_rebuilds_total", reason="start") == 1
    assert metric(running, "ioc_streams_rebuilds_total", reason="refused entry") is None

    # A newer ingest's entry: its events are in the database, and only that entry announced them.
    xid, stored = store_payments(database, payments.id, 4)
    newer = StoredEventsBatch("ingest-next", "s-next", 1, {"transaction": stored}, (xid,)).encode() | {"v": "3"}
    with caplog.at_level(logging.ERROR, logger="streams.engine.runner"):
        client.xadd(STORED_EVENTS_STREAM, newer)  # type: ignore[arg-type]
        succeeded += 4
        assert wait_for(lambda: _province_tx_count(redis_url) == succeeded)
        assert metric(running, "ioc_streams_records_refused_total", reason="version") == 1
        assert metric(running, "ioc_streams_rebuilds_total", reason="refused entry") == 1

        # A hostile writer's entry, crafted to look like the current version.
        client.xadd(STORED_EVENTS_STREAM, {"v": "2", "producer": "intruder", "records": '{"transaction": [[1]]}'})
        assert wait_for(lambda: metric(running, "ioc_streams_rebuilds_total", reason="refused entry") == 2)
    assert metric(running, "ioc_streams_records_refused_total", reason="malformed") == 1
    assert caplog.messages[0] == (
        "stored-events stream: refused a stored-events entry from ingest-next in format version 3: a version this"
        " process does not read (reads 1 and 2); the KPI state is rebuilt from the database"
    )
    assert caplog.messages[1].startswith(
        "stored-events stream: refused a stored-events entry from intruder in format version 2: KeyError: "
    )

    # The engine goes on with what ingest stores, and every value equals SQL.
    succeeded += publish_mix(publishers, random.Random(22), 30)
    assert wait_for(lambda: _province_tx_count(redis_url) == succeeded)
    assert wait_for(lambda: count_rows(database, "payment_transactions") == 20 + 3 + 4)
    assert wait_for(running.probe.settled)
    frames = current_frames(redis_url)
    assert frames_match_sql(db, frames) == len(frames)
    client.close()
