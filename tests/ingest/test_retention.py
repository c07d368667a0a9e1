"""Retention without policy jobs: whole chunks past the retention period are dropped."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from ingest.service.retention import apply_retention

pytestmark = pytest.mark.integration


def test_chunks_older_than_the_retention_period_are_dropped(
    db: psycopg.Connection[tuple[object, ...]],
) -> None:
    for days_ago in (400, 30, 1):
        db.execute(
            "INSERT INTO payment_transactions (occurred_at, event_id, publisher_id, area_code, sector, method,"
            " amount_vnd, outcome, received_at) VALUES (now() - make_interval(days => %s), gen_random_uuid(),"
            " 'p', '67', 'health', 'qr', 1, 'succeeded', now())",
            (days_ago,),
        )
    db.execute(
        "INSERT INTO dead_letters (received_at, topic, reason, detail, payload, fingerprint)"
        " VALUES (now() - interval '100 days', 't', 'not_json', 'x', 'x', 'a'), (now(), 't', 'not_json', 'y', 'y', 'b')"
    )
    dropped = apply_retention(db, timedelta(days=90), timedelta(days=7))
    assert dropped == 1
    remaining = db.execute(
        "SELECT (now() - occurred_at) > interval '20 days' FROM payment_transactions ORDER BY occurred_at"
    ).fetchall()
    assert remaining == [(True,), (False,)]
    assert db.execute("SELECT detail FROM dead_letters").fetchall() == [("y",)]


def test_event_ids_are_forgotten_past_the_resend_horizon(db: psycopg.Connection[tuple[object, ...]]) -> None:
    db.execute(
        "INSERT INTO event_ids (publisher_id, event_id, event_type, occurred_at, received_at)"
        " SELECT 'p', gen_random_uuid(), 'transaction', now(), now() - make_interval(days => d)"
        " FROM unnest(ARRAY[8, 6, 0]) AS d"
    )
    apply_retention(db, timedelta(days=400), timedelta(days=7))
    kept = db.execute("SELECT extract(day FROM now() - received_at)::int FROM event_ids ORDER BY 1").fetchall()
    assert kept == [(0,), (6,)]
