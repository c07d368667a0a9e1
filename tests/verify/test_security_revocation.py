"""Revoking an API key ends the live websockets opened with its tickets, on every API replica.

An open `/ws/events` session kept receiving 10 of 10 events after its key was revoked. Here two `ioc api`
processes (replicas) share the database and Redis; each holds a `/ws/events` and a `/ws/kpis` socket of
the key that is revoked and of one that is not. Two ways to revoke: through the API (the replica that
revokes announces it) and in the database alone (nobody announces it: each replica's periodic recheck
finds it); and a ticket taken before the revocation is refused after it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from api.http.auth.keys import ApiKeyRepository, Scope
from api.http.live.close_codes import CLOSE_REVOKED
from deploy.stack.manager import LocalStack
from ingest.service.stored_events_publisher import StoredEventsPublisher
from tests.api.test_live_kpis import open_socket, receive, ticket
from tests.fixtures.api import api_process, bearer
from tests.fixtures.ingest import wait_for
from tests.fixtures.stack import IsolatedDatabase
from tests.verify.report import ScenarioResult

pytestmark = pytest.mark.integration
PATHS = ("/ws/events", "/ws/kpis")
WITHIN_SECONDS = 10.0
SUBSCRIBE = {"type": "subscribe", "types": "*", "kpis": "*", "areas": "*", "windows": "*", "max_per_second": 200}


@dataclass
class Watched:
    """One live socket, read to its end by a thread of its own: the events it got, how it closed."""

    name: str
    ws: ClientConnection
    events: list[tuple[float, int]] = field(default_factory=list)  # (when, the event's seq)
    closed_at: float | None = None
    code: int | None = None

    def read(self) -> None:
        try:
            while True:
                message = json.loads(self.ws.recv())
                if message["type"] == "events":
                    self.events.extend((time.monotonic(), event["seq"]) for event in message["events"])
        except ConnectionClosed as closed:
            self.code = None if closed.rcvd is None else closed.rcvd.code
        self.closed_at = time.monotonic()


@contextmanager
def watched(client: httpx.Client, key: str, path: str, name: str) -> Iterator[Watched]:
    with open_socket(client, path=path) as ws:
        ws.send(json.dumps({"type": "auth", "ticket": ticket(client, key)}))
        assert receive(ws)["type"] == "ready"
        ws.send(json.dumps(SUBSCRIBE))
        assert receive(ws)["type"] in ("subscribed", "snapshot")
        socket = Watched(name, ws)
        reader = threading.Thread(target=socket.read, name=f"ws-{name}", daemon=True)
        reader.start()
        try:
            yield socket
        finally:
            ws.close()
            reader.join(5)


def transaction(seq: int) -> list[Any]:
    return ["pub-revocation", "67", datetime.now(UTC), seq, "tax", "qr", 1000, "succeeded"]


def test_revoking_a_key_closes_its_websockets_on_every_replica_within_10_s(
    stack: LocalStack,
    database: IsolatedDatabase,
    db: psycopg.Connection[tuple[object, ...]],
    redis_url: str,
    scenario: ScenarioResult,
) -> None:
    scenario.scenario = "Security: revoking an API key closes its live websockets on every API replica within 10 s"
    keys = ApiKeyRepository(db)
    admin = keys.create("admin", Scope.ADMIN)
    held = {name: keys.create(name, Scope.OPERATE) for name in ("on-call", "scripted", "kept")}
    events = StoredEventsPublisher(redis_url, producer="revocation-test")
    with ExitStack() as stack_of:
        clients = [
            stack_of.enter_context(
                httpx.Client(base_url=stack_of.enter_context(api_process(stack, database, redis_url)))
            )
            for _ in range(2)
        ]
        sockets = {
            (name, replica, path): stack_of.enter_context(watched(client, key, path, f"{name}@{replica}{path}"))
            for name, key in held.items()
            for replica, client in enumerate(clients)
            for path in PATHS
        }
        scenario.load = f"2 API replicas, {len(sockets)} live sockets of 3 keys, 10 events after each revocation"
        tails = [s for (_, _, path), s in sockets.items() if path == "/ws/events"]
        seq = 0
        while not all(s.events for s in tails):  # the tails read what is stored after they joined
            seq += 1
            events.publish({"transaction": [transaction(seq)]}, ())
            assert seq < 200, "the event tails never started"
            time.sleep(0.05)
        ticket_before = ticket(clients[1], held["scripted"])

        # Through the API, on replica 0: every replica hears of it.
        assert clients[0].post("/api/v1/apikeys/on-call/revoke", headers=bearer(admin)).status_code == 204
        announced_close = _closed_within(sockets, "on-call", events, first_seq=1000)

        # In the database only: nobody announces it; each replica's recheck finds it.
        assert keys.revoke("scripted")
        rechecked_close = _closed_within(sockets, "scripted", events, first_seq=2000)
        with open_socket(clients[1], path="/ws/events") as late:
            late.send(json.dumps({"type": "auth", "ticket": ticket_before}))
            with pytest.raises(ConnectionClosed) as refused:
                late.recv(timeout=5)
        assert refused.value.rcvd is not None
        assert refused.value.rcvd.code == CLOSE_REVOKED

        kept = [s for (name, _, _), s in sockets.items() if name == "kept"]
        assert all(s.closed_at is None for s in kept), [s.name for s in kept if s.closed_at is not None]
        kept_tails = [s for s in kept if s in tails]
        assert all(
            {1000 + i for i in range(10)} | {2000 + i for i in range(10)} <= {q for _, q in s.events}
            for s in kept_tails
        )
    scenario.measure("sockets closed with 4410 (API revocation)", announced_close[0])
    scenario.measure("slowest close after API revocation, s", announced_close[1])
    scenario.measure("events received after it", announced_close[2])
    scenario.measure("sockets closed with 4410 (database only)", rechecked_close[0])
    scenario.measure("slowest close after database revocation, s", rechecked_close[1])
    scenario.measure("sockets of the other key still open", len(kept))


def _closed_within(
    sockets: dict[tuple[str, int, str], Watched], name: str, events: StoredEventsPublisher, first_seq: int
) -> tuple[int, float, int]:
    """Publishes 10 events while the key's sockets close; how many closed with 4410, the slowest close
    (seconds after the revocation), and how many events they received after it."""
    revoked_at = time.monotonic()
    for i in range(10):
        events.publish({"transaction": [transaction(first_seq + i)]}, ())
        time.sleep(0.1)
    theirs = [s for (key, _, _), s in sockets.items() if key == name]
    left = WITHIN_SECONDS - (time.monotonic() - revoked_at)
    assert wait_for(lambda: all(s.closed_at is not None for s in theirs), timeout=left), [
        s.name for s in theirs if s.closed_at is None
    ]
    assert [s.code for s in theirs] == [CLOSE_REVOKED] * len(theirs), [(s.name, s.code) for s in theirs]
    slowest = max(s.closed_at - revoked_at for s in theirs if s.closed_at is not None)
    assert slowest <= WITHIN_SECONDS
    after = sum(1 for s in theirs for when, _ in s.events if when > revoked_at)
    return len(theirs), slowest, after
