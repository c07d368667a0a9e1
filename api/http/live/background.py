"""What the live fan-out's long-running parts share: their tasks, started together and stopped together, and
a fresh Redis subscription for each attempt to follow a channel."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub


class BackgroundTasks:
    """Tasks that run until `stop()`, which cancels them and waits until each has ended."""

    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, *coroutines: Coroutine[Any, Any, None]) -> None:
        self._tasks = [asyncio.create_task(coroutine) for coroutine in coroutines]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


@contextlib.asynccontextmanager
async def subscription(redis_url: str, channel: str) -> AsyncIterator[tuple[aioredis.Redis, PubSub]]:
    """A client of its own subscribed to `channel`, closed on the way out. No retries inside the client: a
    subscription that reconnected by itself would have missed what was published meanwhile, unbeknown
    to its reader; a break ends this one, and the reader starts over knowing it may have missed some."""
    client = aioredis.Redis.from_url(redis_url, retry=None, socket_keepalive=True, health_check_interval=15)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    try:
        await pubsub.subscribe(channel)
        yield client, pubsub
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await client.aclose()
