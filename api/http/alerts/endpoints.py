"""`GET /api/v1/alerts`, `GET /api/v1/alerts/{id}/history`, `POST /api/v1/alerts/{id}/ack` (scope operate)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from api.http.auth.dependencies import require
from api.http.auth.keys import ApiKey, Scope
from api.http.db import database
from api.http.errors import ERROR_RESPONSES, NOT_FOUND, NotFound
from api.http.state import AppState, app_state
from streams.alerts.store import AlertStore

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"], responses=ERROR_RESPONSES)
State = Annotated[AppState, Depends(app_state)]
AlertState = Literal["open", "acknowledged", "resolved"]


class AlertOut(BaseModel):
    id: int
    rule_id: str
    kpi: str
    area_code: str
    window: str
    severity: str
    state: AlertState
    message: str
    opened_at: datetime
    acknowledged_by: str | None
    muted_by: int | None = Field(description="The mute that covers it (`/api/v1/alert-mutes`), if any.")
    muted: bool = Field(description="Covered by a mute: recorded, but needs no action and is not notified.")


class HistoryEntry(BaseModel):
    at: datetime
    state: AlertState
    actor: str
    detail: str


@router.get("", response_model=list[AlertOut], summary="Alerts, newest first")
def alerts(
    key: Annotated[ApiKey, Depends(require(Scope.READ))],
    state: State,
    states: Annotated[list[AlertState] | None, Query(alias="state", description="repeatable")] = None,
) -> list[AlertOut]:
    with database(state) as conn:
        found = AlertStore(conn).in_states(tuple(states or ("open", "acknowledged")))
    return [AlertOut.model_validate({**asdict(a), "muted": a.muted_by is not None}) for a in found]


@router.get(
    "/{alert_id}/history", response_model=list[HistoryEntry], summary="An alert's lifecycle", responses=NOT_FOUND
)
def history(alert_id: int, key: Annotated[ApiKey, Depends(require(Scope.READ))], state: State) -> list[HistoryEntry]:
    with database(state) as conn:
        entries = AlertStore(conn).history(alert_id)
    if not entries:
        raise NotFound(f"no alert {alert_id}")
    return [HistoryEntry(at=at, state=s, actor=actor, detail=detail) for at, s, actor, detail in entries]


@router.post(
    "/{alert_id}/ack", status_code=204, summary="Acknowledge an open alert (scope operate)", responses=NOT_FOUND
)
def acknowledge(alert_id: int, key: Annotated[ApiKey, Depends(require(Scope.OPERATE))], state: State) -> None:
    with database(state) as conn:
        AlertStore(conn).acknowledge(alert_id, key.name, datetime.now(UTC))  # AlertNotFound: 404
