"""`GET /api/v1/system/status` (read): the console's status board — silent publishers, publishers with
gaps, dead-letter bursts, the engine's lag and epoch, ingest, live clients and the broker — each ok,
warning or problem with a one-line reason, and the publishers with a problem, worst first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import redis
from fastapi import APIRouter, Depends

from api.http.auth.dependencies import require
from api.http.auth.keys import ApiKey, Scope
from api.http.db import database
from api.http.errors import ERROR_RESPONSES, UNAVAILABLE
from api.http.state import AppState, app_state
from api.http.status.judgement import (
    Thresholds,
    notification_item,
    problem_publishers,
    publisher_items,
    redis_items,
    unreachable_redis_items,
    worst,
)
from api.http.status.readings import read_database, read_redis
from api.http.status.schemas import StatusItem, SystemStatus

router = APIRouter(prefix="/api/v1/system", tags=["system"], responses=ERROR_RESPONSES)
State = Annotated[AppState, Depends(app_state)]


@router.get("/status", response_model=SystemStatus, summary="The console's status board", responses=UNAVAILABLE)
def system_status(key: Annotated[ApiKey, Depends(require(Scope.READ))], state: State) -> SystemStatus:
    now = datetime.now(UTC)
    settings = state.settings
    with database(state) as conn:
        db = read_database(conn, now, settings.streams_silent_after_seconds, settings.streams_onboarding_grace_seconds)
    items = publisher_items(db, Thresholds(dead_letter_burst=settings.api_dead_letter_burst))
    try:
        readings = read_redis(state.redis)
    except redis.RedisError as exc:
        items += unreachable_redis_items(type(exc).__name__)
    else:
        items += redis_items(readings, now, publishers_heard=any(not p.silent for p in db.publishers))
    # The broker as this API's health check last saw it (at most a second old, shared with /health).
    broker = state.health.report().dependencies["broker"]
    items.append(StatusItem(name="broker", level="ok" if broker.state == "ok" else "problem",
                            reason="the broker accepts connections" if broker.state == "ok"
                            else f"the broker is {broker.state}: {broker.reason}"))  # fmt: skip
    items.append(notification_item(db))
    return SystemStatus(at=now, level=worst([i.level for i in items]), items=items, publishers=problem_publishers(db))
