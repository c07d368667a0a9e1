"""The `seq` numbers a publisher skipped in a time range: what `ops.completeness` counts as missing, listed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

_GAPS = (
    "SELECT seq + 1, next_seq - 1 FROM ("
    " SELECT seq, lead(seq) OVER (ORDER BY seq) AS next_seq FROM ("
    "  SELECT seq FROM portal_dossier_events WHERE publisher_id = %(publisher)s AND seq IS NOT NULL"
    "  AND occurred_at >= %(start)s AND occurred_at < %(end)s"
    "  UNION SELECT seq FROM payment_transactions WHERE publisher_id = %(publisher)s AND seq IS NOT NULL"
    "  AND occurred_at >= %(start)s AND occurred_at < %(end)s"
    "  UNION SELECT seq FROM coverage_samples WHERE publisher_id = %(publisher)s AND seq IS NOT NULL"
    "  AND occurred_at >= %(start)s AND occurred_at < %(end)s) AS received) AS neighbours"
    " WHERE next_seq > seq + 1 ORDER BY 1 LIMIT %(limit)s"
)


@dataclass(frozen=True, slots=True)
class SeqGap:
    first: int  # the first missing seq
    last: int  # the last missing seq (inclusive)

    @property
    def missing(self) -> int:
        return self.last - self.first + 1


def seq_gaps(
    conn: psycopg.Connection[tuple[object, ...]], publisher_id: str, start: datetime, end: datetime, limit: int = 1000
) -> list[SeqGap]:
    """Runs of missing `seq` between the lowest and highest received in [start, end), by event time."""
    rows = conn.execute(_GAPS, {"publisher": publisher_id, "start": start, "end": end, "limit": limit}).fetchall()
    return [SeqGap(int(str(first)), int(str(last))) for first, last in rows]
