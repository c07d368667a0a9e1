"""Retention without TimescaleDB's policy jobs (the Apache edition has none): `drop_chunks` on a timer."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Protocol

import psycopg

from ingest.storage.event_tables import EVENT_TABLES

log = logging.getLogger(__name__)


def apply_retention(conn: psycopg.Connection[tuple[object, ...]], keep: timedelta, resend_horizon: timedelta) -> int:
    """Drop whole chunks older than `keep` and dead letters received before it, and forget event ids
    received more than `resend_horizon` ago; return chunks dropped.

    Ingest refuses events too old to outlive the next runs (`too_old`, see `IntakeRules`), so what
    it dropped here was never acknowledged to a publisher in the last day."""
    dropped = 0
    with conn.transaction():  # a savepoint when the caller already opened a transaction
        for table in EVENT_TABLES.values():
            rows = conn.execute("SELECT drop_chunks(%s::regclass, older_than => %s)", (table.name, keep)).fetchall()
            dropped += len(rows)
        conn.execute("DELETE FROM dead_letters WHERE received_at < now() - %s", (keep,))
        conn.execute("DELETE FROM event_ids WHERE received_at < now() - %s", (resend_horizon,))
    if dropped:
        log.info("retention: dropped %d chunks older than %s", dropped, keep)
    return dropped


# Shared by every ingest process of a deployment: only the one that takes the lock runs retention.
_RETENTION_LOCK_KEY = 0x10C_D0_0002


def apply_retention_once(store: RetentionStore, keep: timedelta, resend_horizon: timedelta) -> None:
    """Best effort, never in the way of ingest: one attempt, a short lock wait, errors only logged."""
    try:
        conn = store.connection()
        with conn.transaction():
            locked = conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (_RETENTION_LOCK_KEY,)).fetchone()
            if not locked or not locked[0]:
                return
            conn.execute("SET LOCAL lock_timeout = '2s'")
            apply_retention(conn, keep, resend_horizon)
    except psycopg.Error as exc:
        log.warning("retention skipped this time (%s); next attempt at the next check", type(exc).__name__)


class RetentionStore(Protocol):
    def connection(self) -> psycopg.Connection[tuple[object, ...]]: ...
