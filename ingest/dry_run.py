"""What the ingest would decide about one message, without keeping anything: `POST /api/v1/contract/validate`.

The same code as live traffic (MessageClassifier, then BatchWriter for re-sent ids and the database's own
refusals), inside a transaction that is always rolled back: a publisher learns whether a payload would be
stored, be a duplicate, or become a dead letter (with the reason and detail the dead letter would carry),
and the tables stay as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import psycopg

from ingest.records import AcceptedEvent, RawMessage
from ingest.registry.snapshot import RegistryCache, load_snapshot
from ingest.service.classify import IntakeRules, MessageClassifier
from ingest.service.store import storage_rejected
from ingest.storage.batch_writer import BatchWriter

Decision = Literal["stored", "duplicate", "dead_letter", "ignored"]


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    reason: str | None  # the dead-letter reason code, for `dead_letter`
    detail: str
    event_type: str | None = None
    publisher_id: str | None = None


def judge(
    conn: psycopg.Connection[tuple[object, ...]], topic: str, payload: bytes, rules: IntakeRules, now: datetime
) -> Verdict:
    """The ingest's decision on `payload` arriving on `topic` at `now`; the database is left unchanged."""
    if not payload:
        return Verdict(
            "ignored", None, "an empty message deletes a retained one: acknowledged, neither stored nor a dead letter"
        )
    registry = RegistryCache(lambda: load_snapshot(conn), clock=lambda: 0.0, refresh_seconds=float("inf"))
    raw = RawMessage(topic, payload, mid=0, qos=1, received_at=now, received_monotonic=0.0, generation=0)
    result = MessageClassifier(registry, rules).classify(raw)
    if not isinstance(result, AcceptedEvent):
        return Verdict("dead_letter", result.reason, result.detail, None, result.publisher_id)
    event_type, publisher_id = result.event_type.value, result.publisher_id
    writer = BatchWriter(conn)
    try:
        with conn.transaction(force_rollback=True):
            written = writer.write([result], [])
    except (psycopg.DataError, psycopg.IntegrityError) as exc:
        refused = storage_rejected(result, exc)
        return Verdict("dead_letter", refused.reason, refused.detail, event_type, publisher_id)
    if written.conflicts:
        (conflict,) = written.conflicts
        return Verdict("dead_letter", conflict.reason, conflict.detail, event_type, publisher_id)
    if sum(written.stored.values()) == 1:
        return Verdict(
            "stored", None, f"a valid {event_type} from {publisher_id}: it would be stored", event_type, publisher_id
        )
    return Verdict(
        "duplicate",
        None,
        f"this {event_type} from {publisher_id} is stored already: a re-send, stored once",
        event_type,
        publisher_id,
    )
