"""`GET /api/v1/incidents`, `GET /api/v1/incidents/{id}`, `POST /api/v1/incidents/{id}/acknowledge` (scope
operate): one cause, one incident — the alerts of one rule in one subtree of areas (streams/alerts/incidents.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, Query

from api.http.alerts.schemas import AcknowledgeIn, AlertOut, AlertState, IncidentChange, IncidentDetailOut, IncidentOut
from api.http.alerts.texts import alert_out, incident_out
from api.http.auth.dependencies import require
from api.http.auth.keys import ApiKey, Scope
from api.http.db import database
from api.http.errors import ERROR_RESPONSES, NOT_FOUND
from api.http.state import AppState, app_state
from streams.alerts.area_book import AreaBook
from streams.alerts.store import AlertStore

router = APIRouter(prefix="/api/v1/incidents", tags=["alerts"], responses=ERROR_RESPONSES)
State = Annotated[AppState, Depends(app_state)]


@router.get("", response_model=list[IncidentOut], summary="Incidents, newest first")
def incidents(
    key: Annotated[ApiKey, Depends(require(Scope.READ))],
    state: State,
    states: Annotated[list[AlertState] | None, Query(alias="state", description="repeatable")] = None,
) -> list[IncidentOut]:
    with database(state) as conn:
        store = AlertStore(conn)
        found = store.incidents.in_states(tuple(states or ("open", "acknowledged")))
        areas = AreaBook.read(conn)
        members: dict[int, list[AlertOut]] = {}
        for alert in store.members([i.id for i in found]):
            members.setdefault(alert.incident_id or 0, []).append(alert_out(alert, areas))
    return [incident_out(i, members.get(i.id, []), areas) for i in found]


@router.get("/{incident_id}", response_model=IncidentDetailOut, summary="An incident, its alerts and its history",
            responses=NOT_FOUND)  # fmt: skip
def incident(incident_id: int, key: Annotated[ApiKey, Depends(require(Scope.READ))], state: State) -> IncidentDetailOut:
    with database(state) as conn:
        return _detail(conn, incident_id)


@router.post(
    "/{incident_id}/acknowledge",
    response_model=IncidentDetailOut,
    summary="Acknowledge an open incident and its open alerts, with an optional comment (scope operate)",
    responses=NOT_FOUND,
)
def acknowledge(
    incident_id: int,
    key: Annotated[ApiKey, Depends(require(Scope.OPERATE))],
    state: State,
    body: AcknowledgeIn | None = None,
) -> IncidentDetailOut:
    with database(state) as conn:
        # IncidentNotFound: 404
        AlertStore(conn).acknowledge_incident(incident_id, key.name, datetime.now(UTC), body.comment if body else None)
        return _detail(conn, incident_id)


def _detail(conn: psycopg.Connection[tuple[object, ...]], incident_id: int) -> IncidentDetailOut:
    store = AlertStore(conn)
    found = store.incidents.get(incident_id)  # IncidentNotFound: 404
    areas = AreaBook.read(conn)
    members = [alert_out(a, areas) for a in store.members([incident_id])]
    history = [
        IncidentChange(at=at, change=change, actor=actor, detail=detail)
        for at, change, actor, detail in store.incidents.history(incident_id)
    ]
    summary = incident_out(found, members, areas)
    return IncidentDetailOut(**summary.model_dump(), alerts=members, history=history)
