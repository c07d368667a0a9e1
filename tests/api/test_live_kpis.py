"""The live KPI websocket against real Redis: tickets, Origin, snapshot then deltas, a new epoch."""

from __future__ import annotations

import contextlib
import json

import httpx
import psycopg
import pytest
import redis
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from api.http.auth.keys import ApiKeyRepository, Scope
from api.http.live import session
from deploy.stack.manager import LocalStack
from streams.engine.frame_sink import FrameSink
from streams.frames import KpiFrame
from tests.fixtures.api import api_settings, bearer, serve_api
from tests.fixtures.stack import IsolatedDatabase

pytestmark = pytest.mark.integration
SAME_ORIGIN = None  # open_socket's default: the API's own origin, as a wall served by it sends


def frame(kpi: str, area: str, value: float, seq: int, epoch: str = "e1") -> KpiFrame:
    return KpiFrame(kpi, area, "5m", value, None, None, "%", None, None, "2026-11-27T03:00:00+00:00", epoch, seq)


def ticket(client: httpx.Client, key: str) -> str:
    answer = client.post("/api/v1/ws-tickets", headers=bearer(key))
    assert answer.status_code == 200
    assert answer.json()["expires_in"] == 30
    return str(answer.json()["ticket"])


def open_socket(client: httpx.Client, origin: str | None = SAME_ORIGIN, path: str = "/ws/kpis") -> ClientConnection:
    base = str(client.base_url).rstrip("/")
    url = base.replace("http://", "ws://") + path
    return connect(url, origin=origin or base, open_timeout=5)  # type: ignore[arg-type]


def receive(ws: ClientConnection) -> dict[str, object]:
    message: dict[str, object] = json.loads(ws.recv(timeout=5))
    return message


def test_a_wall_gets_a_snapshot_then_only_its_deltas_and_a_new_epoch_resynchronises(
    client: httpx.Client, db: psycopg.Connection[tuple[object, ...]], redis_url: str
) -> None:
    sink = FrameSink(redis.Redis.from_url(redis_url))
    sink.write([frame("payments.tx_count", "67", 10, 1), frame("payments.tx_count", "660", 4, 2),
                frame("coverage.usable_share", "67", 61.0, 3)], new_epoch="e1")  # fmt: skip
    key = ApiKeyRepository(db).create("wall-1", Scope.READ)
    with open_socket(client) as ws:
        ws.send(json.dumps({"type": "auth", "ticket": ticket(client, key)}))
        assert receive(ws) == {"type": "ready", "key": "wall-1"}
        ws.send(json.dumps({"type": "subscribe", "kpis": ["payments.tx_count"], "areas": ["67"], "windows": "*"}))
        snapshot = receive(ws)
        assert (snapshot["type"], snapshot["epoch"], snapshot["seq"]) == ("snapshot", "e1", 1)
        assert [(f["kpi"], f["area"], f["value"]) for f in snapshot["frames"]] == [("payments.tx_count", "67", 10)]  # type: ignore[union-attr]

        sink.write([frame("payments.tx_count", "660", 5, 4), frame("payments.tx_count", "67", 11, 5)])
        delta = receive(ws)
        assert delta["type"] == "delta"
        assert [(f["area"], f["value"], f["seq"]) for f in delta["frames"]] == [("67", 11, 5)]  # type: ignore[union-attr]

        sink.write([frame("payments.tx_count", "67", 11, 1, epoch="e2")], new_epoch="e2")
        again = receive(ws)
        assert (again["type"], again["epoch"], again["seq"]) == ("snapshot", "e2", 1)


def test_an_idle_wall_gets_heartbeats_and_its_own_heartbeats_change_nothing(
    client: httpx.Client, db: psycopg.Connection[tuple[object, ...]], redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session, "HEARTBEAT_SECONDS", 0.3)  # 15 s in service
    sink = FrameSink(redis.Redis.from_url(redis_url))
    sink.write([frame("payments.tx_count", "67", 10, 1)], new_epoch="e1")
    key = ApiKeyRepository(db).create("wall-1", Scope.READ)
    with open_socket(client) as ws:
        ws.send(json.dumps({"type": "auth", "ticket": ticket(client, key)}))
        assert receive(ws) == {"type": "ready", "key": "wall-1"}
        ws.send(json.dumps({"type": "subscribe", "kpis": "*", "areas": "*", "windows": "*"}))
        assert receive(ws)["type"] == "snapshot"
        ws.send(json.dumps({"type": "heartbeat"}))  # the wall's own: read and dropped
        assert receive(ws) == {"type": "heartbeat"}  # nothing else to send for 0.3 s
        assert receive(ws) == {"type": "heartbeat"}
        sink.write([frame("payments.tx_count", "67", 11, 2)])
        message = receive(ws)
        while message == {"type": "heartbeat"}:
            message = receive(ws)
        assert message["type"] == "delta"
        assert [(f["value"], f["seq"]) for f in message["frames"]] == [(11, 2)]  # type: ignore[union-attr]


