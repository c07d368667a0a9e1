"""Limits on what a client can hold of `ioc api` without asking anything of it.

uvicorn reads a request for as long as the client takes, and accepts connections until the process
runs out of file descriptors: 21,200 connections that never sent a byte made every other client (the
health probe included) fail with resets. Here, for every HTTP connection of the server:

- a connection that has not sent a complete request (head and body: the API's bodies are a few
  kilobytes of JSON) within `read_timeout_seconds` of opening, or of starting its next request, is
  closed, however slowly it keeps sending;
- at most `max_connections` are open at once, websockets included. The bound sits below the process's
  open-file limit, so accepting never fails: at the bound a new connection is still accepted, and the
  oldest connection that is still waiting for a complete request is closed to make room; only when every
  connection is busy (a request being answered, a live websocket) is the new one closed instead.

The protocol is uvicorn's own (httptools) with hooks that are all public: asyncio's `connection_made`
and `connection_lost`, and httptools' `on_message_begin`, `on_headers_complete` and `on_message_complete`.
"""

from __future__ import annotations

import asyncio
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)


class ConnectionGuard:
    """The connections of one server that wait for a complete request, oldest first, and how many are open."""

    def __init__(self, read_timeout_seconds: float, max_connections: int) -> None:
        self.read_timeout_seconds = read_timeout_seconds
        self.max_connections = max_connections
        # Oldest first: every entry has the same timeout, so insertion order is deadline order.
        self._waiting: dict[GuardedHttpProtocol, float] = {}
        self._closing: set[GuardedHttpProtocol] = set()  # closed by us, `connection_lost` still to come
        self._timer: asyncio.TimerHandle | None = None
        self._closed_at_bound = 0  # for the log: the first time, the thousandth, every 100,000th

    def opened(self, connection: GuardedHttpProtocol) -> None:
        self.waiting(connection)
        if len(connection.connections) - len(self._closing) <= self.max_connections:
            return
        # At the bound: make room by closing the connection that has waited longest for a complete
        # request, which is never the new one unless nobody else is waiting (all are busy).
        oldest = next(iter(self._waiting))
        self._closed_at_bound += 1
        if self._closed_at_bound in (1, 1_000) or self._closed_at_bound % 100_000 == 0:
            log.warning("%d connections open: closing the oldest without a complete request", self.max_connections)
        self._close(oldest)

    def waiting(self, connection: GuardedHttpProtocol) -> None:
        """It reads a request from now on (unless it already did: its deadline stays)."""
        if connection not in self._waiting and connection not in self._closing:
            self._waiting[connection] = connection.loop.time() + self.read_timeout_seconds
            if self._timer is None:
                self._arm()

    def received(self, connection: GuardedHttpProtocol) -> None:
        """Its request is complete (or it became a websocket)."""
        self._waiting.pop(connection, None)

    def lost(self, connection: GuardedHttpProtocol) -> None:
        self._waiting.pop(connection, None)
        self._closing.discard(connection)

    def _close(self, connection: GuardedHttpProtocol) -> None:
        self._waiting.pop(connection, None)
        self._closing.add(connection)
        connection.transport.close()

    def _arm(self) -> None:
        first = next(iter(self._waiting.values()), None)
        if first is None:
            self._timer = None
            return
        self._timer = asyncio.get_running_loop().call_at(first, self._expire)

    def _expire(self) -> None:
        now = asyncio.get_running_loop().time()
        expired = []
        for connection, deadline in self._waiting.items():
            if deadline > now:
                break
            expired.append(connection)
        for connection in expired:
            self._close(connection)
        self._arm()


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol, reporting to the server's `ConnectionGuard` (`guarded_protocol`)."""

    guard: ConnectionGuard

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.guard.opened(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.lost(self)
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.guard.waiting(self)  # the next request on a kept-alive connection

    def on_headers_complete(self) -> None:
        if self.parser.should_upgrade():  # a websocket from now on: busy, not waiting
            self.guard.received(self)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.guard.received(self)
        super().on_message_complete()


def guarded_protocol(guard: ConnectionGuard) -> type[GuardedHttpProtocol]:
    """The protocol class for one server (uvicorn takes a class and builds one per connection)."""
    return type("GuardedHttpProtocol", (GuardedHttpProtocol,), {"guard": guard})
