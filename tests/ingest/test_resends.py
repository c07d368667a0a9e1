"""Re-sent event ids through the batch writer and the real database: the same decoded fields are a
duplicate, other fields a `conflicting_duplicate` that names the stored row and leaves it unchanged;
two writers that get one id at once store it once."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest

from ingest.contract import decode
from ingest.records import AcceptedEvent, RawMessage
from ingest.storage.batch_writer import BatchOutcome, BatchWriter
from tests import factories
from tests.fixtures.ingest import wait_for
from tests.fixtures.stack import IsolatedDatabase

pytestmark = pytest.mark.integration

TOPIC = "ioc/v1/payments/counter-1/transaction"
ICT = timezone(timedelta(hours=7))


def accepted(payload: bytes, received_at: datetime | None = None) -> AcceptedEvent:
    at = received_at or datetime.now(UTC)
    decoded = decode(TOPIC, payload, now=at, max_future_skew=timedelta(minutes=5))
    raw = RawMessage(TOPIC, payload, mid=1, qos=1, received_at=at, received_monotonic=0.0, generation=1)
    return AcceptedEvent(decoded.topic.event_type, decoded.topic.publisher_id, decoded.event, raw)


def respelled(body: dict[str, object]) -> bytes:
    """The same event in other bytes: keys reversed, the time in +07:00 instead of UTC, spaces."""
    at = datetime.fromisoformat(str(body["occurred_at"])).astimezone(ICT).isoformat()
    return json.dumps(dict(reversed(list((body | {"occurred_at": at}).items()))), indent=1).encode()


def stored(db: psycopg.Connection[tuple[object, ...]]) -> list[tuple[object, ...]]:
    return db.execute("SELECT event_id::text, occurred_at, amount_vnd FROM payment_transactions ORDER BY 2").fetchall()


def test_an_id_sent_again_is_a_duplicate_only_with_the_same_decoded_fields(
    db: psycopg.Connection[tuple[object, ...]],
) -> None:
    writer = BatchWriter(db)
    original = factories.transaction(at=datetime.now(UTC) - timedelta(hours=1))
    first = writer.write([accepted(factories.encode(original))], [])
    assert first.stored["transaction"] == 1
    other_time = original | {"occurred_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat()}
    other_body = original | {"amount_vnd": 999_000}
    again = [respelled(original), factories.encode(original), factories.encode(other_time)]
    outcome = writer.write([accepted(p) for p in [*again, factories.encode(other_body)]], [])

    assert (outcome.stored["transaction"], outcome.duplicates["transaction"]) == (0, 2)
    assert [c.reason for c in outcome.conflicts] == ["conflicting_duplicate"] * 2
    assert outcome.dead_letter_reasons == {"conflicting_duplicate": 2}
    at = datetime.fromisoformat(str(original["occurred_at"]))
    assert stored(db) == [(original["event_id"], at, 250_000)]  # the stored row is unchanged
    letters = db.execute("SELECT reason, detail, payload FROM dead_letters ORDER BY id").fetchall()
    assert [bytes(p) for _, _, p in letters] == [factories.encode(other_time), factories.encode(other_body)]
    for _, detail, _ in letters:
        assert f"already stored: transaction, occurred_at {at.isoformat()}, received_at " in str(detail)
        assert "a correction needs a new event_id" in str(detail)
    assert "(occurred_at)" in str(letters[0][1])
    assert "(amount_vnd)" in str(letters[1][1])


def test_within_one_batch_the_first_message_of_an_id_wins(db: psycopg.Connection[tuple[object, ...]]) -> None:
    body = factories.transaction()
    conflicting = body | {"outcome": "failed"}
    payloads = [factories.encode(body), respelled(body), factories.encode(conflicting), factories.encode(body)]
    outcome = BatchWriter(db).write([accepted(p) for p in payloads], [])
    assert (outcome.stored["transaction"], outcome.duplicates["transaction"]) == (1, 2)
    (conflict,) = outcome.conflicts
    assert conflict.payload == factories.encode(conflicting)
    assert "(outcome)" in conflict.detail
    assert db.execute("SELECT outcome FROM payment_transactions").fetchall() == [("succeeded",)]


def test_a_batch_redelivered_after_it_committed_adds_nothing(db: psycopg.Connection[tuple[object, ...]]) -> None:
    batch = [accepted(factories.encode(factories.transaction(seq=i))) for i in range(50)]
    writer = BatchWriter(db)
    assert writer.write(batch, []).stored["transaction"] == 50
    again = writer.write(batch, [])
    assert (again.stored["transaction"], again.duplicates["transaction"], again.conflicts) == (0, 50, ())
    assert db.execute("SELECT count(*) FROM event_ids").fetchone() == (50,)


@pytest.mark.parametrize("first_commits", [True, False])
def test_two_writers_that_get_one_id_at_once_store_it_once(database: IsolatedDatabase, first_commits: bool) -> None:
    """The second writer waits on the first one's uncommitted id; it then finds the id taken (and
    compares), or free when the first rolled back."""
    body = factories.transaction()
    conflicting = factories.encode(body | {"amount_vnd": 1_000})
    with database.connect() as first, database.connect() as second, database.connect() as watch:
        results: list[BatchOutcome] = []
        with first.transaction() as outer:
            BatchWriter(first).write([accepted(factories.encode(body))], [])  # a savepoint inside `outer`
            writer = BatchWriter(second)
            pid = second.info.backend_pid
            racer = threading.Thread(target=lambda: results.append(writer.write([accepted(conflicting)], [])))
            racer.start()
            assert wait_for(lambda: _waits_on_a_lock(watch, pid), timeout=10)
            if not first_commits:
                raise psycopg.Rollback(outer)
        racer.join(10)
        assert not racer.is_alive()
        (outcome,) = results
        amounts = [a for (a,) in watch.execute("SELECT amount_vnd FROM payment_transactions").fetchall()]
    if first_commits:
        assert amounts == [250_000]
        assert [c.reason for c in outcome.conflicts] == ["conflicting_duplicate"]
    else:
        assert amounts == [1_000]
        assert outcome.stored["transaction"] == 1


def _waits_on_a_lock(conn: psycopg.Connection[tuple[object, ...]], pid: int) -> bool:
    row = conn.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
    return row is not None and row[0] == "Lock"
