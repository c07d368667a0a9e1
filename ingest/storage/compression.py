"""Native compression of old event chunks, where the TimescaleDB edition has it.

The community edition (license 'timescale', e.g. the official Docker image) compresses chunks in
its own background jobs: we enable it on the event hypertables and add a policy for chunks older
than `compress_after`. The Apache edition that the local stack builds has neither compression nor
policy jobs, so there the step is skipped and says why. Retention (`drop_chunks`) works the same on
compressed chunks, and late events still insert into them (ON CONFLICT included) since 2.11.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import psycopg
from psycopg import sql

from ingest.storage.event_tables import EVENT_TABLES, EventTable

log = logging.getLogger(__name__)

COMMUNITY_LICENSE = "timescale"


@dataclass(frozen=True, slots=True)
class CompressionDecision:
    enabled: bool
    reason: str


def decide_compression(license_name: str | None, compress_after: timedelta) -> CompressionDecision:
    """Whether to switch compression on, from the server's `timescaledb.license` and the setting."""
    if compress_after <= timedelta(0):
        return CompressionDecision(False, "switched off (IOC_COMPRESS_AFTER_DAYS=0)")
    if license_name != COMMUNITY_LICENSE:
        edition = license_name or "unknown"
        return CompressionDecision(
            False, f"TimescaleDB license is '{edition}': compression needs the community edition"
        )
    days = compress_after / timedelta(days=1)
    return CompressionDecision(True, f"chunks older than {days:g} days are compressed by a policy job")


def compression_options(table: EventTable) -> sql.Composed:
    """`ALTER TABLE … SET (timescaledb.compress …)` for one event table.

    Segmented by publisher (queries and the unique key's look-ups filter on it); the rest of each
    unique key orders the rows, so that an upsert into a compressed chunk checks one segment.
    """
    order = f"{table.time_column} DESC, " + ("event_id" if "event_id" in table.columns else "state")
    return sql.SQL(
        "ALTER TABLE {} SET (timescaledb.compress, timescaledb.compress_segmentby = 'publisher_id',"
        " timescaledb.compress_orderby = {})"
    ).format(sql.Identifier(table.name), sql.Literal(order))


def server_license(conn: psycopg.Connection[tuple[object, ...]]) -> str | None:
    row = conn.execute("SELECT current_setting('timescaledb.license', true)").fetchone()
    return None if row is None or row[0] is None else str(row[0])


def apply_compression(conn: psycopg.Connection[tuple[object, ...]], compress_after: timedelta) -> CompressionDecision:
    """Enable compression and (re)set its policy on every event table; idempotent."""
    decision = decide_compression(server_license(conn), compress_after)
    if not decision.enabled:
        log.info("compression skipped: %s", decision.reason)
        return decision
    with conn.transaction():
        for table in EVENT_TABLES.values():
            enabled = conn.execute(
                "SELECT compression_enabled FROM timescaledb_information.hypertables WHERE hypertable_name = %s",
                (table.name,),
            ).fetchone()
            # Options cannot change while compressed chunks exist: set them once only.
            if not (enabled and enabled[0]):
                conn.execute(compression_options(table))
            # A changed setting replaces the policy rather than keeping the old interval.
            conn.execute("SELECT remove_compression_policy(%s::regclass, if_exists => true)", (table.name,))
            conn.execute(
                "SELECT add_compression_policy(%s::regclass, compress_after => %s)", (table.name, compress_after)
            )
    log.info("compression on: %s", decision.reason)
    return decision
