"""Re-sent event ids: the same id with the same fields is a duplicate, with other fields a dead letter.

"The same fields" means the decoded event, never its bytes: key order, white space and the spelling
of a time (`+07:00` or `Z`) do not matter. Within one batch the first message of an id wins; across
batches the table `event_ids` (migration 0011, which says why a plain table and how it keeps "stored
once" across processes and crashes) knows each id a publisher used within the horizon, and the
stored row it became. A conflicting message never changes the stored row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from ingest.contract import PublisherStatus, RejectReason
from ingest.contract.errors import MAX_DETAIL_CHARS, clip
from ingest.records import AcceptedEvent, DeadLetter
from ingest.storage.event_tables import EventTable

IdKey = tuple[str, UUID]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """What the detail of a `conflicting_duplicate` names: the stored row's type and times."""

    event_type: str
    occurred_at: datetime
    received_at: datetime
    fields: tuple[Any, ...] | None  # None: the row is gone (retention dropped its chunk)


@dataclass(frozen=True, slots=True)
class Resends:
    """The messages of a batch that must not be stored: equal re-sends and conflicting ones."""

    duplicates: int = 0
    conflicts: tuple[DeadLetter, ...] = ()

    def __add__(self, other: Resends) -> Resends:
        return Resends(self.duplicates + other.duplicates, self.conflicts + other.conflicts)


def id_of(accepted: AcceptedEvent) -> IdKey:
    event = accepted.event
    assert not isinstance(event, PublisherStatus)  # status has no id, and no row in event_ids
    return accepted.publisher_id, event.event_id


@cache
def _compared_positions(table: EventTable) -> tuple[int, ...]:
    """The columns that come from the event (all but `received_at`, which is ours)."""
    return tuple(i for i, column in enumerate(table.columns) if column != "received_at")


def fields_of(table: EventTable, accepted: AcceptedEvent) -> tuple[Any, ...]:
    row = table.to_row(accepted.event, accepted.publisher_id, accepted.received_at)
    return tuple(row[i] for i in _compared_positions(table))


def split_repeats(batch: Sequence[AcceptedEvent]) -> tuple[list[AcceptedEvent], list[AcceptedEvent]]:
    """The first message of each id in the batch (in arrival order), and the later ones."""
    keys = [id_of(accepted) for accepted in batch]
    if len(set(keys)) == len(keys):
        return list(batch), []  # the common case: every id once
    seen: set[IdKey] = set()
    first: list[AcceptedEvent] = []
    later: list[AcceptedEvent] = []
    for key, accepted in zip(keys, batch, strict=True):
        if key in seen:
            later.append(accepted)
        else:
            seen.add(key)
            first.append(accepted)
    return first, later


def judge_later(
    table: EventTable,
    later: Sequence[AcceptedEvent],
    first: Sequence[AcceptedEvent],
    taken: Mapping[IdKey, StoredEvent],
) -> Resends:
    """The later messages of an id, each against the stored row when the id was taken before this
    batch, else against the batch's first message of it (stored by this batch)."""
    if not later:
        return Resends()
    firsts = {id_of(accepted): accepted for accepted in first}
    return _judged(table, [(a, taken.get(id_of(a)) or _as_stored(table, firsts[id_of(a)])) for a in later])


def record_ids(event_type: str, staging: sql.Identifier) -> sql.Composed:
    """The statement that records the ids of `staging` in `event_ids`; it fails (UniqueViolation) on an
    id recorded before. Ids go in sorted, so two batches that share ids wait on each other in one
    order, never crosswise."""
    return sql.SQL(
        "INSERT INTO event_ids (publisher_id, event_id, event_type, occurred_at, received_at)"
        " SELECT publisher_id, event_id, {}, occurred_at, received_at FROM {} ORDER BY publisher_id, event_id"
    ).format(sql.Literal(event_type), staging)


