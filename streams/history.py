"""Reading the stored events back from the hypertables, for a rebuild, inside one database snapshot.

The rebuild and the stored-events stream must add up to every event exactly once. Ingest puts the
ids of the transactions that stored a batch on its stream entry; the rebuild notes the snapshot it
read in. An entry whose transactions the snapshot already saw was counted by the rebuild and is
skipped; any other entry is applied. No event is missed or counted twice, however the rebuild and
ingest interleave.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.rows import BaseRowFactory, args_row

from ingest.contract import EventType
from ingest.storage.event_tables import EVENT_TABLES
from ingest.stored_events import RECORD_COLUMNS, RECORD_TYPES, StoredRecord
from streams.records import Record, to_micros, to_records

_FETCH_ROWS = 20_000


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A PostgreSQL snapshot (`pg_current_snapshot()`): which transactions it sees."""

    xmin: int
    xmax: int
    in_progress: frozenset[int]

    @classmethod
    def parse(cls, text: str) -> Snapshot:
        xmin, xmax, xip = text.split(":")
        return cls(int(xmin), int(xmax), frozenset(int(x) for x in xip.split(",") if x))

    def sees(self, xid: int) -> bool:
        """Whether a transaction known to have committed is visible in this snapshot."""
        return xid < self.xmin or (xid < self.xmax and xid not in self.in_progress)


def begin_snapshot(conn: psycopg.Connection[tuple[object, ...]]) -> Snapshot:
    """Start a repeatable-read, read-only transaction on `conn`; every later read in it sees this snapshot."""
    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    # A rebuild reads a day of events and sorts months of dossiers: no statement timeout for it
    # (the connection's TCP keepalives still end a read from a server that vanished).
    conn.execute("SET LOCAL statement_timeout = 0")
    row = conn.execute("SELECT pg_current_snapshot()::text").fetchone()
    assert row is not None
    return Snapshot.parse(str(row[0]))


def _stored(event_type: str) -> BaseRowFactory[StoredRecord]:
    """Rows as the event type's stored record (the query selects its columns, `RECORD_COLUMNS`)."""
    record: Callable[..., StoredRecord] = RECORD_TYPES[event_type]
    return args_row(record)


def read_stored_events(
    conn: psycopg.Connection[tuple[object, ...]], since: datetime, event_types: tuple[str, ...]
) -> Iterator[list[Record]]:
    """The stored events with event time at or after `since`, in chunks, as the stream would carry them."""
    for event_type in event_types:
        table = EVENT_TABLES[EventType(event_type)]
        query = sql.SQL("SELECT {} FROM {} WHERE {} >= %s").format(
            sql.SQL(", ").join(map(sql.Identifier, RECORD_COLUMNS[event_type])),
            sql.Identifier(table.name),
            sql.Identifier(table.time_column),
        )
        with conn.cursor(name=f"rebuild_{event_type}", binary=True, row_factory=_stored(event_type)) as cur:
            cur.execute(query, (since,))
            while rows := cur.fetchmany(_FETCH_ROWS):
                yield to_records(event_type, rows)


# The same order as streams.dossiers: latest event time, then the later status, then the later deadline.
_LATEST_DOSSIERS = sql.SQL(
    "SELECT DISTINCT ON (dossier_id) {} FROM portal_dossier_events WHERE occurred_at >= %s"
    " ORDER BY dossier_id, occurred_at DESC, array_position(%s::text[], status) DESC,"
    " coalesce(due_at, '-infinity') DESC"
).format(sql.SQL(", ").join(map(sql.Identifier, RECORD_COLUMNS["dossier"])))


def read_latest_dossiers(
    conn: psycopg.Connection[tuple[object, ...]], since: datetime, status_order: tuple[str, ...]
) -> Iterator[list[Record]]:
    """The latest event of every dossier with an event at or after `since`."""
    with conn.cursor(name="rebuild_latest_dossiers", binary=True, row_factory=_stored("dossier")) as cur:
        cur.execute(_LATEST_DOSSIERS, (since, list(status_order)))
        while rows := cur.fetchmany(_FETCH_ROWS):
            yield to_records("dossier", rows)


@dataclass(frozen=True, slots=True)
class PublisherRegistry:
    areas: dict[str, str]  # enabled publisher -> the area it is registered in
    silent_after_us: dict[str, int] = field(default_factory=dict)  # those with a threshold of their own
    # Those never heard from (no first message in the registry) -> when they were registered.
    onboarding_since_us: dict[str, int] = field(default_factory=dict)
    maintenance_until_us: dict[str, int] = field(default_factory=dict)  # those with a maintenance set


def read_publishers(conn: psycopg.Connection[tuple[object, ...]]) -> PublisherRegistry:
    """Every enabled publisher, the area it is registered in, its own silence threshold, and what the
    silence count needs of its state (streams.publishers): onboarding since, maintenance until."""
    rows = conn.execute(
        "SELECT id, area_code, silent_after_seconds, created_at, first_message_at IS NULL, maintenance_until"
        " FROM publishers WHERE disabled_at IS NULL"
    ).fetchall()
    registry = PublisherRegistry({})
    for publisher, area, seconds, created, onboarding, maintenance_until in rows:
        key = str(publisher)
        registry.areas[key] = str(area)
        if seconds is not None:
            registry.silent_after_us[key] = int(str(seconds)) * 1_000_000
        if onboarding:
            assert isinstance(created, datetime)
            registry.onboarding_since_us[key] = to_micros(created)
        if maintenance_until is not None:
            assert isinstance(maintenance_until, datetime)
            registry.maintenance_until_us[key] = to_micros(maintenance_until)
    return registry


_LATEST_STATUSES = sql.SQL(
    "SELECT DISTINCT ON (publisher_id) {} FROM publisher_status ORDER BY publisher_id, at DESC, state ASC"
).format(sql.SQL(", ").join(map(sql.Identifier, RECORD_COLUMNS["status"])))


def read_latest_statuses(conn: psycopg.Connection[tuple[object, ...]]) -> list[Record]:
    """Each publisher's latest status (on a tie, `offline` wins, as in streams.publishers)."""
    with conn.cursor(row_factory=_stored("status")) as cur:
        rows = cur.execute(_LATEST_STATUSES).fetchall()
    return to_records("status", rows)


def read_last_events(conn: psycopg.Connection[tuple[object, ...]], since: datetime) -> dict[str, int]:
    """Each publisher's latest event time (µs) at or after `since`, over every event table."""
    latest: dict[str, int] = {}
    for event_type in ("dossier", "transaction", "sample"):
        table = EVENT_TABLES[EventType(event_type)]
        query = sql.SQL("SELECT publisher_id, max(occurred_at) FROM {} WHERE occurred_at >= %s GROUP BY 1").format(
            sql.Identifier(table.name)
        )
        for publisher, at in conn.execute(query, (since,)).fetchall():
            assert isinstance(at, datetime)
            latest[str(publisher)] = max(latest.get(str(publisher), 0), to_micros(at))
    return latest
