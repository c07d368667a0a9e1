"""KPI history: 1-minute rollups equal a fresh aggregation of the raw events; minute snapshots (real TimescaleDB)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import psycopg
import pytest

from streams.engine.history_writer import HistoryWriter
from streams.engine.metrics import EngineMetrics
from streams.engine.rollups import ROLLUPS
from streams.windows import MINUTE_US
from tests.fixtures.stack import IsolatedDatabase
from tests.streams.kpi_data import NOW_US, generated_records
from tests.streams.test_kpi_sql_equivalence import store

pytestmark = pytest.mark.integration


def rollup_rows(conn: psycopg.Connection[tuple[object, ...]], table: str) -> list[tuple[object, ...]]:
    rows = conn.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608 - test-owned names
    # Sums of doubles depend on the order rows are read in: equal to 1e-9, not to the last bit.
    return sorted((tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows), key=repr)


def fresh_rollups(conn: psycopg.Connection[tuple[object, ...]]) -> dict[str, list[tuple[object, ...]]]:
    """Every rollup computed again from scratch, over all time, in a transaction that is rolled back."""
    out: dict[str, list[tuple[object, ...]]] = {}
    with conn.transaction(force_rollback=True):
        for table, insert in ROLLUPS:
            conn.execute(f"DELETE FROM {table}")  # noqa: S608
            conn.execute(insert, {"start": datetime(2000, 1, 1, tzinfo=UTC), "end": datetime(2100, 1, 1, tzinfo=UTC)})
            out[table] = rollup_rows(conn, table)
    return out


def test_rollups_follow_late_events_minute_by_minute(
    database: IsolatedDatabase, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    rng = random.Random(21)
    first = generated_records(rng, 1_500)
    store(db, first)
    writer = HistoryWriter(database.connect, EngineMetrics(), clock=lambda: NOW_US / 1e6 + 3600)
    writer.mark_minutes({r.occurred_us // MINUTE_US for r in first})  # type: ignore[union-attr]
    writer.write_pending()
    assert writer.pending_minutes() == 0
    expected = fresh_rollups(db)
    assert all(expected.values())
    assert {table: rollup_rows(db, table) for table, _ in ROLLUPS} == expected

    late = generated_records(rng, 300)  # more events, many in minutes already rolled up
    store(db, late)
    touched = {r.occurred_us // MINUTE_US for r in late}  # type: ignore[union-attr]
    writer.mark_minutes(touched)
    writer.write_pending()
    writer.close()
    assert {table: rollup_rows(db, table) for table, _ in ROLLUPS} == fresh_rollups(db)


def test_a_minute_not_over_waits_and_snapshots_are_upserted(
    database: IsolatedDatabase, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    now_minute = NOW_US // MINUTE_US
    writer = HistoryWriter(database.connect, EngineMetrics(), clock=lambda: NOW_US / 1e6)
    writer.mark_minutes({now_minute - 1, now_minute})
    writer.offer_snapshot(now_minute * MINUTE_US, [("payments.tx_count", "67", "5m", 3.0, None, None, None)])
    writer.offer_snapshot(now_minute * MINUTE_US, [("payments.tx_count", "67", "5m", 4.0, None, None, None)])
    writer.write_pending()
    assert writer.pending_minutes() == 1  # the current minute is rolled up once it has ended
    writer.offer_snapshot(
        now_minute * MINUTE_US,
        [("payments.tx_count", "67", "5m", 5.0, None, None, None), ("portal.e_cert_rate", "67", "1h", 75.0, 3, 4, 90)],
    )
    writer.write_pending(final=True)
    writer.close()
    assert writer.pending_minutes() == 0
    rows = db.execute(
        "SELECT at, kpi, area_code, window_name, value, numerator, denominator, target FROM kpi_snapshots ORDER BY kpi"
    ).fetchall()
    at = datetime.fromtimestamp(now_minute * 60, UTC)
    assert rows == [
        (at, "payments.tx_count", "67", "5m", 5.0, None, None, None),
        (at, "portal.e_cert_rate", "67", "1h", 75.0, 3.0, 4.0, 90.0),
    ]
