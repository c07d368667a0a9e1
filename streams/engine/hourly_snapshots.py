"""Hourly snapshots: the last minute snapshot of each ended hour, per key (`kpi_snapshots_1h`).

History at 1-hour buckets and coarser reads these instead of sixty minute rows per hour. An hour is
rolled once it has ended and its last minute's snapshot has had time to be written. The roller
carries on from the last hour rolled (or the oldest minute snapshot, the first time), a day at most
per round, so that neither a first start on old history nor a long outage leaves an hour behind;
rolling an hour again gives the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg

HOUR = timedelta(hours=1)
_SETTLE = timedelta(minutes=2)  # the last minute's snapshot is written within a few history rounds
_HOURS_PER_ROUND = 24
_ROLL = (
    "INSERT INTO kpi_snapshots_1h (at, kpi, area_code, window_name, value, numerator, denominator, target)"
    " SELECT time_bucket('1 hour', at), kpi, area_code, window_name, last(value, at) FILTER (WHERE held),"
    " last(numerator, at) FILTER (WHERE held), last(denominator, at) FILTER (WHERE held),"
    " last(target, at) FILTER (WHERE held) FROM kpi_snapshots WHERE at >= %(start)s AND at < %(end)s"
    " GROUP BY 1, 2, 3, 4 HAVING bool_or(held)"
    " ON CONFLICT (kpi, area_code, window_name, at) DO UPDATE SET value = excluded.value,"
    " numerator = excluded.numerator, denominator = excluded.denominator, target = excluded.target"
)
_RESUME_FROM = (
    "SELECT coalesce((SELECT max(at) + interval '1 hour' FROM kpi_snapshots_1h),"
    " (SELECT time_bucket('1 hour', min(at)) FROM kpi_snapshots))"
)


def roll_hour(conn: psycopg.Connection[tuple[object, ...]], hour: datetime, hours: int = 1) -> None:
    """(Re)write the hourly rows of the hour starting at `hour` (and of the `hours` − 1 after it)."""
    conn.execute(_ROLL, {"start": hour, "end": hour + hours * HOUR})


class HourlyRoller:
    """Rolls the hours that are due; the clock is passed in (the history writer's)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._next: datetime | None = None  # the first hour not rolled yet; None: ask the database

    def roll_due(self, conn: psycopg.Connection[tuple[object, ...]]) -> list[datetime]:
        """Roll what is due (a day of hours at most); the hours rolled."""
        hours = self.due(conn)
        if hours:
            try:
                roll_hour(conn, hours[0], len(hours))
            except psycopg.Error:
                self._next = hours[0]  # again at the next round
                raise
        return hours

    def due(self, conn: psycopg.Connection[tuple[object, ...]]) -> list[datetime]:
        now = datetime.fromtimestamp(self._clock(), UTC)
        last_ended = now.replace(minute=0, second=0, microsecond=0) - HOUR
        if now - (last_ended + HOUR) < _SETTLE:
            last_ended -= HOUR
        if self._next is None:
            row = conn.execute(_RESUME_FROM).fetchone()
            resume = None if row is None else row[0]
            self._next = resume if isinstance(resume, datetime) else last_ended + HOUR
        hours: list[datetime] = []
        while self._next <= last_ended and len(hours) < _HOURS_PER_ROUND:
            hours.append(self._next)
            self._next += HOUR
        return hours
