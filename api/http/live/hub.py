"""The live fan-out of one API process: one Redis subscription, a bounded queue per websocket client.

The listener never waits on a client: a frame goes into each interested client's queue without
blocking, and a client whose queue is full is marked lagging — its queue is dropped and it gets a
fresh snapshot (the latest value per key) at its next turn, so a slow client costs only itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import NamedTuple

import redis.asyncio as aioredis

from deploy.redis_names import KPI_FRAMES_CHANNEL
from streams.engine.frame_sink import decode_batch
from streams.frames import KpiFrame

log = logging.getLogger(__name__)
QUEUE_FRAMES = 2_000


@dataclass(frozen=True)
class Selection:
    """What a client subscribed to; an empty set means every value."""

    kpis: frozenset[str] = frozenset()
    areas: frozenset[str] = frozenset()
    windows: frozenset[str] = frozenset()

    def wants(self, frame: KpiFrame) -> bool:
        return (
            (not self.kpis or frame.kpi in self.kpis)
            and (not self.areas or frame.area in self.areas)
            and (not self.windows or frame.window in self.windows)
        )


class LiveFrame(NamedTuple):
    frame: KpiFrame
    text: str  # its JSON, encoded once for every client that wants it


@dataclass(eq=False)
class Subscriber:
    selection: Selection
    queue: asyncio.Queue[LiveFrame] = field(default_factory=lambda: asyncio.Queue(QUEUE_FRAMES))
    lagging: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, live: LiveFrame) -> None:
        if self.lagging or not self.selection.wants(live.frame):
            return
        try:
            self.queue.put_nowait(live)
        except asyncio.QueueFull:
            self.lagging = True  # its sender will resynchronise it with a snapshot
            self.queue = asyncio.Queue(QUEUE_FRAMES)
        self.wake.set()


class FrameHub:
    def __init__(self, redis_url: str) -> None:
        self._redis_url = redis_url
        self._subscribers: set[Subscriber] = set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="frame-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def add(self, subscriber: Subscriber) -> None:
        self._subscribers.add(subscriber)

    def remove(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    async def _listen(self) -> None:
        while True:
            client = aioredis.Redis.from_url(self._redis_url)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(KPI_FRAMES_CHANNEL)
                async for message in pubsub.listen():
                    if message["type"] != "message":
                        continue
                    subscribers = list(self._subscribers)
                    for frame in decode_batch(message["data"]):
                        live = LiveFrame(frame, frame.encode())
                        for subscriber in subscribers:
                            subscriber.offer(live)
            except aioredis.RedisError as exc:
                log.warning("live frames: Redis unavailable (%s); clients will resynchronise", type(exc).__name__)
                for subscriber in list(self._subscribers):
                    subscriber.lagging = True
                    subscriber.wake.set()
                await asyncio.sleep(1)
            finally:
                await pubsub.aclose()  # type: ignore[no-untyped-call]
                await client.aclose()
