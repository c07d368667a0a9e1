"""The API's connection guard against a real uvicorn: idle connections, and requests sent too slowly (head or
body), are closed in time; at the connection bound the oldest idle connection makes room, unless every
connection is busy."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from websockets.sync.client import connect

from deploy.settings import Settings
from tests.fixtures.api import serve_api

pytestmark = pytest.mark.integration
READ_SECONDS = 1.0  # 10 in service: the mechanism is the same


def closed_by_server(sock: socket.socket, within: float) -> float | None:
    """Seconds until the server closed `sock` (reading EOF or a reset), None if it did not within `within`."""
    started = time.monotonic()
    sock.settimeout(within)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - started


@contextlib.contextmanager
def idle_connections(port: int, count: int) -> Iterator[list[socket.socket]]:
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]
    try:
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def guarded(api_config: Settings, **limits: object) -> Settings:
    return Settings.model_validate(
        api_config.model_dump() | {"api_request_read_timeout_seconds": READ_SECONDS, **limits}
    )


def test_a_connection_that_sends_no_complete_request_in_time_is_closed(api_config: Settings) -> None:
    with serve_api(guarded(api_config)) as client:
        port = client.base_url.port
        assert port is not None
        with idle_connections(port, 3) as (silent, slow_head, slow_body):
            slow_head.sendall(b"GET /api/v1/health HTTP/1.1\r\n")
            slow_body.sendall(b"POST /api/v1/apikeys HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{")
            started = time.monotonic()
            for _ in range(4):  # a byte every 0.4 s: never idle, never complete
                slow_head.sendall(b"X")
                slow_body.sendall(b" ")
                time.sleep(0.4)
            for dripping in (slow_head, slow_body):
                assert closed_by_server(dripping, within=5) is not None
            assert time.monotonic() - started < READ_SECONDS + 3  # they kept sending bytes all along
            assert closed_by_server(silent, within=5) is not None
        # A complete request in time is answered, and its connection kept alive for the next one.
        with socket.create_connection(("127.0.0.1", port)) as prompt:
            prompt.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: t\r\n\r\n")
            assert prompt.recv(12) == b"HTTP/1.1 200"
        assert client.get("/openapi.json").status_code == 200


def test_at_the_bound_the_oldest_idle_connection_makes_room_for_a_new_one(api_config: Settings) -> None:
    bound = 30
    with serve_api(guarded(api_config, api_max_connections=bound, api_request_read_timeout_seconds=10)) as client:
        port = client.base_url.port
        assert port is not None
        with idle_connections(port, bound) as held:
            time.sleep(0.2)
            with httpx.Client(base_url=str(client.base_url), timeout=5) as fresh:
                assert fresh.get("/openapi.json").status_code == 200
            assert closed_by_server(held[0], within=2) is not None  # the oldest made room
            assert closed_by_server(held[-1], within=0.5) is None  # the newest still waits


def test_at_the_bound_with_every_connection_busy_a_new_one_is_refused(api_config: Settings) -> None:
    bound = 16  # the least IOC_API_MAX_CONNECTIONS takes
    with serve_api(guarded(api_config, api_max_connections=bound, api_request_read_timeout_seconds=10)) as client:
        base = str(client.base_url).rstrip("/")
        port = client.base_url.port
        assert port is not None
        # Websockets that have been upgraded are busy (each waits up to 5 s for its ticket).
        with contextlib.ExitStack() as opened:
            for _ in range(bound):
                opened.enter_context(connect(base.replace("http", "ws") + "/ws/kpis", origin=base, open_timeout=5))  # type: ignore[arg-type]
            with idle_connections(port, 1) as (refused,):
                assert closed_by_server(refused, within=2) is not None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if client.get("/openapi.json").status_code == 200:
                    break
            time.sleep(0.1)
        else:
            pytest.fail("the API did not take connections again once the websockets closed")
