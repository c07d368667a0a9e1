"""Hourly snapshots: which hours the history writer rolls, and when (real TimescaleDB, clock passed in)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from streams.engine.hourly_snapshots import HourlyRoller

pytestmark = pytest.mark.integration
HOUR = timedelta(hours=1)
FIVE = datetime(2026, 11, 26, 5, tzinfo=UTC)


def snapshot(db: psycopg.Connection[tuple[object, ...]], at: datetime, value: float) -> None:
    db.execute(
        "INSERT INTO kpi_snapshots (at, kpi, area_code, window_name, value) VALUES (%s, 'payments.tx_count', '67',"
        " 'today', %s)",
        (at, value),
    )


def hourly(db: psycopg.Connection[tuple[object, ...]]) -> list[tuple[object, ...]]:
    return db.execute("SELECT at, value FROM kpi_snapshots_1h ORDER BY at").fetchall()


def test_hours_are_rolled_from_the_oldest_snapshot_once_ended_and_settled(
    db: psycopg.Connection[tuple[object, ...]],
) -> None:
    for at, value in ((FIVE - 30 * HOUR, 1.0), (FIVE - 2 * HOUR, 2.0), (FIVE - HOUR + timedelta(minutes=59), 3.0)):
        snapshot(db, at, value)
    clock = [(FIVE + timedelta(minutes=1)).timestamp()]
    roller = HourlyRoller(lambda: clock[0])
    # 05:01: from the oldest snapshot's hour, a day per round; 04:00–05:00 waits for its last minute.
    assert roller.roll_due(db) == [FIVE - 30 * HOUR + n * HOUR for n in range(24)]
    assert roller.roll_due(db) == [FIVE - 6 * HOUR, FIVE - 5 * HOUR, FIVE - 4 * HOUR, FIVE - 3 * HOUR, FIVE - 2 * HOUR]
    assert hourly(db) == [(FIVE - 30 * HOUR, 1.0), (FIVE - 2 * HOUR, 2.0)]
    clock[0] = (FIVE + timedelta(minutes=2)).timestamp()
    assert roller.roll_due(db) == [FIVE - HOUR]
    assert roller.roll_due(db) == []
    # A new engine carries on after the last hour rolled, however long it was stopped.
    snapshot(db, FIVE + 3 * HOUR, 4.0)
    clock[0] = (FIVE + 7 * HOUR).timestamp()
    later = HourlyRoller(lambda: clock[0])
    assert later.roll_due(db) == [FIVE + n * HOUR for n in range(6)]
    assert hourly(db)[-2:] == [(FIVE - HOUR, 3.0), (FIVE + 3 * HOUR, 4.0)]


def test_with_no_snapshot_at_all_the_first_hour_is_the_next_to_end(
    db: psycopg.Connection[tuple[object, ...]],
) -> None:
    clock = [(FIVE + timedelta(minutes=30)).timestamp()]
    roller = HourlyRoller(lambda: clock[0])
    assert roller.roll_due(db) == []
    clock[0] = (FIVE + HOUR + timedelta(minutes=3)).timestamp()
    assert roller.roll_due(db) == [FIVE]
