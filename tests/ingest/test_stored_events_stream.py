"""After each commit, ingest appends the events it stored (not duplicates) to the Redis stream."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import redis

from deploy.stack.manager import LocalStack
from ingest.service.stored_events_publisher import StoredEventsPublisher
from ingest.stored_events import StoredDossier, StoredEventsBatch, StoredRecord, StoredTransaction
from runtime.redis_names import STORED_EVENTS_PRODUCERS, STORED_EVENTS_STREAM
from tests import factories
from tests.fixtures.ingest import Publisher, RunningIngest, count_rows, free_port, wait_for
from tests.fixtures.stack import IsolatedDatabase

pytestmark = pytest.mark.integration


def _read_stream(client: redis.Redis) -> list[StoredEventsBatch]:
    return [StoredEventsBatch.decode(fields) for _, fields in client.xrange(STORED_EVENTS_STREAM)]


def test_stored_events_reach_the_stream_once_each(
    stack: LocalStack,
    database: IsolatedDatabase,
    start_ingest: Callable[..., RunningIngest],
    register_publisher: Callable[..., Publisher],
) -> None:
    client = redis.Redis.from_url(stack.redis.url())
    client.delete(STORED_EVENTS_STREAM, STORED_EVENTS_PRODUCERS)
    publisher = StoredEventsPublisher(stack.redis.url(), producer="ingest-under-test")
    ingest = start_ingest(stored_events=publisher)
    payments = register_publisher("payments", "24615")
    portal = register_publisher("portal", "67")
    first = factories.transaction(area_code="24615", seq=1, sector="water", method="cash", amount_vnd=120_000)
    payments.client.publish(payments.topic("transaction"), factories.encode(first))
    assert wait_for(lambda: count_rows(database, "payment_transactions") == 1)
    payments.client.publish(payments.topic("transaction"), factories.encode(first))  # a duplicate
    dossier = factories.dossier(area_code="24667", seq=1, status="submitted", channel="qr_kiosk")
    portal.client.publish(portal.topic("dossier"), factories.encode(dossier))
    portal.client.publish(portal.topic("status"), factories.encode(factories.status("online")))
    assert wait_for(lambda: count_rows(database, "portal_dossier_events") == 1)
    assert wait_for(lambda: count_rows(database, "publisher_status") == 1)

    assert wait_for(lambda: sum(len(rows) for b in _read_stream(client) for rows in b.records.values()) == 3)
    batches = _read_stream(client)
    assert {b.producer for b in batches} == {"ingest-under-test"}
    assert len({b.session for b in batches}) == 1
    assert [b.pseq for b in batches] == list(range(batches[0].pseq, batches[0].pseq + len(batches)))
    records: dict[str, list[StoredRecord]] = {}
    for b in batches:
        for event_type, stored in b.records.items():
            records.setdefault(event_type, []).extend(stored)
    (transaction,) = records["transaction"]
    assert isinstance(transaction, StoredTransaction)
    assert transaction._replace(occurred_at=None) == (
        payments.id,
        "24615",
        None,
        1,
        "water",
        "cash",
        120_000,
        "succeeded",
    )
    assert transaction.occurred_at == datetime.fromisoformat(str(first["occurred_at"]))
    (stored_dossier,) = records["dossier"]
    assert isinstance(stored_dossier, StoredDossier)
    assert (stored_dossier.publisher_id, stored_dossier.area_code) == (portal.id, "24667")
    assert (stored_dossier.dossier_id, stored_dossier.status, stored_dossier.channel, stored_dossier.e_certified) == (
        dossier["dossier_id"], "submitted", "qr_kiosk", True
    )  # fmt: skip
    assert [r.publisher_id for r in records["status"]] == [portal.id]
    # Each entry names the transactions that stored it, and the producers hash follows the stream.
    assert all(len(b.transaction_ids) == 1 for b in batches)
    assert (
        client.hget(STORED_EVENTS_PRODUCERS, "ingest-under-test")
        == f"{batches[-1].session}:{batches[-1].pseq}".encode()
    )

    ingest.stop()  # a clean stop ends the session with a final entry
    last = _read_stream(client)[-1]
    assert (last.final, last.pseq, last.records) == (True, batches[-1].pseq + 1, {})
    assert client.hget(STORED_EVENTS_PRODUCERS, "ingest-under-test") == f"{last.session}:{last.pseq}:final".encode()
    client.close()


def test_redis_down_never_holds_ingest_up(
    database: IsolatedDatabase,
    start_ingest: Callable[..., RunningIngest],
    register_publisher: Callable[..., Publisher],
) -> None:
    nowhere = StoredEventsPublisher(f"redis://127.0.0.1:{free_port()}/0", producer="ingest-under-test")
    start_ingest(stored_events=nowhere)
    payments = register_publisher("payments")
    started = time.monotonic()
    for i in range(500):
        payments.client.client.publish(
            payments.topic("transaction"), factories.encode(factories.transaction(seq=i)), qos=1
        )
    assert wait_for(lambda: count_rows(database, "payment_transactions") == 500, timeout=30)
    assert time.monotonic() - started < 10
    assert nowhere.skipped >= 1


def test_the_stream_keeps_only_its_retention_window(stack: LocalStack) -> None:
    client = redis.Redis.from_url(stack.redis.url())
    client.delete(STORED_EVENTS_STREAM, STORED_EVENTS_PRODUCERS)
    publisher = StoredEventsPublisher(stack.redis.url(), producer="ingest-under-test", retain_seconds=0.5)
    batch = {
        "transaction": [StoredTransaction("p-1", "24615", datetime.now(UTC), 1, "health", "qr", 1_000, "succeeded")]
    }
    for i in range(300):
        assert publisher.publish(batch, (i,))
    time.sleep(0.6)
    for i in range(300, 600):
        assert publisher.publish(batch, (i,))
    kept = [b.transaction_ids[0] for b in _read_stream(client)]
    # Redis trims whole nodes of at most 100 entries (stream-node-max-entries), so up to a node's
    # worth of the old batches may share one with the first new ones; every new one is there.
    assert kept[-300:] == list(range(300, 600))
    assert len(kept) < 400
    publisher.close()
    client.close()
