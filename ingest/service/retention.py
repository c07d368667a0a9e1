"""Retention without TimescaleDB's policy jobs (the Apache edition has none): `drop_chunks` on a timer."""

from __future__ import annotations

import logging
from datetime import timedelta

import psycopg

from ingest.storage.event_tables import EVENT_TABLES

log = logging.getLogger(__name__)


def apply_retention(conn: psycopg.Connection[tuple[object, ...]], keep: timedelta) -> int:
    """Drop whole chunks older than `keep` and dead letters received before it; return chunks dropped."""
    dropped = 0
    with conn.transaction():
        for table in EVENT_TABLES.values():
            rows = conn.execute("SELECT drop_chunks(%s::regclass, older_than => %s)", (table.name, keep)).fetchall()
            dropped += len(rows)
        conn.execute("DELETE FROM dead_letters WHERE received_at < now() - %s", (keep,))
    if dropped:
        log.info("retention: dropped %d chunks older than %s", dropped, keep)
    return dropped
