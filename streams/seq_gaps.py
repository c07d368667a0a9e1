"""The `seq` numbers a publisher skipped in a time range: what `ops.completeness` counts as missing,
listed, and the same count per publisher (received, expected, last received) for the publishers list."""

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


_DELIVERY = (
    "SELECT publisher_id, count(seq), max(seq) - min(seq) + 1, max(received_at) FROM ("
    "  SELECT publisher_id, seq, received_at FROM portal_dossier_events"
    "  WHERE occurred_at >= %(start)s AND occurred_at < %(end)s"
    "  UNION ALL SELECT publisher_id, seq, received_at FROM payment_transactions"
    "  WHERE occurred_at >= %(start)s AND occurred_at < %(end)s"
    "  UNION ALL SELECT publisher_id, seq, received_at FROM coverage_samples"
    "  WHERE occurred_at >= %(start)s AND occurred_at < %(end)s) AS stored GROUP BY publisher_id"
)


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one publisher delivered in a time range, by event time (as `ops.completeness` counts it)."""

    received: int  # stored events with a `seq`
    expected: int | None  # max seq − min seq + 1 over them; None without any `seq`
    last_received_at: datetime  # its newest stored event's arrival, `seq` or not

    @property
    def completeness(self) -> float | None:
        """Received ÷ expected, in %."""
        return None if not self.expected else 100 * self.received / self.expected


def deliveries(conn: psycopg.Connection[tuple[object, ...]], start: datetime, end: datetime) -> dict[str, Delivery]:
    """Per publisher with a stored event in [start, end) by event time."""
    found: dict[str, Delivery] = {}
    for publisher, received, expected, last in conn.execute(_DELIVERY, {"start": start, "end": end}):
        assert isinstance(last, datetime)
        found[str(publisher)] = Delivery(int(str(received)), None if expected is None else int(str(expected)), last)
    return found


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
