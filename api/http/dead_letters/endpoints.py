"""`GET /api/v1/dead-letters` (by reason, publisher and arrival time) and `POST /api/v1/dead-letters/{id}/replay`
(scope operate)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from api.http.auth.dependencies import require
from api.http.auth.keys import ApiKey, Scope
from api.http.db import database
from api.http.dead_letters.repository import ConsoleDeadLetters
from api.http.dead_letters.selection import DeadLetterFilter, dead_letter_filter
from api.http.errors import ERROR_RESPONSES, NOT_FOUND
from api.http.filters import MAX_ROW_ID
from api.http.state import AppState, app_state
from ingest.service.replays import DeadLetterReplayer

router = APIRouter(prefix="/api/v1/dead-letters", tags=["dead letters"], responses=ERROR_RESPONSES)
State = Annotated[AppState, Depends(app_state)]


class DeadLetterOut(BaseModel):
    id: int
    received_at: datetime
    topic: str
    publisher_id: str | None
    reason: str
    detail: str
    payload_bytes: int
    resolved_at: datetime | None
    last_replay_at: datetime | None
    last_replay_outcome: str | None


class ReplayOut(BaseModel):
    id: int
    status: Literal["stored", "duplicate", "rejected", "already_resolved"]
    detail: str


@router.get("", response_model=list[DeadLetterOut], summary="Dead letters, newest first")
def dead_letters(
    key: Annotated[ApiKey, Depends(require(Scope.READ))],
    state: State,
    selection: Annotated[DeadLetterFilter, Depends(dead_letter_filter)],
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID, description="the last id of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeadLetterOut]:
    with database(state) as conn:
        found = ConsoleDeadLetters(conn).page(selection, before_id, limit)
    return [DeadLetterOut.model_validate(d, from_attributes=True) for d in found]


@router.post(
    "/{dead_letter_id}/replay",
    response_model=ReplayOut,
    summary="Validate and store again (scope operate)",
    responses=NOT_FOUND,
)
def replay(dead_letter_id: int, key: Annotated[ApiKey, Depends(require(Scope.OPERATE))], state: State) -> ReplayOut:
    with database(state) as conn:
        replayer = DeadLetterReplayer(conn, state.settings)
        try:
            outcome = replayer.replay(dead_letter_id)  # DeadLetterNotFound: 404
        finally:
            replayer.close()
    return ReplayOut(id=outcome.dead_letter_id, status=outcome.status, detail=outcome.detail)
