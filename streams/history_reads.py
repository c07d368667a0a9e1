"""A KPI's history: the last snapshot of each time bucket (all SQL of reading `kpi_snapshots*` is here).

Buckets of an hour or more read the hourly rows (`kpi_snapshots_1h`, one per ended hour) up to the
last hour rolled or the hour that holds `end`, whichever is earlier, and the minute rows after it;
finer buckets read the minute rows. Either way a bucket's value is the last minute snapshot in it
that held the key; minute rows are carried forward to the minutes that did not change them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

HistoryRow = tuple[object, ...]  # bucket start, value, numerator, denominator, target
_HOUR = timedelta(hours=1)
# Minute snapshots hold what changed (migration 0013): `kpi_history` carries each value forward from
# its last row since the last full snapshot, for each minute a snapshot was taken.
_FROM_MINUTES = (
    "SELECT bucket, value, numerator, denominator, target"
    " FROM kpi_history(%(kpi)s, %(area)s, %(window)s, %(start)s, %(end)s, %(bucket)s)"
)
_FROM_HOURS = (
    "WITH rolled AS (SELECT least(time_bucket('1 hour', %(end)s::timestamptz),"
    "  coalesce((SELECT max(at) + interval '1 hour' FROM kpi_snapshots_1h), '-infinity')) AS split)"
    " SELECT time_bucket(%(bucket)s, at) AS b, last(value, at), last(numerator, at), last(denominator, at),"
    " last(target, at) FROM ("
    "  SELECT at, value, numerator, denominator, target FROM kpi_snapshots_1h, rolled"
    "  WHERE kpi = %(kpi)s AND area_code = %(area)s AND window_name = %(window)s"
    "  AND at >= time_bucket('1 hour', %(start)s::timestamptz) AND at < rolled.split"
    "  UNION ALL SELECT m.bucket, m.value, m.numerator, m.denominator, m.target FROM rolled,"
    "  kpi_history(%(kpi)s, %(area)s, %(window)s, greatest(%(start)s, rolled.split), %(end)s, '1 minute') AS m"
    " ) AS snapshots GROUP BY b ORDER BY b"
)


def read_history(
    conn: psycopg.Connection[tuple[object, ...]],
    key: tuple[str, str, str],
    start: datetime,
    end: datetime,
    bucket: timedelta,
) -> list[HistoryRow]:
    """(kpi, area, window) over [start, end), one row per bucket that has a snapshot. From hourly rows
    the first bucket counts its whole first hour, even if `start` falls inside it: its value is the
    same, the last snapshot of the hour, unless no snapshot was taken after `start` in that hour."""
    kpi, area, window = key
    params = {"kpi": kpi, "area": area, "window": window, "start": start, "end": end, "bucket": bucket}
    hourly = bucket >= _HOUR and bucket % _HOUR == timedelta(0)
    return conn.execute(_FROM_HOURS if hourly else _FROM_MINUTES, params).fetchall()
