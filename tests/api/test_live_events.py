"""The live event tail: events stored by the real ingest and new dead letters, filtered and rate-limited."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable

import httpx
import psycopg
import pytest
from websockets.sync.client import ClientConnection

from api.http.auth.keys import ApiKeyRepository, Scope
from ingest.service.stored_events_publisher import StoredEventsPublisher
from tests import factories
from tests.api.test_live_kpis import open_socket, receive, ticket
from tests.fixtures.ingest import Publisher, RunningIngest, count_rows, wait_for
from tests.fixtures.stack import IsolatedDatabase

pytestmark = pytest.mark.integration


def receive_within(ws: ClientConnection, seconds: float) -> dict[str, object]:
    message: dict[str, object] = json.loads(ws.recv(timeout=seconds))
    return message


def test_on_call_sees_its_events_and_dead_letters_live_and_a_sample_when_too_many(
    client: httpx.Client,
    database: IsolatedDatabase,
    db: psycopg.Connection[tuple[object, ...]],
    redis_url: str,
    start_ingest: Callable[..., RunningIngest],
    register_publisher: Callable[..., Publisher],
) -> None:
    start_ingest(stored_events=StoredEventsPublisher(redis_url, producer="ingest-under-test"))
    payments = register_publisher("payments", "24611")
    key = ApiKeyRepository(db).create("on-call", Scope.OPERATE)
    with open_socket(client, path="/ws/events") as ws:
        ws.send(json.dumps({"type": "auth", "ticket": ticket(client, key)}))
        assert receive(ws)["type"] == "ready"
        ws.send(json.dumps({"type": "subscribe", "types": ["transaction", "dead_letter"], "max_per_second": 3}))
        assert receive(ws) == {"type": "subscribed", "max_per_second": 3}
        # The tail tells only what is stored after it started reading: send one event until one arrives.
        for _ in range(20):
            payments.client.publish(payments.topic("transaction"), factories.encode(factories.transaction()))
            try:
                if receive_within(ws, 0.5)["type"] == "events":
                    break
            except TimeoutError:
                continue
        time.sleep(1.1)  # a new second, with the rate budget untouched
        with contextlib.suppress(TimeoutError):
            while True:  # warm-up events that arrived late
                receive_within(ws, 0.3)
        payments.client.publish(
            payments.topic("transaction"), factories.encode(factories.transaction(amount_vnd=42_000))
        )
        batch = receive(ws)
        assert batch["type"] == "events"
        [event] = batch["events"]  # type: ignore[misc]
        assert (event["type"], event["publisher_id"], event["area_code"], event["amount_vnd"]) == (
            "transaction",
            payments.id,
            "24611",
            42_000,
        )
        payments.client.publish(payments.topic("transaction"), b"{not json")
        assert wait_for(lambda: count_rows(database, "dead_letters") == 1)
        letter = receive(ws)
        assert [(e["type"], e["reason"], e["publisher_id"]) for e in letter["events"]] == [  # type: ignore[union-attr]
            ("dead_letter", "not_json", payments.id)
        ]
        time.sleep(1.1)  # a new second: three events go through, the rest are counted
        for n in range(8):
            payments.client.publish(payments.topic("transaction"), factories.encode(factories.transaction(seq=n)))
        seen, dropped = 0, 0
        deadline = time.monotonic() + 10
        while seen + dropped < 8 and time.monotonic() < deadline:
            message = receive(ws)
            if message["type"] == "events":
                seen += len(message["events"])  # type: ignore[arg-type]
            elif message["type"] == "sampled":
                dropped += int(message["dropped"])  # type: ignore[call-overload]
        assert seen + dropped == 8
        assert 3 <= seen < 8
