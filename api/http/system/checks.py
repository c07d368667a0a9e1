"""The API's dependencies, each `ok`, `degraded` or `down` with a reason: what its health answers.

Checks run at most once a second, whoever asks: the public `GET /api/v1/health` needs no key, and a
check opens a connection to the broker and asks the database and Redis.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from datetime import UTC, datetime
from typing import Literal

import psycopg
import redis
from psycopg_pool import ConnectionPool
from pydantic import BaseModel

from api.http.settings import ApiSettings
from runtime.redis_names import KPI_HEARTBEAT

State = Literal["ok", "degraded", "down"]
Pool = ConnectionPool[psycopg.Connection[tuple[object, ...]]]
_ENGINE_STALE_SECONDS = 10.0
_LOOP_ANSWER_SECONDS = 2.0
_FRESH_SECONDS = 1.0


class Dependency(BaseModel):
    state: State
    reason: str = ""


class Health(BaseModel):
    status: State
    dependencies: dict[str, Dependency]

    def to_json(self) -> dict[str, object]:
        return self.model_dump()


class HealthChecks:
    def __init__(self, settings: ApiSettings, pool: Pool, client: redis.Redis, loop: asyncio.AbstractEventLoop) -> None:
        self._settings = settings
        self._pool = pool
        self._redis = client
        self._loop = loop
        self._lock = threading.Lock()
        self._last: tuple[float, Health] | None = None

    def report(self) -> Health:
        """The latest report when it is less than a second old (shared by whoever asks meanwhile), else a new one."""
        with self._lock:
            if self._last is not None and time.monotonic() - self._last[0] < _FRESH_SECONDS:
                return self._last[1]
            redis_state, engine = self._redis_and_engine()
            dependencies = {
                "database": self._database(), "broker": self._broker(), "redis": redis_state, "streams": engine,
                "event_loop": self._event_loop(),
            }  # fmt: skip
            worst: State = "ok"
            for d in dependencies.values():
                if d.state == "down" or (d.state == "degraded" and worst == "ok"):
                    worst = d.state
            health = Health(status=worst, dependencies=dependencies)
            self._last = (time.monotonic(), health)
            return health

    def _database(self) -> Dependency:
        try:
            with self._pool.connection(timeout=2) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            return Dependency(state="down", reason=type(exc).__name__)
        return Dependency(state="ok")

    def _redis_and_engine(self) -> tuple[Dependency, Dependency]:
        try:
            self._redis.ping()
            beat = self._redis.get(KPI_HEARTBEAT)
        except redis.RedisError as exc:
            down = Dependency(state="down", reason=type(exc).__name__)
            return down, Dependency(state="down", reason="Redis unavailable")
        if beat is None:
            return Dependency(state="ok"), Dependency(state="down", reason="no heartbeat from the KPI engine")
        age = (datetime.now(UTC) - datetime.fromisoformat(beat.decode())).total_seconds()  # type: ignore[union-attr]
        if age > _ENGINE_STALE_SECONDS:
            return Dependency(state="ok"), Dependency(state="degraded", reason=f"last heartbeat {age:.0f} s ago")
        return Dependency(state="ok"), Dependency(state="ok")

    def _broker(self) -> Dependency:
        try:
            with socket.create_connection((self._settings.mqtt_host, self._settings.mqtt_port), timeout=1):
                pass
        except OSError as exc:
            return Dependency(state="down", reason=type(exc).__name__)
        return Dependency(state="ok")

    def _event_loop(self) -> Dependency:
        """Whether the loop that serves every request and websocket still runs callbacks: the operations
        listener answers from a thread of its own, so it has to ask (and `report` must never run on the
        loop's own thread: the public route is a plain `def`, which FastAPI runs in a worker thread)."""
        answered = threading.Event()
        try:
            self._loop.call_soon_threadsafe(answered.set)
        except RuntimeError:  # closed: the process is stopping
            return Dependency(state="down", reason="the event loop is closed")
        if not answered.wait(_LOOP_ANSWER_SECONDS):
            return Dependency(state="down", reason=f"no answer from the event loop within {_LOOP_ANSWER_SECONDS:g} s")
        return Dependency(state="ok")
