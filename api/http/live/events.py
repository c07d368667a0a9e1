"""`/ws/events`: the live tail of stored events and dead letters for on-call engineers (docs/websocket.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from api.http.live.events_tail import EventFilter, TailSubscriber
from api.http.live.session import Heartbeat, chosen, open_session, wait_for_work, watch_disconnect
from api.http.state import AppState

router = APIRouter(tags=["live"])
MAX_PER_SECOND = 200


@router.websocket("/ws/events")
async def events_socket(websocket: WebSocket) -> None:
    state: AppState = websocket.state.app
    opened = await open_session(websocket, state)
    if opened is not None:
        await state.keys.guard(websocket, opened.key_name, _tail(websocket, state, opened.request))


async def _tail(websocket: WebSocket, state: AppState, request: dict[str, Any]) -> None:
    rate = request.get("max_per_second", 50)
    subscriber = TailSubscriber(
        EventFilter(chosen(request, "types"), chosen(request, "areas"), chosen(request, "publishers")),
        max_per_second=max(1, min(MAX_PER_SECOND, rate if isinstance(rate, int) else 50)),
    )
    state.tail.add(subscriber)
    gone = watch_disconnect(websocket, subscriber.wake)
    heartbeat = Heartbeat(subscriber.wake)
    try:
        await websocket.send_json({"type": "subscribed", "max_per_second": subscriber.max_per_second})
        while True:
            if not await wait_for_work(websocket, heartbeat, gone):
                return
            events = []
            while not subscriber.queue.empty():
                events.append(subscriber.queue.get_nowait())
            if events:
                await websocket.send_json({"type": "events", "events": events})
            if subscriber.dropped:
                await websocket.send_json({"type": "sampled", "dropped": subscriber.dropped})
                subscriber.dropped = 0
    except WebSocketDisconnect:
        return
    finally:
        heartbeat.cancel()
        gone.cancel()
        state.tail.remove(subscriber)
