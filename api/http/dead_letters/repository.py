"""The console's reads and audit writes over `dead_letters`: counts, ids and rows of a filter, one payload."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from api.http.dead_letters.selection import DeadLetterFilter
from ingest.dead_letters import DeadLetterNotFound, DeadLetterRecord

_COLUMNS = (
    "id, received_at, topic, publisher_id, reason, detail, length(payload) AS payload_bytes,"
    " resolved_at, last_replay_at, last_replay_outcome"
)
Connection = psycopg.Connection[tuple[object, ...]]


class ConsoleDeadLetters:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def count(self, selection: DeadLetterFilter) -> int:
        where, params = selection.where()
        row = self._conn.execute(f"SELECT count(*) FROM dead_letters WHERE {where}", params).fetchone()  # noqa: S608 -- constant condition
        return int(str(row[0])) if row else 0

    def page(self, selection: DeadLetterFilter, before_id: int | None, limit: int) -> list[DeadLetterRecord]:
        """Newest first; the next page starts before `before_id` (the last id of the previous one)."""
        where, params = selection.where()
        cur = self._conn.cursor(row_factory=class_row(DeadLetterRecord))
        return cur.execute(
            f"SELECT {_COLUMNS} FROM dead_letters WHERE {where}"  # noqa: S608 -- constant columns and condition
            " AND (%(before)s::bigint IS NULL OR id < %(before)s) ORDER BY id DESC LIMIT %(limit)s",
            params | {"before": before_id, "limit": limit},
        ).fetchall()

    def ids(self, selection: DeadLetterFilter, limit: int) -> list[int]:
        """The open ones among them, oldest first (the order they arrived in, as a replay should store them)."""
        where, params = selection.where()
        rows = self._conn.execute(
            f"SELECT id FROM dead_letters WHERE {where} AND resolved_at IS NULL ORDER BY id LIMIT %(limit)s",  # noqa: S608 -- constant condition
            params | {"limit": limit},
        ).fetchall()
        return [int(str(r[0])) for r in rows]

    def rows(self, selection: DeadLetterFilter, batch: int = 1000) -> Iterator[DeadLetterRecord]:
        """Every one of them, newest first, read in batches by a server-side cursor (for a streamed export)."""
        where, params = selection.where()
        with (
            self._conn.transaction(),
            self._conn.cursor(name="dead_letters_export", row_factory=class_row(DeadLetterRecord)) as cur,
        ):
            cur.itersize = batch
            cur.execute(f"SELECT {_COLUMNS} FROM dead_letters WHERE {where} ORDER BY id DESC", params)  # noqa: S608 -- constant columns and condition
            yield from cur

    def payload(self, dead_letter_id: int) -> bytes:
        row = self._conn.execute("SELECT payload FROM dead_letters WHERE id = %s", (dead_letter_id,)).fetchone()
        if row is None:
            raise DeadLetterNotFound(dead_letter_id)
        payload = row[0]
        assert isinstance(payload, bytes)
        return payload

    def recent(self, since: datetime) -> int:
        row = self._conn.execute("SELECT count(*) FROM dead_letters WHERE received_at >= %s", (since,)).fetchone()
        return int(str(row[0])) if row else 0


class BulkReplayAudit:
    """One row of `dead_letter_bulk_replays` per bulk replay: written before it starts, completed at its end."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def started(self, actor: str, selection: DeadLetterFilter, matched: int) -> int:
        row = self._conn.execute(
            "INSERT INTO dead_letter_bulk_replays (actor, filter, matched) VALUES (%s, %s, %s) RETURNING id",
            (actor, json.dumps(selection.to_json()), matched),
        ).fetchone()
        assert row is not None
        return int(str(row[0]))

    def finished(self, audit_id: int, stored: int, duplicate: int, rejected: int) -> None:
        self._conn.execute(
            "UPDATE dead_letter_bulk_replays SET finished_at = now(), stored = %s, duplicate = %s, rejected = %s"
            " WHERE id = %s",
            (stored, duplicate, rejected, audit_id),
        )
