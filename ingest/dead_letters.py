"""Dead letters: list them, and replay them once their cause is fixed (a publisher or area added).

A replay runs the stored bytes through the same classification and storage as live traffic, with the
time they first arrived (so the future-skew rule judges them as it did then) but the age limit of
now (`too_old`: what retention would drop at once is not stored now either). Stored, or found already
stored with the same fields, the dead letter is resolved; refused again (a re-send of a stored id
with other fields is a `conflicting_duplicate`), it stays open with the new outcome noted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import psycopg
from psycopg.rows import class_row

from ingest.errors import NotFound
from ingest.records import AcceptedEvent, RawMessage
from ingest.registry.snapshot import RegistryCache, load_snapshot
from ingest.service.classify import IntakeRules, MessageClassifier
from ingest.storage.batch_writer import BatchWriter
from ingest.stored_events import StoredRecord

ReplayStatus = Literal["stored", "duplicate", "rejected", "already_resolved"]


@dataclass(frozen=True, slots=True)
class DeadLetterRecord:
    id: int
    received_at: datetime
    topic: str
    publisher_id: str | None
    reason: str
    detail: str
    payload_bytes: int
    resolved_at: datetime | None
    last_replay_at: datetime | None
    last_replay_outcome: str | None


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    dead_letter_id: int
    status: ReplayStatus
    detail: str
    # What a replay stored, for the stored-events stream (as ingest's BatchOutcome carries it).
    records: dict[str, list[StoredRecord]] = field(default_factory=dict)
    transaction_ids: tuple[int, ...] = ()


class DeadLetterNotFound(NotFound):
    def __init__(self, dead_letter_id: int) -> None:
        super().__init__(f"dead letter {dead_letter_id} does not exist", kind="dead letter", key=dead_letter_id)
        self.dead_letter_id = dead_letter_id


_COLUMNS = (
    "id, received_at, topic, publisher_id, reason, detail, length(payload) AS payload_bytes,"
    " resolved_at, last_replay_at, last_replay_outcome"
)


class DeadLetterRepository:
    def __init__(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        self._conn = conn

    def find(
        self,
        *,
        reason: str | None = None,
        publisher_id: str | None = None,
        include_resolved: bool = False,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[DeadLetterRecord]:
        """Newest first; page with `before_id` (the last id of the previous page)."""
        cur = self._conn.cursor(row_factory=class_row(DeadLetterRecord))
        return cur.execute(
            f"SELECT {_COLUMNS} FROM dead_letters"  # noqa: S608 -- constant column list
            " WHERE (%(reason)s::text IS NULL OR reason = %(reason)s)"
            " AND (%(publisher)s::text IS NULL OR publisher_id = %(publisher)s)"
            " AND (%(all)s OR resolved_at IS NULL)"
            " AND (%(before)s::bigint IS NULL OR id < %(before)s)"
            " ORDER BY id DESC LIMIT %(limit)s",
            {"reason": reason, "publisher": publisher_id, "all": include_resolved, "before": before_id,
             "limit": limit},
        ).fetchall()  # fmt: skip

    def after(self, after_id: int, limit: int = 500) -> list[DeadLetterRecord]:
        """Dead letters newer than `after_id`, oldest first (for a live tail)."""
        cur = self._conn.cursor(row_factory=class_row(DeadLetterRecord))
        return cur.execute(
            f"SELECT {_COLUMNS} FROM dead_letters WHERE id > %s ORDER BY id LIMIT %s",  # noqa: S608 -- constant column list
            (after_id, limit),
        ).fetchall()

    def latest_id(self) -> int:
        row = self._conn.execute("SELECT coalesce(max(id), 0) FROM dead_letters").fetchone()
        return int(str(row[0])) if row else 0

    def open_ids(self, reason: str | None = None) -> list[int]:
        rows = self._conn.execute(
            "SELECT id FROM dead_letters WHERE resolved_at IS NULL"
            " AND (%(reason)s::text IS NULL OR reason = %(reason)s) ORDER BY id",
            {"reason": reason},
        ).fetchall()
        return [int(str(r[0])) for r in rows]

    def lock_for_replay(self, dead_letter_id: int) -> tuple[str, bytes, datetime, datetime | None] | None:
        row = self._conn.execute(
            "SELECT topic, payload, received_at, resolved_at FROM dead_letters WHERE id = %s FOR UPDATE",
            (dead_letter_id,),
        ).fetchone()
        if row is None:
            return None
        topic, payload, received_at, resolved_at = row
        assert isinstance(topic, str)
        assert isinstance(payload, bytes)
        assert isinstance(received_at, datetime)
        return topic, payload, received_at, resolved_at if isinstance(resolved_at, datetime) else None

    def record_replay(self, dead_letter_id: int, outcome: str, *, resolved: bool) -> None:
        self._conn.execute(
            "UPDATE dead_letters SET last_replay_at = now(), last_replay_outcome = %s,"
            " resolved_at = CASE WHEN %s THEN now() ELSE resolved_at END WHERE id = %s",
            (outcome, resolved, dead_letter_id),
        )


def replay_dead_letter(
    conn: psycopg.Connection[tuple[object, ...]], dead_letter_id: int, rules: IntakeRules
) -> ReplayOutcome:
    """Replay one dead letter in one transaction (the event and the dead letter's state together)."""
    registry = RegistryCache(lambda: load_snapshot(conn), clock=lambda: 0.0, refresh_seconds=float("inf"))
    classifier = MessageClassifier(registry, rules)
    writer = BatchWriter(conn)
    repository = DeadLetterRepository(conn)
    with conn.transaction():
        locked = repository.lock_for_replay(dead_letter_id)
        if locked is None:
            raise DeadLetterNotFound(dead_letter_id)
        topic, payload, received_at, resolved_at = locked
        if resolved_at is not None:
            return ReplayOutcome(dead_letter_id, "already_resolved", f"resolved at {resolved_at.isoformat()}")
        raw = RawMessage(topic, payload, mid=0, qos=1, received_at=received_at, received_monotonic=0.0, generation=0)
        result = classifier.classify_batch([raw], now=datetime.now(UTC))[0]
        if not isinstance(result, AcceptedEvent):
            repository.record_replay(dead_letter_id, f"rejected: {result.reason}", resolved=False)
            return ReplayOutcome(dead_letter_id, "rejected", f"{result.reason}: {result.detail}")
        # A conflicting duplicate's letter has this dead letter's topic and bytes: the writer adds nothing.
        written = writer.write([result], [])
        if written.conflicts:
            (conflict,) = written.conflicts
            repository.record_replay(dead_letter_id, f"rejected: {conflict.reason}", resolved=False)
            return ReplayOutcome(dead_letter_id, "rejected", f"{conflict.reason}: {conflict.detail}")
        status: ReplayStatus = "stored" if sum(written.stored.values()) == 1 else "duplicate"
        repository.record_replay(dead_letter_id, status, resolved=True)
        detail = f"{result.event_type.value} from {result.publisher_id}"
        return ReplayOutcome(dead_letter_id, status, detail, written.records, written.transaction_ids)
