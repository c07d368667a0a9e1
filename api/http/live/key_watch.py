"""Every live websocket opened with a ticket of an API key ends within seconds of the key's revocation, on
every API process.

Each websocket's exchange, once subscribed, runs as a task that this watch cancels when its key is
revoked; the socket is then closed with CLOSE_REVOKED. Two ways to learn of a revocation, so that one
missed leaves no session open: the process that revokes a key publishes its name (`announce_revoked`),
which every process hears at once; and every `recheck_seconds` each process asks the database which
of its sessions' keys are still current, which finds a revocation made by SQL, or announced while
Redis was away. A ticket outlives its key by at most its 30 s: it is refused at the door (`admits`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection, Coroutine
from dataclasses import dataclass
from typing import Any

import psycopg
import redis.asyncio as aioredis
from fastapi import WebSocket, WebSocketDisconnect
from psycopg_pool import ConnectionPool

from api.http.auth.keys import ApiKeyRepository
from api.http.live.background import BackgroundTasks, subscription
from api.http.live.close_codes import CLOSE_REVOKED
from runtime.redis_names import API_KEYS_REVOKED_CHANNEL

log = logging.getLogger(__name__)
Pool = ConnectionPool[psycopg.Connection[tuple[object, ...]]]


@dataclass(eq=False)
class _Session:
    key_name: str
    task: asyncio.Task[None]
    revoked: bool = False


class KeyWatch:
    def __init__(self, redis_url: str, pool: Pool, recheck_seconds: float) -> None:
        self._redis_url = redis_url
        self._pool = pool
        self._recheck_seconds = recheck_seconds
        self._sessions: dict[str, set[_Session]] = {}  # by key name
        self._recheck_now = asyncio.Event()
        self._tasks = BackgroundTasks()

    def start(self) -> None:
        self._tasks.start(self._listen(), self._recheck())

    async def stop(self) -> None:
        await self._tasks.stop()

    async def admits(self, key_name: str) -> bool:
        """False when the key is no longer current. True when the database cannot say: the session is
        then checked again with the others, once it can."""
        try:
            return key_name in await asyncio.to_thread(self._active_among, {key_name})
        except psycopg.Error as exc:
            log.warning("API key watch: database unavailable (%s); %s admitted for now", type(exc).__name__, key_name)
            return True

    async def guard(self, websocket: WebSocket, key_name: str, exchange: Coroutine[Any, Any, None]) -> None:
        """Runs `exchange` (a websocket's life once subscribed) until it ends, or until the key is
        revoked: it is then cancelled, and the socket closed with CLOSE_REVOKED."""
        session = _Session(key_name, asyncio.ensure_future(exchange))
        self._sessions.setdefault(key_name, set()).add(session)
        try:
            await asyncio.wait({session.task})
        finally:
            self._forget(session)
            if not session.task.done():  # the guard itself was cancelled: the server is stopping
                session.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await session.task
        if session.revoked:
            # The client may have left meanwhile: then there is nothing to close.
            with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
                await websocket.close(code=CLOSE_REVOKED, reason="API key revoked")
        elif not session.task.cancelled():
            session.task.result()  # what the exchange raised, if anything

    def revoke(self, key_names: Collection[str]) -> None:
        """Ends every session of these keys in this process."""
        for name in key_names:
            for session in self._sessions.pop(name, set()):
                if not session.task.done():
                    session.revoked = True
                    session.task.cancel()

    def _forget(self, session: _Session) -> None:
        sessions = self._sessions.get(session.key_name)
        if sessions is not None:
            sessions.discard(session)
            if not sessions:
                del self._sessions[session.key_name]

    def _active_among(self, key_names: Collection[str]) -> set[str]:
        with self._pool.connection(timeout=5) as conn:
            return ApiKeyRepository(conn).active_among(key_names)

    async def _recheck(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._recheck_now.wait(), self._recheck_seconds)
            self._recheck_now.clear()
            names = set(self._sessions)
            if not names:
                continue
            try:
                active = await asyncio.to_thread(self._active_among, names)
            except psycopg.Error as exc:
                log.warning("API key watch: database unavailable (%s); rechecking later", type(exc).__name__)
                continue
            self.revoke(names - active)

    async def _listen(self) -> None:
        while True:
            try:
                async with subscription(self._redis_url, API_KEYS_REVOKED_CHANNEL) as (_, pubsub):
                    self._recheck_now.set()  # what was announced before this subscription is in the database
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self.revoke({bytes(message["data"]).decode(errors="replace")})
            except aioredis.RedisError as exc:
                log.warning("API key watch: Redis unavailable (%s); the database recheck goes on", type(exc).__name__)
                await asyncio.sleep(1)
