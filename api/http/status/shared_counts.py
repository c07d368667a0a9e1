"""Each API process tells Redis how many live websocket clients it serves, so that any replica's status
board can add up those of all of them without reaching the others (`API_LIVE_CLIENTS_PREFIX`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import uuid
from collections.abc import Callable

import redis.asyncio as aioredis

from runtime.redis_names import API_LIVE_CLIENTS_PREFIX

log = logging.getLogger(__name__)
SHARE_EVERY_SECONDS = 5.0
_TTL_SECONDS = 15  # three missed refreshes: the process is gone, its count with it


class LiveClientShare:
    """Writes `counts()` under this process's key every 5 s until `stop()`, which deletes the key."""

    def __init__(self, redis_url: str, counts: Callable[[], dict[str, int]]) -> None:
        self._redis_url = redis_url
        self._counts = counts
        self.key = f"{API_LIVE_CLIENTS_PREFIX}{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._share(), name="live-client-share")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        client = aioredis.Redis.from_url(self._redis_url, socket_timeout=2, socket_connect_timeout=2)
        try:
            await client.delete(self.key)
        except aioredis.RedisError:
            pass  # expires by itself
        finally:
            await client.aclose()

    async def _share(self) -> None:
        client = aioredis.Redis.from_url(self._redis_url, socket_timeout=2, socket_connect_timeout=2)
        try:
            while True:
                try:
                    await client.set(self.key, json.dumps(self._counts()), ex=_TTL_SECONDS)
                except aioredis.RedisError as exc:  # Redis away: the board says so; try again at the next turn
                    log.debug("live client count not shared: %s", type(exc).__name__)
                await asyncio.sleep(SHARE_EVERY_SECONDS)
        finally:
            await client.aclose()