def claim_ids(
    cur: psycopg.Cursor[tuple[object, ...]], table: EventTable, staging: sql.Identifier, batch: Sequence[AcceptedEvent]
) -> tuple[Resends, dict[IdKey, StoredEvent]]:
    """Record the new ids of the batch (one message per id, in `staging`), and take out of `staging`
    every message whose id was recorded before: a duplicate when its fields equal the stored row's,
    else a dead letter. Also returns the stored rows of those ids."""
    cur.execute(
        sql.SQL("{} ON CONFLICT (publisher_id, event_id) DO NOTHING RETURNING publisher_id, event_id").format(
            record_ids(batch[0].event_type.value, staging)
        ),
        binary=True,
    )
    claimed = {(str(pid), eid) for pid, eid in cur.fetchall() if isinstance(eid, UUID)}
    taken = _stored_events(cur, table, [id_of(accepted) for accepted in batch if id_of(accepted) not in claimed])
    # An id whose row retention pruned in between stays in: the event table's key still decides.
    repeated = [accepted for accepted in batch if id_of(accepted) in taken]
    if not repeated:
        return Resends(), taken
    publishers, event_ids = zip(*(id_of(accepted) for accepted in repeated), strict=True)
    cur.execute(
        sql.SQL(
            "DELETE FROM {} WHERE (publisher_id, event_id) IN (SELECT * FROM unnest(%s::text[], %s::uuid[]))"
        ).format(staging),
        (list(publishers), list(event_ids)),
    )
    return _judged(table, [(accepted, taken[id_of(accepted)]) for accepted in repeated]), taken


def compare(table: EventTable, accepted: AcceptedEvent, stored: StoredEvent) -> DeadLetter | None:
    """None when the message is the stored event again; else its `conflicting_duplicate` letter."""
    mine = fields_of(table, accepted)
    if stored.event_type == accepted.event_type.value and stored.fields == mine:
        return None
    if stored.fields is None or stored.event_type != accepted.event_type.value:
        differs = "the stored row is no longer kept" if stored.fields is None else "another event type"
    else:
        names = [table.columns[i] for i in _compared_positions(table)]
        differs = ", ".join(n for n, a, b in zip(names, mine, stored.fields, strict=True) if a != b)
    publisher_id, event_id = id_of(accepted)
    detail = (
        f"event_id {event_id} of publisher {publisher_id} is already stored: {stored.event_type}, occurred_at "
        f"{_utc(stored.occurred_at)}, received_at {_utc(stored.received_at)}; this message differs ({differs}). "
        "The stored event is unchanged; a correction needs a new event_id"
    )
    return DeadLetter(
        received_at=accepted.received_at,
        topic=accepted.raw.topic,
        publisher_id=publisher_id,
        reason=RejectReason.CONFLICTING_DUPLICATE.value,
        detail=clip(detail, MAX_DETAIL_CHARS),
        payload=accepted.raw.payload,
    )


def _judged(table: EventTable, pairs: Sequence[tuple[AcceptedEvent, StoredEvent]]) -> Resends:
    letters = [compare(table, accepted, reference) for accepted, reference in pairs]
    conflicts = tuple(letter for letter in letters if letter is not None)
    return Resends(len(letters) - len(conflicts), conflicts)


def _as_stored(table: EventTable, accepted: AcceptedEvent) -> StoredEvent:
    event = accepted.event
    assert not isinstance(event, PublisherStatus)
    return StoredEvent(accepted.event_type.value, event.occurred_at, accepted.received_at, fields_of(table, accepted))


def _stored_events(
    cur: psycopg.Cursor[tuple[object, ...]], table: EventTable, keys: Sequence[IdKey]
) -> dict[IdKey, StoredEvent]:
    compared = [table.columns[i] for i in _compared_positions(table)]
    cur.execute(
        sql.SQL(
            "SELECT e.publisher_id, e.event_id, e.event_type, e.occurred_at, e.received_at, h.event_id IS NOT NULL, {}"
            " FROM event_ids e LEFT JOIN {} h"
            "  ON h.occurred_at = e.occurred_at AND h.event_id = e.event_id AND h.publisher_id = e.publisher_id"
            " WHERE (e.publisher_id, e.event_id) IN (SELECT * FROM unnest(%s::text[], %s::uuid[]))"
        ).format(sql.SQL(", ").join(sql.Identifier("h", c) for c in compared), sql.Identifier(table.name)),
        ([k[0] for k in keys], [k[1] for k in keys]),
        binary=True,
    )
    found: dict[IdKey, StoredEvent] = {}
    for publisher_id, event_id, event_type, occurred_at, received_at, present, *fields in cur.fetchall():
        assert isinstance(event_id, UUID)
        assert isinstance(occurred_at, datetime)
        assert isinstance(received_at, datetime)
        found[(str(publisher_id), event_id)] = StoredEvent(
            str(event_type), occurred_at, received_at, tuple(fields) if present else None
        )
    return found


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()
