"""`GET /api/v1/alerts`, `GET /api/v1/alerts/{id}/history`, `POST /api/v1/alerts/{id}/acknowledge` (and its
older name `/ack`, scope operate). Every alert is read with its structured fields and its text in vi and en."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.http.alerts.schemas import AcknowledgeIn, AlertOut, AlertState, HistoryEntry
from api.http.alerts.texts import alert_out
from api.http.auth.dependencies import require
from api.http.auth.keys import ApiKey, Scope
from api.http.db import database
from api.http.errors import ERROR_RESPONSES, NOT_FOUND, NotFound
from api.http.state import AppState, app_state
from streams.alerts.area_book import AreaBook
from streams.alerts.store import AlertNotFound, AlertStore

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"], responses=ERROR_RESPONSES)
State = Annotated[AppState, Depends(app_state)]


@router.get("", response_model=list[AlertOut], summary="Alerts, newest first")
def alerts(
    key: Annotated[ApiKey, Depends(require(Scope.READ))],
    state: State,
    states: Annotated[list[AlertState] | None, Query(alias="state", description="repeatable")] = None,
) -> list[AlertOut]:
    with database(state) as conn:
        found = AlertStore(conn).in_states(tuple(states or ("open", "acknowledged")))
        areas = AreaBook.read(conn)
    return [alert_out(a, areas) for a in found]


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
    "/{alert_id}/acknowledge",
    response_model=AlertOut,
    summary="Acknowledge an open alert, with an optional comment (scope operate)",
    responses=NOT_FOUND,
)
def acknowledge(
    alert_id: int,
    key: Annotated[ApiKey, Depends(require(Scope.OPERATE))],
    state: State,
    body: AcknowledgeIn | None = None,
) -> AlertOut:
    with database(state) as conn:
        store = AlertStore(conn)
        store.acknowledge(alert_id, key.name, datetime.now(UTC), body.comment if body else None)  # AlertNotFound: 404
        found = store.get(alert_id)
        if found is None:
            raise AlertNotFound(alert_id)
        return alert_out(found, AreaBook.read(conn))


@router.post(
    "/{alert_id}/ack", status_code=204, summary="Acknowledge an open alert (scope operate)", responses=NOT_FOUND
)
def ack(
    alert_id: int,
    key: Annotated[ApiKey, Depends(require(Scope.OPERATE))],
    state: State,
    body: AcknowledgeIn | None = None,
) -> None:
    with database(state) as conn:
        AlertStore(conn).acknowledge(alert_id, key.name, datetime.now(UTC), body.comment if body else None)
