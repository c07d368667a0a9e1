"""Dead letters written straight into a test's database, as ingest writes them."""

from __future__ import annotations

import hashlib
from datetime import datetime

import psycopg


def add_dead_letter(
    db: psycopg.Connection[tuple[object, ...]],
    *,
    at: datetime,
    topic: str,
    payload: bytes,
    reason: str = "unknown_publisher",
    detail: str = "not registered then",
    publisher: str | None = None,
) -> int:
    fingerprint = hashlib.sha256(topic.encode() + b"\x00" + payload + str(at).encode()).digest()
    row = db.execute(
        "INSERT INTO dead_letters (received_at, topic, publisher_id, reason, detail, payload, fingerprint)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (at, topic, publisher, reason, detail, payload, fingerprint),
    ).fetchone()
    assert row is not None
    return int(str(row[0]))
