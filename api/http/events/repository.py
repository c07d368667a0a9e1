"""Raw stored events, newest first, paged by a keyset cursor (the SQL of the events routes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ingest.contract import EventType
from ingest.storage.event_tables import EVENT_TABLES

# The contract's sources and the event type each publishes (status has no area).
SOURCES: dict[str, EventType] = {
    "portal": EventType.DOSSIER,
    "payments": EventType.TRANSACTION,
    "coverage": EventType.SAMPLE,
}


def find_events(
    conn: psycopg.Connection[tuple[object, ...]],
    source: str,
    *,
    start: datetime,
    end: datetime,
    area: str | None,
    publisher: str | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Events of `source` in [start, end), newest first, strictly after the cursor `(occurred_at, event_id)`."""
    table = EVENT_TABLES[SOURCES[source]]
    conditions = [sql.SQL("occurred_at >= %(start)s"), sql.SQL("occurred_at < %(end)s")]
    if area is not None:
        conditions.append(sql.SQL("area_code = %(area)s"))
    if publisher is not None:
        conditions.append(sql.SQL("publisher_id = %(publisher)s"))
    if after is not None:
        conditions.append(sql.SQL("(occurred_at, event_id) < (%(after_at)s, %(after_id)s)"))
    query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY occurred_at DESC, event_id DESC LIMIT %(limit)s").format(
        sql.SQL(", ").join(map(sql.Identifier, table.columns)),
        sql.Identifier(table.name),
        sql.SQL(" AND ").join(conditions),
    )
    params = {
        "start": start, "end": end, "area": area, "publisher": publisher, "limit": limit,
        "after_at": None if after is None else after[0], "after_id": None if after is None else after[1],
    }  # fmt: skip
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()
