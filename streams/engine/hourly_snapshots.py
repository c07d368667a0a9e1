"""Hourly snapshots: the last minute snapshot of each ended hour, per key (`kpi_snapshots_1h`).

History at 1-hour buckets and coarser reads these instead of sixty minute rows per hour. An hour is
rolled once it has ended and its last minute's snapshot has had time to be written; rolling it
again (after a restart) gives the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg

HOUR = timedelta(hours=1)
_SETTLE = timedelta(minutes=2)  # the last minute's snapshot is written within a few history rounds
_CATCH_UP_HOURS = 3  # at start: the hours that may have ended while the engine was down
_ROLL = (
    "INSERT INTO kpi_snapshots_1h (at, kpi, area_code, window_name, value, numerator, denominator, target)"
    " SELECT time_bucket('1 hour', at), kpi, area_code, window_name, last(value, at), last(numerator, at),"
    " last(denominator, at), last(target, at) FROM kpi_snapshots WHERE at >= %(start)s AND at < %(end)s"
    " GROUP BY 1, 2, 3, 4"
    " ON CONFLICT (kpi, area_code, window_name, at) DO UPDATE SET value = excluded.value,"
    " numerator = excluded.numerator, denominator = excluded.denominator, target = excluded.target"
)


def roll_hour(conn: psycopg.Connection[tuple[object, ...]], hour: datetime, hours: int = 1) -> None:
    """(Re)write the hourly rows of the hour starting at `hour` (and of the `hours` − 1 after it)."""
    conn.execute(_ROLL, {"start": hour, "end": hour + hours * HOUR})


class HourlyRoller:
    """Which hours are due; the clock is passed in (the history writer's)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._next: datetime | None = None

    def due(self) -> list[datetime]:
        now = datetime.fromtimestamp(self._clock(), UTC)
        ended = now.replace(minute=0, second=0, microsecond=0) - HOUR  # the last hour that has ended
        if now - (ended + HOUR) < _SETTLE:
            ended -= HOUR
        if self._next is None:
            self._next = ended - (_CATCH_UP_HOURS - 1) * HOUR
        hours = []
        while self._next <= ended:
            hours.append(self._next)
            self._next += HOUR
        return hours

    def failed(self, hour: datetime) -> None:
        """Roll `hour` (and what follows it) again at the next call."""
        if self._next is None or hour < self._next:
            self._next = hour
