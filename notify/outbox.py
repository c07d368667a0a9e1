"""The outbox table `notification_outbox`: all of its SQL (written by the notifier, listed by the API)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg.types.json import Jsonb

from notify.notification import ClaimedRow, Notification

Connection = psycopg.Connection[tuple[object, ...]]
DeliveryState = Literal["pending", "delivered", "failed"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One row as the console lists it."""

    id: int
    receiver: str
    idempotency_key: str
    subject: str
    event: str
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_error: str
    delivered_at: datetime | None
    text_vi: str


_CLAIM = """
UPDATE notification_outbox o SET next_attempt_at = now() + make_interval(secs => %(lease)s)
FROM (
    SELECT c.id FROM notification_outbox c
    WHERE c.receiver = %(receiver)s AND c.state = 'pending' AND c.next_attempt_at <= now()
      -- a subject's events in order: none while an earlier one of the same subject is still pending
      AND NOT EXISTS (
          SELECT 1 FROM notification_outbox e
          WHERE e.receiver = c.receiver AND e.subject = c.subject AND e.state = 'pending' AND e.id < c.id
      )
    ORDER BY c.next_attempt_at, c.id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
) due
WHERE o.id = due.id
RETURNING o.id, o.receiver, o.idempotency_key, o.subject, o.event, o.payload, o.attempts, o.created_at
"""


class OutboxRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def write(self, notifications: Sequence[Notification], receivers: Sequence[str]) -> int:
        """One row per notification and receiver; a row already written (by another replica) stays as it is."""
        rows = [(r, n.key, n.subject, n.event, Jsonb(n.payload)) for n in notifications for r in receivers]
        if not rows:
            return 0
        with self._conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO notification_outbox (receiver, idempotency_key, subject, event, payload)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (receiver, idempotency_key) DO NOTHING",
                rows,
            )
            return max(cur.rowcount, 0)

    def claim(self, receiver: str, limit: int, lease_seconds: float) -> list[ClaimedRow]:
        """Due rows of `receiver`, held for `lease_seconds` (another replica skips them meanwhile; if this one
        dies, they are due again when the lease ends)."""
        rows = self._conn.execute(_CLAIM, {"receiver": receiver, "limit": limit, "lease": lease_seconds}).fetchall()
        claimed = [
            ClaimedRow(int(str(i)), str(rc), str(k), str(s), str(e), _dict(p), int(str(a)), _time(c))
            for i, rc, k, s, e, p, a, c in rows
        ]
        return sorted(claimed, key=lambda row: row.id)

    def delivered(self, row_id: int) -> None:
        self._conn.execute(
            "UPDATE notification_outbox SET state = 'delivered', delivered_at = now(), attempts = attempts + 1,"
            " last_attempt_at = now(), last_error = '' WHERE id = %s",
            (row_id,),
        )

    def failed_attempt(self, row_id: int, error: str, retry_in_seconds: float | None, retry_for_seconds: float) -> str:
        """Records a failed attempt: due again in `retry_in_seconds`, or `failed` for good when that is None
        (a refusal that a retry cannot change) or lies beyond `retry_for_seconds` of the row's creation."""
        row = self._conn.execute(
            "UPDATE notification_outbox SET attempts = attempts + 1, last_attempt_at = now(), last_error = %(error)s,"
            " state = CASE WHEN %(give_up)s"
            "   OR now() + make_interval(secs => %(delay)s) > created_at + make_interval(secs => %(retry_for)s)"
            "   THEN 'failed' ELSE 'pending' END,"
            " next_attempt_at = now() + make_interval(secs => %(delay)s)"
            " WHERE id = %(id)s RETURNING state",
            {
                "id": row_id,
                "error": error[:500],
                "give_up": retry_in_seconds is None,
                "delay": retry_in_seconds or 0.0,
                "retry_for": retry_for_seconds,
            },
        ).fetchone()
        return str(row[0]) if row else "gone"

    def postpone(self, row_ids: Sequence[int], delay_seconds: float) -> None:
        """Rows not attempted (their receiver just failed, or the notifier is stopping): due again later,
        no attempt counted."""
        if row_ids:
            self._conn.execute(
                "UPDATE notification_outbox SET next_attempt_at = now() + make_interval(secs => %s)"
                " WHERE id = ANY(%s) AND state = 'pending'",
                (delay_seconds, list(row_ids)),
            )

    def deliveries(
        self, state: DeliveryState | None, receiver: str | None, before_id: int | None, limit: int
    ) -> list[Delivery]:
        """Newest first, for the console."""
        rows = self._conn.execute(
            "SELECT id, receiver, idempotency_key, subject, event, state, attempts, created_at, next_attempt_at,"
            " last_attempt_at, last_error, delivered_at, coalesce(payload->>'text_vi', '')"
            " FROM notification_outbox"
            " WHERE (%(state)s::text IS NULL OR state = %(state)s)"
            "   AND (%(receiver)s::text IS NULL OR receiver = %(receiver)s)"
            "   AND (%(before)s::bigint IS NULL OR id < %(before)s)"
            " ORDER BY id DESC LIMIT %(limit)s",
            {"state": state, "receiver": receiver, "before": before_id, "limit": limit},
        ).fetchall()
        return [Delivery(*row) for row in rows]  # type: ignore[arg-type]


def _dict(value: object) -> dict[str, Any]:
    assert isinstance(value, dict)
    return value


def _time(value: object) -> datetime:
    assert isinstance(value, datetime)
    return value
