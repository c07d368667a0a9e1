"""`GET /api/v1/health` (no auth): each dependency `ok`, `degraded` or `down`, with reasons."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from typing import Literal

import psycopg
import redis
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.http.state import AppState, app_state
from deploy.redis_names import KPI_HEARTBEAT

State = Literal["ok", "degraded", "down"]
router = APIRouter(tags=["system"])
_ENGINE_STALE_SECONDS = 10.0


class Dependency(BaseModel):
    state: State
    reason: str = ""


class Health(BaseModel):
    status: State
    dependencies: dict[str, Dependency]


def _database(state: AppState) -> Dependency:
    try:
        with state.pool.connection(timeout=2) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return Dependency(state="down", reason=type(exc).__name__)
    return Dependency(state="ok")


def _redis_and_engine(state: AppState) -> tuple[Dependency, Dependency]:
    try:
        state.redis.ping()
        beat = state.redis.get(KPI_HEARTBEAT)
    except redis.RedisError as exc:
        down = Dependency(state="down", reason=type(exc).__name__)
        return down, Dependency(state="down", reason="Redis unavailable")
    if beat is None:
        return Dependency(state="ok"), Dependency(state="down", reason="no heartbeat from the KPI engine")
    age = (datetime.now(UTC) - datetime.fromisoformat(beat.decode())).total_seconds()  # type: ignore[union-attr]
    if age > _ENGINE_STALE_SECONDS:
        return Dependency(state="ok"), Dependency(state="degraded", reason=f"last heartbeat {age:.0f} s ago")
    return Dependency(state="ok"), Dependency(state="ok")


def _broker(state: AppState) -> Dependency:
    try:
        with socket.create_connection((state.settings.mqtt_host, state.settings.mqtt_port), timeout=1):
            pass
    except OSError as exc:
        return Dependency(state="down", reason=type(exc).__name__)
    return Dependency(state="ok")


@router.get("/api/v1/health", response_model=Health, responses={503: {"model": Health}})
def health(state: AppState = Depends(app_state)) -> JSONResponse:  # noqa: B008
    redis_state, engine = _redis_and_engine(state)
    dependencies = {"database": _database(state), "broker": _broker(state), "redis": redis_state, "streams": engine}
    worst: State = "ok"
    for d in dependencies.values():
        if d.state == "down" or (d.state == "degraded" and worst == "ok"):
            worst = d.state
    body = Health(status=worst, dependencies=dependencies)
    return JSONResponse(body.model_dump(), status_code=200 if worst == "ok" else 503)