def test_tickets_are_single_use_and_foreign_pages_are_refused(
    client: httpx.Client, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    key = ApiKeyRepository(db).create("wall-2", Scope.READ)
    used = ticket(client, key)
    with open_socket(client) as ws:
        ws.send(json.dumps({"type": "auth", "ticket": used}))
        assert receive(ws)["type"] == "ready"
    for attempt in (used, "made-up"):
        with open_socket(client) as ws:
            ws.send(json.dumps({"type": "auth", "ticket": attempt}))
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=5)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4401
    with pytest.raises(InvalidStatus) as refused:
        open_socket(client, origin="https://evil.example")
    assert refused.value.response.status_code == 403
    assert client.post("/api/v1/ws-tickets").status_code == 401


def test_a_client_that_resumes_gets_exactly_what_it_missed_or_else_a_snapshot(
    client: httpx.Client, db: psycopg.Connection[tuple[object, ...]], redis_url: str
) -> None:
    r = redis.Redis.from_url(redis_url)
    sink = FrameSink(r)
    sink.write([frame("payments.tx_count", "67", 10, 1)], new_epoch="e1")
    sink.write([frame("payments.tx_count", "67", 11, 2), frame("payments.tx_count", "660", 3, 3)])
    sink.write([frame("payments.tx_count", "67", 12, 4)])
    key = ApiKeyRepository(db).create("wall-3", Scope.READ)

    def resume(epoch: str, seq: int) -> dict[str, object]:
        with open_socket(client) as ws:
            ws.send(json.dumps({"type": "auth", "ticket": ticket(client, key)}))
            receive(ws)
            ws.send(json.dumps({"type": "subscribe", "areas": ["67"], "resume": {"epoch": epoch, "seq": seq}}))
            return receive(ws)

    missed = resume("e1", 1)  # it saw seq 1: it gets 2 and 4 (3 is another area's)
    assert (missed["type"], missed["epoch"], missed["seq"]) == ("resumed", "e1", 4)
    assert [(f["seq"], f["value"]) for f in missed["frames"]] == [(2, 11), (4, 12)]  # type: ignore[union-attr]
    assert resume("e1", 4) == {"type": "resumed", "epoch": "e1", "seq": 4, "frames": []}  # nothing missed
    assert resume("e0", 2)["type"] == "snapshot"  # another epoch: start over
    r.xtrim("ioc:kpi:frames:log", maxlen=1, approximate=False)  # the buffer no longer reaches back to seq 2
    trimmed = resume("e1", 1)
    assert (trimmed["type"], trimmed["seq"]) == ("snapshot", 4)


def test_two_api_replicas_give_their_clients_the_same_stream(
    client: httpx.Client, stack: LocalStack, database: IsolatedDatabase,
    db: psycopg.Connection[tuple[object, ...]], redis_url: str,
) -> None:  # fmt: skip
    sink = FrameSink(redis.Redis.from_url(redis_url))
    sink.write([frame("payments.tx_count", "67", 10, 1)], new_epoch="e1")
    key = ApiKeyRepository(db).create("wall-4", Scope.READ)
    with serve_api(api_settings(stack, database, redis_url)) as replica, contextlib.ExitStack() as opened:
        sockets = [opened.enter_context(open_socket(c)) for c in (client, replica)]
        for ws, other in zip(sockets, (replica, client), strict=True):
            ws.send(json.dumps({"type": "auth", "ticket": ticket(other, key)}))  # issued by the other replica
            assert receive(ws)["type"] == "ready"
            ws.send(json.dumps({"type": "subscribe"}))
        snapshots = [receive(ws) for ws in sockets]
        assert snapshots[0] == snapshots[1]
        sink.write([frame("payments.tx_count", "67", 11, 2), frame("coverage.usable_share", "24611", 55.5, 3)])
        deltas = [receive(ws) for ws in sockets]
        assert deltas[0] == deltas[1]
        assert [f["seq"] for f in deltas[0]["frames"]] == [2, 3]  # type: ignore[union-attr]


def test_a_wall_served_on_any_port_opens_its_own_websocket_and_other_origins_are_refused(
    client: httpx.Client, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    """IOC_API_ALLOWED_ORIGINS unset: the API's own origin is allowed whatever its port (the served
    port here is a free one, never the default), and the same host on another port is not."""
    key = ApiKeyRepository(db).create("wall-any-port", Scope.READ)
    port = client.base_url.port
    assert port is not None
    assert port != 18080
    for origin in (f"http://127.0.0.1:{port}", f"http://localhost:{port}"):
        with open_socket(client, origin=origin) as ws:
            ws.send(json.dumps({"type": "auth", "ticket": ticket(client, key)}))
            assert receive(ws) == {"type": "ready", "key": "wall-any-port"}
    with pytest.raises(InvalidStatus) as refused:
        open_socket(client, origin=f"http://127.0.0.1:{port + 1}")
    assert refused.value.response.status_code == 403
