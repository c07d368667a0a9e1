"""Which rows a minute snapshot writes: what changed since the last one written, or everything.

Most values of a quiet area do not move from one minute to the next, and writing each of them every
minute is the bulk of the history. So a snapshot writes the values that changed or appeared since
the last snapshot *written* (not offered: the writer may skip one when behind), a row with
`held = false` for a value no longer held, and everything at the first snapshot of each full period
(an hour by default) and the first after a start — the anchor a reader carries values forward from
(the `kpi_history` function of migration 0013). The hourly rows rely on that anchor: every hour with
a snapshot starts with a full one, so the last row of a key within an hour is its last value in it.
The plan is pure logic; `store_snapshot` writes one in the caller's transaction, and the history
writer commits a plan only once that transaction has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

from streams.records import MICROS
from streams.windows import MINUTE_US

SnapshotRow = tuple[str, str, str, float | None, float | None, float | None, float | None]
Key = tuple[str, str, str]
Signature = tuple[float | None, float | None, float | None, float | None]
StoredRow = tuple[str, str, str, float | None, float | None, float | None, float | None, bool]  # ..., held


@dataclass(frozen=True, slots=True)
class SnapshotPlan:
    at_us: int
    full: bool
    rows: list[StoredRow]
    held_values: int  # the values the engine holds: what a full snapshot would write
    _written: dict[Key, Signature]


class SnapshotChanges:
    def __init__(self, full_every_minutes: int = 60) -> None:
        if full_every_minutes < 1 or 60 % full_every_minutes:
            raise ValueError("a full snapshot must come at the start of every hour: use a divisor of 60 minutes")
        self._period_us = full_every_minutes * MINUTE_US
        self._written: dict[Key, Signature] | None = None  # None: nothing written since the start
        self._last_period: int | None = None

    def plan(self, at_us: int, rows: list[SnapshotRow]) -> SnapshotPlan:
        """The rows to write for the values as they stand at `at_us` (a minute's start)."""
        current: dict[Key, Signature] = {(k, a, w): (v, n, d, t) for k, a, w, v, n, d, t in rows}
        full = self._written is None or at_us // self._period_us != self._last_period
        if full or self._written is None:
            stored = [(*key, *signature, True) for key, signature in current.items()]
        else:
            previous = self._written
            stored = [(*key, *sig, True) for key, sig in current.items() if previous.get(key) != sig]
            stored += [(*key, None, None, None, None, False) for key in previous if key not in current]
        return SnapshotPlan(at_us, full, stored, len(current), current)

    def committed(self, plan: SnapshotPlan) -> None:
        """The plan's transaction has committed: the next snapshot is compared with it."""
        self._written = plan._written
        self._last_period = plan.at_us // self._period_us

    def forget(self) -> None:
        """A write failed, perhaps after its commit: the next snapshot is full, whatever was stored."""
        self._written = None


_STAGE_SNAPSHOTS = "CREATE TEMP TABLE IF NOT EXISTS staging_kpi_snapshots (LIKE kpi_snapshots) ON COMMIT DELETE ROWS"
_COPY_SNAPSHOTS = (
    "COPY staging_kpi_snapshots (at, kpi, area_code, window_name, value, numerator, denominator, target, held)"
    " FROM STDIN"
)
_INSERT_SNAPSHOTS = (
    "INSERT INTO kpi_snapshots (at, kpi, area_code, window_name, value, numerator, denominator, target, held)"
    " SELECT at, kpi, area_code, window_name, value, numerator, denominator, target, held FROM staging_kpi_snapshots"
    " ON CONFLICT (kpi, area_code, window_name, at) DO UPDATE SET value = excluded.value,"
    " numerator = excluded.numerator, denominator = excluded.denominator, target = excluded.target,"
    " held = excluded.held"
)
# A full snapshot is the whole state of its minute: rows an earlier write left at that minute go.
_CLEAR_MINUTE = "DELETE FROM kpi_snapshots WHERE at = %s"
_RECORD_RUN = (
    "INSERT INTO kpi_snapshot_runs (at, full_snapshot, rows_written, values_held) VALUES (%s, %s, %s, %s)"
    " ON CONFLICT (at) DO UPDATE SET full_snapshot = kpi_snapshot_runs.full_snapshot OR excluded.full_snapshot,"
    " rows_written = kpi_snapshot_runs.rows_written + excluded.rows_written, values_held = excluded.values_held"
)


def store_snapshot(conn: psycopg.Connection[tuple[object, ...]], plan: SnapshotPlan) -> None:
    """Write the plan's rows and record the snapshot as taken, in the caller's transaction."""
    at = datetime.fromtimestamp(plan.at_us // MICROS, UTC)
    with conn.cursor() as cur:
        if plan.full:
            cur.execute(_CLEAR_MINUTE, (at,))
        cur.execute(_STAGE_SNAPSHOTS)
        with cur.copy(_COPY_SNAPSHOTS) as copy:
            for row in plan.rows:
                copy.write_row((at, *row))
        cur.execute(_INSERT_SNAPSHOTS)
        cur.execute(_RECORD_RUN, (at, plan.full, len(plan.rows), plan.held_values))
