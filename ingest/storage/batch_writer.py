"""Writes one batch of accepted events and dead letters in one transaction.

Binary COPY into per-connection staging tables; each event's id recorded in `event_ids`, where a
re-sent id is recognised (`resends.py`: the same fields a duplicate, others a dead letter
`conflicting_duplicate`); then `INSERT … SELECT … ON CONFLICT DO NOTHING` into the hypertables, whose
unique keys absorb what is left (a re-send past the horizon under the same time). The caller
acknowledges the batch's messages only after `write` returned.

Re-sent ids are rare, so a batch is first written as if every id were new: the ids go into
`event_ids` by a plain INSERT in the same statement as the events (no round trip, and no speculative
insertion per row, more). When an id was there before, that statement fails, the transaction rolls
back, and the batch is written again carefully: the new ids recorded, the others compared.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from ingest.contract import EventType
from ingest.records import AcceptedEvent, DeadLetter
from ingest.storage.event_tables import EVENT_TABLES, EventTable
from ingest.storage.resends import (
    IdKey,
    Resends,
    StoredEvent,
    claim_ids,
    judge_later,
    record_ids,
    split_repeats,
)
from ingest.stored_events import RECORD_TYPES, RecordType, StoredRecord

_DEAD_LETTER_COLUMNS = ("received_at", "topic", "publisher_id", "reason", "detail", "payload", "fingerprint")
_DEAD_LETTER_TYPES = ("timestamptz", "text", "text", "text", "text", "bytea", "bytea")


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    stored: Counter[EventType] = field(default_factory=Counter)
    duplicates: Counter[EventType] = field(default_factory=Counter)
    dead_letters_stored: int = 0
    dead_letters_repeated: int = 0
    # Every dead letter of the batch by reason, those the writer made itself (conflicting
    # duplicates) included; a repeated one counts too: the metric counts messages.
    dead_letter_reasons: Counter[str] = field(default_factory=Counter)
    conflicts: tuple[DeadLetter, ...] = ()  # the `conflicting_duplicate` letters the writer made
    # Every dead letter of the batch (those given and those the writer made), for the publishers' feedback.
    dead_letters: tuple[DeadLetter, ...] = ()
    # The records of the rows actually inserted (not the duplicates), per event type.
    records: dict[str, list[StoredRecord]] = field(default_factory=dict)
    # The transactions that inserted them: a KPI rebuild compares these with its database snapshot.
    transaction_ids: tuple[int, ...] = ()


def _staging_name(table: str) -> sql.Identifier:
    return sql.Identifier(f"staging_{table}")


class BatchWriter:
    """Owns nothing but the staging tables of the connection it is given."""

    def __init__(self, conn: psycopg.Connection[tuple[object, ...]], *, resend_check: bool = True) -> None:
        self._conn = conn
        self._resend_check = resend_check
        # Statements built once: composing them for every batch cost more CPU than the re-send check adds.
        self._statements: dict[tuple[str, bool], bytes] = {}
        self._copies = {
            t.name: sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)")
            .format(_staging_name(t.name), sql.SQL(", ").join(map(sql.Identifier, t.columns)))
            .as_bytes(conn)
            for t in EVENT_TABLES.values()
        }
        with conn.transaction():
            for table in EVENT_TABLES.values():
                conn.execute(
                    sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {}) ON COMMIT DELETE ROWS").format(
                        _staging_name(table.name), sql.Identifier(table.name)
                    )
                )
            conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS staging_dead_letters (received_at timestamptz, topic text,"
                " publisher_id text, reason text, detail text, payload bytea, fingerprint bytea)"
                " ON COMMIT DELETE ROWS"
            )

    def write(self, events: Sequence[AcceptedEvent], dead_letters: Sequence[DeadLetter]) -> BatchOutcome:
        try:
            return self._write(events, dead_letters, careful=False)
        except psycopg.errors.UniqueViolation:
            return self._write(events, dead_letters, careful=True)  # an id was recorded before

    def _write(
        self, events: Sequence[AcceptedEvent], dead_letters: Sequence[DeadLetter], *, careful: bool
    ) -> BatchOutcome:
        by_type: dict[EventType, list[AcceptedEvent]] = {}
        for accepted in events:
            by_type.setdefault(accepted.event_type, []).append(accepted)
        outcome = BatchOutcome()
        letters = list(dead_letters)
        conflicts: list[DeadLetter] = []
        with self._conn.transaction(), self._conn.cursor() as cur:
            # Always the same table order: two ingest processes that each create a new chunk would
            # otherwise wait on each other until PostgreSQL's deadlock check (1 s) broke the tie.
            for event_type in EVENT_TABLES:
                batch = by_type.get(event_type)
                if not batch:
                    continue
                table = EVENT_TABLES[event_type]
                rows, resends = self._insert_events(cur, table, batch, RECORD_TYPES[event_type.value], careful)
                outcome.stored[event_type] += len(rows)
                outcome.duplicates[event_type] += len(batch) - len(rows) - len(resends.conflicts)
                conflicts.extend(resends.conflicts)
                if rows:
                    outcome.records[event_type.value] = rows
            letters += conflicts
            stored_letters = self._insert_dead_letters(cur, letters) if letters else 0
            xids = (_transaction_id(cur),) if outcome.records else ()
        return BatchOutcome(
            stored=outcome.stored,
            duplicates=outcome.duplicates,
            dead_letters_stored=stored_letters,
            dead_letters_repeated=len(letters) - stored_letters,
            dead_letter_reasons=Counter(letter.reason for letter in letters),
            conflicts=tuple(conflicts),
            dead_letters=tuple(letters),
            records=outcome.records,
            transaction_ids=xids,
        )

    def _insert_events(
        self,
        cur: psycopg.Cursor[tuple[object, ...]],
        table: EventTable,
        batch: list[AcceptedEvent],
        returning: RecordType,
        careful: bool,
    ) -> tuple[list[StoredRecord], Resends]:
        """COPY the batch into staging, record its ids, move the new rows into the hypertable; return
        their records and the re-sent messages left out. Not `careful`: fails on an id recorded before."""
        check = self._resend_check and table.has_event_id
        later: list[AcceptedEvent] = []
        if check:
            batch, later = split_repeats(batch)
        staging = _staging_name(table.name)
        to_row = table.to_row
        with cur.copy(self._copies[table.name]) as cp:
            cp.set_types(list(table.types))
            for accepted in batch:
                cp.write_row(to_row(accepted.event, accepted.publisher_id, accepted.received_at))
        resends, taken = Resends(), dict[IdKey, StoredEvent]()
        if check and careful:
            resends, taken = claim_ids(cur, table, staging, batch)
        if check:
            resends += judge_later(table, later, batch, taken)
        statement = self._insert(table, batch[0].event_type, returning._fields, record=check and not careful)
        cur.execute(statement, binary=True)
        make = returning._make
        return [make(row) for row in cur.fetchall()], resends

    def _insert(self, table: EventTable, event_type: EventType, returning: tuple[str, ...], *, record: bool) -> bytes:
        """The statement that moves staging's rows into the hypertable (and records their ids)."""
        key = (table.name, record)
        statement = self._statements.get(key)
        if statement is None:
            columns = sql.SQL(", ").join(map(sql.Identifier, table.columns))
            staging = _staging_name(table.name)
            insert = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT DO NOTHING RETURNING {}").format(
                sql.Identifier(table.name),
                columns,
                columns,
                staging,
                sql.SQL(", ").join(map(sql.Identifier, returning)),
            )
            if record:
                recorded = record_ids(event_type.value, staging)
                insert = sql.SQL("WITH recorded AS ({}) {}").format(recorded, insert)
            statement = self._statements[key] = insert.as_bytes(self._conn)
        return statement

    def _insert_dead_letters(self, cur: psycopg.Cursor[tuple[object, ...]], letters: Sequence[DeadLetter]) -> int:
        columns = sql.SQL(", ").join(map(sql.Identifier, _DEAD_LETTER_COLUMNS))
        staging = _staging_name("dead_letters")
        with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(staging, columns)) as cp:
            cp.set_types(list(_DEAD_LETTER_TYPES))
            for d in letters:
                cp.write_row((d.received_at, d.topic, d.publisher_id, d.reason, d.detail, d.payload, d.fingerprint))
        cur.execute(
            sql.SQL("INSERT INTO dead_letters ({}) SELECT {} FROM {} ON CONFLICT (fingerprint) DO NOTHING").format(
                columns, columns, staging
            )
        )
        return cur.rowcount


def _transaction_id(cur: psycopg.Cursor[tuple[object, ...]]) -> int:
    row = cur.execute("SELECT pg_current_xact_id()::text").fetchone()
    assert row is not None
    return int(str(row[0]))
