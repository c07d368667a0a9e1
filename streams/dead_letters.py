"""Dead letters per window, for the province: `ops.dead_letters`.

Invalid input never reaches the stored-events stream and often has no valid area, so the history
thread counts the `dead_letters` table by arrival time (`received_at`) in each window's bounds and
hands the counts over; they are published for the root area(s) of the hierarchy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from streams.catalog import KpiValue
from streams.records import from_micros, to_micros
from streams.windows import WINDOWS

KPI_ID = "ops.dead_letters"


@dataclass(frozen=True, slots=True)
class DeadLetterCount:
    count: int
    last_received_us: int | None


def count_dead_letters(conn: psycopg.Connection[tuple[object, ...]], now_us: int) -> dict[str, DeadLetterCount]:
    """Dead letters received in each window's bounds at `now_us`."""
    counts: dict[str, DeadLetterCount] = {}
    for window in WINDOWS:
        start, end = window.bounds(now_us)
        row = conn.execute(
            "SELECT count(*), max(received_at) FROM dead_letters WHERE received_at >= %s AND received_at < %s",
            (from_micros(start), from_micros(end)),
        ).fetchone()
        assert row is not None
        count, last = row
        counts[window.name] = DeadLetterCount(int(str(count)), None if last is None else to_micros(last))  # type: ignore[arg-type]
    return counts


@dataclass
class DeadLetterWindows:
    """The counts as last read, and the windows whose count changed since the last frames."""

    counts: dict[str, DeadLetterCount] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)

    def update(self, counts: dict[str, DeadLetterCount]) -> None:
        for window, count in counts.items():
            if self.counts.get(window) != count:
                self.dirty.add(window)
        self.counts = dict(counts)

    def value(self, window: str) -> KpiValue:
        found = self.counts.get(window)
        return KpiValue(0 if found is None else found.count)

    def last_event_at(self, window: str) -> int | None:
        found = self.counts.get(window)
        return None if found is None else found.last_received_us

    def mark_all_dirty(self) -> None:
        self.dirty.update(self.counts)
