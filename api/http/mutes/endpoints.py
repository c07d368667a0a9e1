"""`/api/v1/alert-mutes`: mute windows for a rule, an area (and the areas below it), or both (read; operate
to make or remove one, recorded with the key's name)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from api.http.auth.dependencies import require
from api.http.auth.keys import ApiKey, Scope
from api.http.db import database
from api.http.errors import CONFLICT, ERROR_RESPONSES, NOT_FOUND
from api.http.filters import AREA_CODE, Rfc3339
from api.http.state import AppState, app_state
from runtime.operator_input import MAX_REASON_CHARS
from streams.alerts.mutes import Mute, MuteRepository

router = APIRouter(prefix="/api/v1/alert-mutes", tags=["alerts"], responses=ERROR_RESPONSES)
State = Annotated[AppState, Depends(app_state)]


class MuteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule_id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", description="An alert rule's id.")
    area_code: str | None = Field(default=None, pattern=AREA_CODE, description="The area and every area below it.")
    until: Rfc3339 = Field(description="RFC 3339 with an offset, in the future, within 366 days.")
    reason: str = Field(description=f"Why: one line, 1 to {MAX_REASON_CHARS} characters, no control characters.")


class MuteOut(BaseModel):
    id: int
    rule_id: str | None
    area_code: str | None
    until: datetime
    reason: str
    created_by: str
    created_at: datetime
    removed_by: str | None
    removed_at: datetime | None
    in_force: bool = Field(description="Neither removed nor past its `until`.")


def _out(mute: Mute, now: datetime) -> MuteOut:
    return MuteOut.model_validate({**asdict(mute), "in_force": mute.in_force(now)})


@router.get("", response_model=list[MuteOut], summary="Mute windows, newest first")
def mutes(
    key: Annotated[ApiKey, Depends(require(Scope.READ))],
    state: State,
    include_ended: Annotated[bool, Query(description="also the expired and removed ones")] = False,
) -> list[MuteOut]:
    now = datetime.now(UTC)
    with database(state) as conn:
        return [_out(m, now) for m in MuteRepository(conn).list(include_ended=include_ended)]


@router.post("", response_model=MuteOut, status_code=201, summary="Mute alerts until a time (scope operate)")
def mute(body: MuteIn, key: Annotated[ApiKey, Depends(require(Scope.OPERATE))], state: State) -> MuteOut:
    now = datetime.now(UTC)
    with database(state) as conn:
        # InvalidMute: 400 (api.http.errors).
        created = MuteRepository(conn).create(
            body.rule_id, body.area_code, body.until, body.reason, actor=key.name, now=now
        )
    return _out(created, now)


@router.delete(
    "/{mute_id}", response_model=MuteOut, summary="Remove a mute (scope operate)", responses={**NOT_FOUND, **CONFLICT}
)
def unmute(mute_id: int, key: Annotated[ApiKey, Depends(require(Scope.OPERATE))], state: State) -> MuteOut:
    now = datetime.now(UTC)
    with database(state) as conn:
        # MuteNotFound: 404, MuteRemoved: 409 (api.http.errors).
        removed = MuteRepository(conn).remove(mute_id, actor=key.name, now=now)
    return _out(removed, now)
