"""`POST /api/v1/ws-tickets` and the live KPI websocket `/ws/kpis` (protocol in docs/websocket.md).

A browser cannot set headers on a websocket, so it trades its API key for a ticket over HTTPS and
sends the ticket as its first message (never in the URL, which ends up in logs). The Origin check
is ours: Starlette's CORS middleware does not apply to websockets.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import redis
from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect
from pydantic import BaseModel

from api.http.auth.dependencies import require
from api.http.auth.keys import ApiKey, Scope
from api.http.errors import ERROR_RESPONSES, Unavailable
from api.http.live.hub import LiveFrame, Selection, Subscriber
from api.http.live.replay import missed_frames
from api.http.live.session import chosen, open_session, wait_for_work, watch_disconnect
from api.http.live.tickets import TICKET_SECONDS, issue_ticket
from api.http.state import AppState, app_state
from deploy.redis_names import KPI_CURRENT, KPI_EPOCH
from streams.frames import KpiFrame

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
    request = await open_session(websocket, state)
    if request is None:
        return
    resume = request.get("resume")
    since = None
    if isinstance(resume, dict) and isinstance(resume.get("epoch"), str) and isinstance(resume.get("seq"), int):
        since = (resume["epoch"], resume["seq"])
    try:
        await _stream(websocket, state, _selection(request), since)
    except WebSocketDisconnect:
        return


def _selection(request: dict[str, Any]) -> Selection:
    return Selection(chosen(request, "kpis"), chosen(request, "areas"), chosen(request, "windows"))


async def _stream(websocket: WebSocket, state: AppState, selection: Selection, since: tuple[str, int] | None) -> None:
    subscriber = Subscriber(selection)
    state.hub.add(subscriber)  # before the snapshot: nothing published after it is missed
    state.metrics.live_clients.inc()
    # The client's side of the socket is read all along, so that a client that goes away is
    # noticed at once, not at the next frame or heartbeat.
    gone = watch_disconnect(websocket, subscriber.wake)
    try:
        resumed = None if since is None else await asyncio.to_thread(missed_frames, state.redis, *since)
        if resumed is None:
            epoch, last_seq = await _send_snapshot(websocket, state, selection)
        else:
            epoch, last_seq = since[0], resumed[-1].seq if resumed else since[1]  # type: ignore[index]
            selected = [f.encode() for f in resumed if selection.wants(f)]
            await _send_frames(websocket, "resumed", selected, epoch=epoch, seq=last_seq)
        while True:
            if not await wait_for_work(websocket, subscriber.wake, gone):
                return
            frames: list[LiveFrame] = []
            while not subscriber.queue.empty():
                frames.append(subscriber.queue.get_nowait())
            if subscriber.lagging or any(f.frame.epoch != epoch for f in frames):
                # Behind, or the engine started a new epoch: the latest value per key, afresh.
                if subscriber.lagging:
                    await websocket.send_text('{"type":"lagging"}')
                subscriber.lagging = False
                epoch, last_seq = await _send_snapshot(websocket, state, selection)
                continue
            fresh = [f for f in frames if f.frame.seq > last_seq]  # the snapshot may already hold some
            if fresh:
                last_seq = fresh[-1].frame.seq
                await _send_frames(websocket, "delta", [f.text for f in fresh])
    finally:
        gone.cancel()
        state.hub.remove(subscriber)
        state.metrics.live_clients.dec()


async def _send_snapshot(websocket: WebSocket, state: AppState, selection: Selection) -> tuple[str | None, int]:
    epoch, stored = await asyncio.to_thread(_read_current, state)
    frames = sorted((f for f in map(KpiFrame.decode, stored.values()) if selection.wants(f)), key=lambda f: f.seq)
    seq = max((f.seq for f in frames), default=0)
    await _send_frames(websocket, "snapshot", [f.encode() for f in frames], epoch=epoch, seq=seq)
    return epoch, seq


async def _send_frames(websocket: WebSocket, kind: str, frames: list[str], **fields: object) -> None:
    """A message with frames already encoded: a delta to many clients costs one encoding per frame."""
    head = json.dumps({"type": kind, **fields})[:-1]
    await websocket.send_text(f'{head}, "frames": [{",".join(frames)}]}}')


def _read_current(state: AppState) -> tuple[str | None, dict[bytes, bytes]]:
    with state.redis.pipeline(transaction=True) as pipe:
        pipe.get(KPI_EPOCH)
        pipe.hgetall(KPI_CURRENT)
        epoch, stored = pipe.execute()
    return (None if epoch is None else epoch.decode()), stored
