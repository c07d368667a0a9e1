"""What every live websocket does first: check the Origin, take a ticket as the first message, read `subscribe`."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from api.http.live.close_codes import CLOSE_AUTH, CLOSE_ORIGIN, CLOSE_PROTOCOL, CLOSE_REVOKED
from api.http.live.tickets import redeem_ticket
from api.http.state import AppState

AUTH_SECONDS = 5.0
HEARTBEAT_SECONDS = 15.0


@dataclass(frozen=True)
class OpenedSession:
    key_name: str  # the API key the ticket was issued for
    request: dict[str, Any]  # the client's `subscribe` message


async def open_session(websocket: WebSocket, state: AppState) -> OpenedSession | None:
    """The client's key and `subscribe` message once it is allowed in; None after closing the socket on it."""
    origin = websocket.headers.get("origin")
    if origin is not None and origin not in state.allowed_origins:
        await websocket.close(code=CLOSE_ORIGIN, reason="origin not allowed")
        return None
    await websocket.accept()
    try:
        first = await asyncio.wait_for(websocket.receive_json(), AUTH_SECONDS)
        ticket = str(first.get("ticket", "")) if isinstance(first, dict) and first.get("type") == "auth" else ""
        who = await asyncio.to_thread(redeem_ticket, state.redis, ticket)
        if who is None:
            await websocket.close(code=CLOSE_AUTH, reason="a valid ticket first: POST /api/v1/ws-tickets")
            return None
        if not await state.keys.admits(who[1]):  # revoked since the ticket was issued
            await websocket.close(code=CLOSE_REVOKED, reason="API key revoked")
            return None
        await websocket.send_json({"type": "ready", "key": who[1]})
        request = await asyncio.wait_for(websocket.receive_json(), AUTH_SECONDS)
    except (TimeoutError, WebSocketDisconnect, json.JSONDecodeError):
        return None
    if not isinstance(request, dict) or request.get("type") != "subscribe":
        await websocket.close(code=CLOSE_PROTOCOL, reason="expected subscribe")
        return None
    return OpenedSession(who[1], request)


def watch_disconnect(websocket: WebSocket, wake: asyncio.Event) -> asyncio.Task[None]:
    """A task that ends when the client closes, reading (and dropping) what it sends meanwhile, such
    as its heartbeats; it sets `wake` as it ends, so that a sender waiting for work notices at once."""

    async def until_disconnected() -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return

    gone = asyncio.create_task(until_disconnected())
    gone.add_done_callback(lambda _: wake.set())
    return gone


class Heartbeat:
    """Wakes a sender that has sent nothing for HEARTBEAT_SECONDS, so that it sends a heartbeat.

    One timer per client, re-armed only when it fires: an `asyncio.timeout` around every wait
    scheduled and cancelled a timer at every flush for every client, which made the send path
    measurably dearer with 500 walls (docs/performance.md#design-figures).
    """

    def __init__(self, wake: asyncio.Event) -> None:
        self.wake = wake
        self.due = False
        self._loop = asyncio.get_running_loop()
        self._last_active = self._loop.time()
        self._timer = self._loop.call_later(HEARTBEAT_SECONDS, self._check)

    def active(self) -> None:
        self._last_active = self._loop.time()

    def cancel(self) -> None:
        self._timer.cancel()

    def _check(self) -> None:
        idle = self._loop.time() - self._last_active
        if idle >= HEARTBEAT_SECONDS:
            self.due = True
            self.wake.set()
            idle = 0.0
        self._timer = self._loop.call_later(HEARTBEAT_SECONDS - idle, self._check)


async def wait_for_work(websocket: WebSocket, heartbeat: Heartbeat, gone: asyncio.Task[None]) -> bool:
    """True once the sender's `wake` is set (and cleared again), after sending a heartbeat if one is
    due; False when the client has gone. The caller takes what is queued, which may be nothing."""
    await heartbeat.wake.wait()
    heartbeat.wake.clear()
    if gone.done():
        return False
    if heartbeat.due:
        heartbeat.due = False
        await websocket.send_json({"type": "heartbeat"})
    heartbeat.active()
    return True


def chosen(request: dict[str, Any], name: str) -> frozenset[str]:
    """A subscription's list (empty set: everything, as `"*"` or when absent)."""
    value = request.get(name, "*")
    return frozenset() if value == "*" or not isinstance(value, list) else frozenset(str(v) for v in value)
