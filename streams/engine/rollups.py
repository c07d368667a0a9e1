"""The 1-minute rollups of the raw events: how a run of minutes is aggregated again.

Each rollup holds the raw events of [start, end) aggregated per minute (the column lists match
migration 0003). A run of minutes is rolled in the caller's transaction: its rows deleted, its raw
events aggregated afresh, so a late event only re-rolls its own minute.
"""

from __future__ import annotations

from collections.abc import Mapping

import psycopg
from psycopg import sql

# Each rollup: the raw events of [start, end) aggregated per minute; the column lists match 0003.
ROLLUPS: tuple[tuple[str, str], ...] = (
    (
        "payment_rollup_1m",
        "INSERT INTO payment_rollup_1m (bucket, area_code, sector, method, outcome, transactions, amount_vnd)"
        " SELECT time_bucket('1 minute', occurred_at), area_code, sector, method, outcome, count(*), sum(amount_vnd)"
        " FROM payment_transactions WHERE occurred_at >= %(start)s AND occurred_at < %(end)s"
        " GROUP BY 1, 2, 3, 4, 5",
    ),
    (
        "coverage_rollup_1m",
        "INSERT INTO coverage_rollup_1m (bucket, area_code, operator, technology, samples, usable,"
        " download_mbps_sum, latency_ms_sum)"
        " SELECT time_bucket('1 minute', occurred_at), area_code, operator, technology, count(*),"
        " count(*) FILTER (WHERE download_mbps >= 5 AND latency_ms <= 150 AND packet_loss_pct <= 2),"
        " sum(download_mbps), sum(latency_ms)"
        " FROM coverage_samples WHERE occurred_at >= %(start)s AND occurred_at < %(end)s GROUP BY 1, 2, 3, 4",
    ),
    (
        "dossier_rollup_1m",
        "INSERT INTO dossier_rollup_1m (bucket, area_code, status, channel, e_certified, deadline, events)"
        " SELECT time_bucket('1 minute', occurred_at), area_code, status, channel, e_certified,"
        " CASE WHEN due_at IS NULL THEN 'none' WHEN occurred_at <= due_at THEN 'on_time' ELSE 'late' END, count(*)"
        " FROM portal_dossier_events WHERE occurred_at >= %(start)s AND occurred_at < %(end)s"
        " GROUP BY 1, 2, 3, 4, 5, 6",
    ),
)
_MAX_RUN_MINUTES = 60
_DELETE = sql.SQL("DELETE FROM {} WHERE bucket >= %(start)s AND bucket < %(end)s")


def roll_up(conn: psycopg.Connection[tuple[object, ...]], params: Mapping[str, object]) -> None:
    """Every rollup of [params["start"], params["end"]) computed again."""
    for table, insert in ROLLUPS:
        conn.execute(_DELETE.format(sql.Identifier(table)), params)
        conn.execute(insert, params)


def minute_runs(minutes: list[int]) -> list[tuple[int, int]]:
    """Sorted minutes as [start, end) runs of consecutive minutes, an hour at most each (one transaction
    and one aggregation per run, so that a day to re-roll after a rebuild never becomes one huge statement)."""
    runs: list[tuple[int, int]] = []
    for m in minutes:
        if runs and runs[-1][1] == m and m - runs[-1][0] < _MAX_RUN_MINUTES:
            runs[-1] = (runs[-1][0], m + 1)
        else:
            runs.append((m, m + 1))
    return runs
