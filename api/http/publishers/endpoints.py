"""Publishers: list and one with their state, silence, status and seq gaps (read); register, disable,
enable, maintenance and silent-after (admin), each change recorded with the key's name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import psycopg
from fastapi import APIRouter, Body, Depends, Query

from api.http.auth.dependencies import require
from api.http.auth.keys import ApiKey, Scope
from api.http.db import database
from api.http.errors import CONFLICT, ERROR_RESPONSES, NOT_FOUND, UNAVAILABLE, Unavailable
from api.http.publishers.schemas import (
    ActionOut,
    GapOut,
    MaintenanceIn,
    NewPublisherIn,
    NewPublisherOut,
    PublisherOut,
    ReasonIn,
    SilentAfterIn,
)
from api.http.publishers.service import PublisherView, SilenceRules
from api.http.state import AppState, app_state
from ingest.registry.actions import recent_actions
from ingest.registry.connection_kit import BrokerAddress, connection_kit
from ingest.registry.lifecycle import enable_publisher, end_maintenance, set_maintenance, set_silent_after
from ingest.registry.publishers import BrokerAccounts, add_publisher, disable_publisher
from streams.seq_gaps import seq_gaps

router = APIRouter(prefix="/api/v1/publishers", tags=["publishers"], responses=ERROR_RESPONSES)
State = Annotated[AppState, Depends(app_state)]
Reader = Annotated[ApiKey, Depends(require(Scope.READ))]
Admin = Annotated[ApiKey, Depends(require(Scope.ADMIN))]
# InvalidPublisher: 400, PublisherNotFound: 404, PublisherExists: 409, BrokerUnavailable: 503 (api.http.errors).


def _view(state: AppState, conn: psycopg.Connection[tuple[object, ...]]) -> PublisherView:
    return PublisherView(conn, SilenceRules.of(state.settings), datetime.now(UTC))


@router.get("", response_model=list[PublisherOut], summary="Every publisher with its state, silence, status")
def publishers(key: Reader, state: State) -> list[PublisherOut]:
    with database(state) as conn:
        return _view(state, conn).all()


@router.get("/{publisher_id}", response_model=PublisherOut, summary="One publisher", responses=NOT_FOUND)
def publisher(publisher_id: str, key: Reader, state: State) -> PublisherOut:
    with database(state) as conn:
        return _view(state, conn).one(publisher_id)


@router.get("/{publisher_id}/gaps", response_model=list[GapOut], summary="The seq numbers it skipped")
def gaps(
    publisher_id: str, key: Reader, state: State, hours: Annotated[float, Query(gt=0, le=24 * 400)] = 24
) -> list[GapOut]:
    end = datetime.now(UTC)
    with database(state) as conn:
        found = seq_gaps(conn, publisher_id, end - timedelta(hours=hours), end)
    return [GapOut(first=g.first, last=g.last, missing=g.missing) for g in found]


@router.get(
    "/{publisher_id}/actions", response_model=list[ActionOut], summary="Who did what to it", responses=NOT_FOUND
)
def actions(
    publisher_id: str, key: Reader, state: State, limit: Annotated[int, Query(ge=1, le=1000)] = 50
) -> list[ActionOut]:
    with database(state) as conn:
        _view(state, conn).registered(publisher_id)
        return [ActionOut(at=a.at, actor=a.actor, action=a.action, detail=a.detail)
                for a in recent_actions(conn, publisher_id, limit)]  # fmt: skip


@router.post(
    "",
    response_model=NewPublisherOut,
    status_code=201,
    summary="Register a publisher (scope admin)",
    responses={**CONFLICT, **UNAVAILABLE},
)
def register(body: NewPublisherIn, key: Admin, state: State) -> NewPublisherOut:
    with database(state) as conn:
        created = add_publisher(conn, _broker_accounts(state), body.id, body.source, body.area_code, body.description)
        out = _view(state, conn).out(created.publisher, None)
    kit = connection_kit(created.publisher, created.password, BrokerAddress.from_settings(state.settings))
    return NewPublisherOut(publisher=out, mqtt_username=created.publisher.id, mqtt_password=created.password, kit=kit)


@router.put(
    "/{publisher_id}/maintenance",
    response_model=PublisherOut,
    summary="In maintenance until a time, with a reason (scope admin)",
    responses=NOT_FOUND,
)
def maintenance(publisher_id: str, body: MaintenanceIn, key: Admin, state: State) -> PublisherOut:
    with database(state) as conn:
        set_maintenance(conn, publisher_id, body.until, body.reason, actor=key.name, now=datetime.now(UTC))
        return _view(state, conn).one(publisher_id)


@router.delete(
    "/{publisher_id}/maintenance",
    response_model=PublisherOut,
    summary="End its maintenance now (scope admin)",
    responses=NOT_FOUND,
)
def end(publisher_id: str, key: Admin, state: State) -> PublisherOut:
    with database(state) as conn:
        end_maintenance(conn, publisher_id, actor=key.name, now=datetime.now(UTC))
        return _view(state, conn).one(publisher_id)


@router.post(
    "/{publisher_id}/disable",
    response_model=PublisherOut,
    summary="Revoke a publisher (scope admin)",
    responses={**NOT_FOUND, **UNAVAILABLE},
)
def disable(
    publisher_id: str, key: Admin, state: State, body: Annotated[ReasonIn | None, Body()] = None
) -> PublisherOut:
    reason = "" if body is None else body.reason
    with database(state) as conn:
        disable_publisher(conn, _broker_accounts(state), publisher_id, actor=key.name, reason=reason)
        return _view(state, conn).one(publisher_id)


@router.post(
    "/{publisher_id}/enable",
    response_model=PublisherOut,
    summary="Enable a disabled publisher and its broker account (scope admin)",
    responses={**NOT_FOUND, **UNAVAILABLE},
)
def enable(
    publisher_id: str, key: Admin, state: State, body: Annotated[ReasonIn | None, Body()] = None
) -> PublisherOut:
    with database(state) as conn:
        reason = "" if body is None else body.reason
        enable_publisher(conn, _broker_accounts(state), publisher_id, actor=key.name, reason=reason)
        return _view(state, conn).one(publisher_id)


@router.put(
    "/{publisher_id}/silent-after",
    response_model=PublisherOut,
    summary="How long it may stay quiet before it is silent (scope admin)",
    responses=NOT_FOUND,
)
def silent_after(publisher_id: str, body: SilentAfterIn, key: Admin, state: State) -> PublisherOut:
    with database(state) as conn:
        set_silent_after(conn, publisher_id, body.seconds, actor=key.name)
        return _view(state, conn).one(publisher_id)


def _broker_accounts(state: AppState) -> BrokerAccounts:
    if state.broker_accounts is None:
        raise Unavailable("this API has no broker admin account (IOC_MQTT_ADMIN_PASSWORD): it cannot manage publishers")
    return state.broker_accounts
