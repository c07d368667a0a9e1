"""`POST /api/v1/ws-tickets` and the live KPI websocket `/ws/kpis` (protocol in docs/websocket.md).

A browser cannot set headers on a websocket, so it trades its API key for a ticket over HTTPS and
sends the ticket as its first message (never in the URL, which ends up in logs). The Origin check
is ours: Starlette's CORS middleware does not apply to websockets.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import redis
from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect
from pydantic import BaseModel

from api.http.auth.dependencies import require
from api.http.auth.keys import ApiKey, Scope
from api.http.errors import ERROR_RESPONSES, Unavailable
from api.http.live.hub import FrameHub, Selection, Subscriber, frames_message
from api.http.live.replay import missed_frames
from api.http.live.session import Heartbeat, chosen, open_session, wait_for_work, watch_disconnect
from api.http.live.tickets import TICKET_SECONDS, issue_ticket
from api.http.state import AppState, app_state

router = APIRouter(tags=["live"])


class Ticket(BaseModel):
    ticket: str
    expires_in: int


@router.post("/api/v1/ws-tickets", response_model=Ticket, responses=ERROR_RESPONSES, summary="A websocket ticket")
def ws_ticket(
    key: Annotated[ApiKey, Depends(require(Scope.READ))], state: Annotated[AppState, Depends(app_state)]
) -> Ticket:
    try:
        ticket = issue_ticket(state.redis, key.name, key.scope)
    except redis.RedisError as exc:
        raise Unavailable("Redis is unavailable; try again") from exc
    return Ticket(ticket=ticket, expires_in=TICKET_SECONDS)


@router.websocket("/ws/kpis")
async def kpis_socket(websocket: WebSocket) -> None:
    state: AppState = websocket.state.app
    opened = await open_session(websocket, state)
    if opened is None:
        return
    request = opened.request
    resume = request.get("resume")
    since = None
    if isinstance(resume, dict) and isinstance(resume.get("epoch"), str) and isinstance(resume.get("seq"), int):
        since = (resume["epoch"], resume["seq"])
    await state.keys.guard(websocket, opened.key_name, _stream(websocket, state, _selection(request), since))


def _selection(request: dict[str, Any]) -> Selection:
    return Selection(chosen(request, "kpis"), chosen(request, "areas"), chosen(request, "windows"))


async def _stream(websocket: WebSocket, state: AppState, selection: Selection, since: tuple[str, int] | None) -> None:
    hub = state.hub
    subscriber = Subscriber(selection)
    state.metrics.live_clients.inc()
    # The client's side of the socket is read all along, so that a client that goes away is
    # noticed at once, not at the next frame or heartbeat.
    gone = watch_disconnect(websocket, subscriber.wake)
    heartbeat = Heartbeat(subscriber.wake)
    try:
        if not await _until_ready(hub, gone):
            return
        hub.subscribe(subscriber)
        resumed = (
            None
            if since is None
            else await asyncio.to_thread(missed_frames, state.redis, *since, state.metrics.flushes_refused)
        )
        if resumed is None:
            epoch, last_seq = await _send_snapshot(websocket, hub, subscriber)
        else:
            epoch, last_seq = since[0], resumed[-1].seq if resumed else since[1]  # type: ignore[index]
            selected = [f.encode() for f in resumed if selection.wants(f.kpi, f.area, f.window)]
            await websocket.send_text(frames_message("resumed", selected, epoch=epoch, seq=last_seq))
        while True:
            if not await wait_for_work(websocket, heartbeat, gone):
                return
            deltas = subscriber.take()
            if subscriber.lagging or any(d.epoch != epoch for d in deltas):
                # Behind, or the engine started a new epoch: the latest value per key, afresh.
                if subscriber.lagging:
                    await websocket.send_text('{"type": "lagging"}')
                if not await _until_ready(hub, gone):
                    return
                epoch, last_seq = await _send_snapshot(websocket, hub, subscriber)
                continue
            for delta in deltas:
                if delta.last_seq <= last_seq:
                    continue  # a replay or snapshot already held it
                if delta.seqs[0] <= last_seq:
                    await websocket.send_text(frames_message("delta", delta.texts_after(last_seq)))
                else:
                    await websocket.send_text(delta.text)
                last_seq = delta.last_seq
    except WebSocketDisconnect:
        return
    finally:
        heartbeat.cancel()
        gone.cancel()
        hub.remove(subscriber)
        state.metrics.live_clients.dec()


async def _until_ready(hub: FrameHub, gone: asyncio.Task[None]) -> bool:
    """Until the hub holds the current values (False if the client left first: Redis may be down)."""
    if not hub.ready.is_set():
        ready = asyncio.ensure_future(hub.ready.wait())
        await asyncio.wait({ready, gone}, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
    return hub.ready.is_set() and not gone.done()


async def _send_snapshot(websocket: WebSocket, hub: FrameHub, subscriber: Subscriber) -> tuple[str | None, int]:
    # Taken and the queue emptied in one step (no await between): every later delta is news.
    subscriber.take()
    subscriber.lagging = False
    snapshot = hub.snapshot(subscriber.selection)
    await websocket.send_text(frames_message("snapshot", snapshot.texts, epoch=snapshot.epoch, seq=snapshot.seq))
    return snapshot.epoch, snapshot.seq
