"""Minute snapshots that write only what changed: the plan (pure), and history read back exactly as
from full snapshots (real TimescaleDB: the same snapshots written both ways, every read compared)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from deploy.stack.manager import LocalStack
from streams.engine.history_writer import HistoryWriter
from streams.engine.hourly_snapshots import roll_hour
from streams.engine.metrics import EngineMetrics
from streams.engine.snapshot_changes import SnapshotChanges, SnapshotRow
from streams.history_reads import read_history
from streams.windows import MINUTE_US
from tests.fixtures.stack import IsolatedDatabase, create_database, drop_database

HOUR_US = 60 * MINUTE_US
BASE_US = int(datetime(2026, 11, 26, 2, tzinfo=UTC).timestamp()) * 1_000_000


def test_the_first_snapshot_is_full_then_only_changes_and_what_is_no_longer_held() -> None:
    changes = SnapshotChanges(full_every_minutes=60)
    first = changes.plan(BASE_US, [("k", "67", "1h", 1.0, 1, 2, None), ("k", "660", "1h", 5.0, None, None, 9)])
    assert (first.full, len(first.rows), first.held_values) == (True, 2, 2)
    changes.committed(first)
    second = changes.plan(
        BASE_US + MINUTE_US, [("k", "67", "1h", 1.0, 1, 2, None), ("k", "661", "5m", 2.0, None, None, None)]
    )
    assert not second.full
    assert sorted(second.rows, key=repr) == sorted(
        [("k", "661", "5m", 2.0, None, None, None, True), ("k", "660", "1h", None, None, None, None, False)], key=repr
    )
    # Not committed (the write failed): the next plan is still against the first snapshot.
    third = changes.plan(BASE_US + 2 * MINUTE_US, [("k", "67", "1h", 1.0, 1, 2, None)])
    assert third.rows == [("k", "660", "1h", None, None, None, None, False)]
    changes.committed(third)
    assert changes.plan(BASE_US + HOUR_US, [("k", "67", "1h", 1.0, 1, 2, None)]).full  # a new hour: full
    changes.forget()  # a write failed after its commit, perhaps: the next one is full
    assert changes.plan(BASE_US + 3 * MINUTE_US, [("k", "67", "1h", 1.0, 1, 2, None)]).full


def test_a_full_snapshot_must_start_every_hour() -> None:
    for minutes in (7, 0, 90):
        with pytest.raises(ValueError, match="divisor of 60"):
            SnapshotChanges(minutes)
    assert SnapshotChanges(15).plan(BASE_US, []).full


@pytest.fixture
def two_databases(stack: LocalStack, template_database: str) -> Iterator[tuple[IsolatedDatabase, IsolatedDatabase]]:
    full, changed = create_database(stack, template_database), create_database(stack, template_database)
    yield full, changed
    drop_database(stack, full.name)
    drop_database(stack, changed.name)


def snapshots(seed: int) -> Iterator[tuple[int, list[SnapshotRow] | None]]:
    """Three and a half hours of minute snapshots of 30 keys: most unchanged, some changing, appearing
    and vanishing, an engine down for 25 minutes (None: a restart), and a minute written twice."""
    draw = random.Random(seed)
    keys = [(kpi, area, window) for kpi in ("payments.tx_count", "portal.e_cert_rate", "coverage.usable_share")
            for area in ("67", "660", "24611", "2461101", "663") for window in ("5m", "1h")]  # fmt: skip
    values: dict[tuple[str, str, str], tuple[float | None, float | None, float | None, float | None]] = {}
    for minute in range(210):
        if 100 <= minute < 125:
            if minute == 100:
                yield minute, None
            continue
        moved = []
        for key in keys:
            roll = draw.random()
            if key not in values and roll < 0.3:
                values[key] = (float(draw.randint(0, 100)), float(draw.randint(0, 9)), 10.0, 70.0)
                moved.append(key)
            elif key in values and roll < 0.04:
                del values[key]
            elif key in values and roll < 0.25:
                values[key] = (values[key][0] + draw.choice((-1.0, 1.0)), None, None, values[key][3])
                moved.append(key)
        yield minute, [(*key, *signature) for key, signature in values.items()]
        if minute == 140:
            # The stop's snapshot of the minute under way, then the start's, without a value the stop
            # had just written: the full snapshot is the minute's whole state.
            yield minute, None
            for key in moved[:2]:
                del values[key]
            yield minute, [(*key, *signature) for key, signature in values.items()]


def write(database: IsolatedDatabase, seed: int, full_every: int) -> int:
    writer = HistoryWriter(database.connect, EngineMetrics(), full_snapshot_minutes=full_every)
    for minute, rows in snapshots(seed):
        if rows is None:  # the engine restarts: a new writer, nothing remembered
            writer.close()
            writer = HistoryWriter(database.connect, EngineMetrics(), full_snapshot_minutes=full_every)
            continue
        writer.offer_snapshot(BASE_US + minute * MINUTE_US, rows)
        writer.write_pending()
    writer.close()
    with database.connect() as conn:
        row = conn.execute("SELECT count(*) FROM kpi_snapshots").fetchone()
        assert row is not None
        return int(str(row[0]))


@pytest.mark.integration
@pytest.mark.parametrize("seed", [1, 2])
def test_history_from_changes_equals_history_from_full_snapshots(
    two_databases: tuple[IsolatedDatabase, IsolatedDatabase], seed: int
) -> None:
    full_db, changed_db = two_databases
    full_rows, changed_rows = write(full_db, seed, 1), write(changed_db, seed, 60)
    assert changed_rows * 3 < full_rows  # a quiet history: most values did not move
    base = datetime.fromtimestamp(BASE_US / 1e6, UTC)
    with full_db.connect() as full, changed_db.connect() as changed:
        for conn in (full, changed):  # the first two hours rolled; the rest read from the minutes
            roll_hour(conn, base, 2)
        keys = full.execute("SELECT DISTINCT kpi, area_code, window_name FROM kpi_snapshots").fetchall()
        assert len(keys) == 30
        ranges = [
            (base, base + timedelta(hours=4)),
            (base + timedelta(minutes=17), base + timedelta(minutes=203)),  # inside hours, across the outage
            (base + timedelta(minutes=95), base + timedelta(minutes=150)),
            (base + timedelta(minutes=141), base + timedelta(minutes=142)),
        ]
        compared = 0
        for kpi, area, window in keys:
            for start, end in ranges:
                for bucket in (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15),
                               timedelta(hours=1), timedelta(hours=6), timedelta(days=1)):  # fmt: skip
                    key = (str(kpi), str(area), str(window))
                    expected = read_history(full, key, start, end, bucket)
                    assert read_history(changed, key, start, end, bucket) == expected, (key, start, end, bucket)
                    compared += len(expected)
        assert compared > 10_000
        assert hourly(full) == hourly(changed)


def hourly(conn: psycopg.Connection[tuple[object, ...]]) -> list[tuple[object, ...]]:
    return conn.execute("SELECT * FROM kpi_snapshots_1h ORDER BY kpi, area_code, window_name, at").fetchall()
