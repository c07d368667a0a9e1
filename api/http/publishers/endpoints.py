"""Publishers: list with their latest status and seq gaps (read); register and disable (admin)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from api.http.auth.dependencies import require
from api.http.auth.keys import ApiKey, Scope
from api.http.db import database
from api.http.errors import CONFLICT, ERROR_RESPONSES, NOT_FOUND, UNAVAILABLE, Unavailable
from api.http.filters import AREA_CODE
from api.http.state import AppState, app_state
from ingest.registry.connection_kit import BrokerAddress, ConnectionKit, connection_kit
from ingest.registry.publishers import BrokerAccounts, Publisher, PublisherRepository, add_publisher, disable_publisher
from streams.history import read_latest_statuses
from streams.records import StatusRecord, from_micros
from streams.seq_gaps import Delivery, deliveries, seq_gaps

router = APIRouter(prefix="/api/v1/publishers", tags=["publishers"], responses=ERROR_RESPONSES)
State = Annotated[AppState, Depends(app_state)]
_DELIVERY_WINDOW = timedelta(hours=1)  # as ops.completeness in its 1h window


class PublisherOut(BaseModel):
    id: str
    source: str
    area_code: str
    description: str
    created_at: datetime
    disabled_at: datetime | None
    retained_cleared: int = Field(
        description="Retained event messages the broker kept for it, deleted by the ingest's sweeper"
        " (only status messages may be retained)."
    )
    retained_cleared_at: datetime | None = Field(description="When the last of them was deleted.")
    status: Literal["online", "offline"] | None = Field(description="Its latest status (last will), if any.")
    status_at: datetime | None
    last_seen_at: datetime | None = Field(
        description="The newest of its latest status and its latest stored event's arrival (over the last hour)."
    )
    completeness: float | None = Field(
        description="Of its events of the last hour (event time) with a `seq`: stored ÷ (max seq − min seq + 1),"
        " in %, as ops.completeness counts it; null without such events."
    )


class NewPublisherIn(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    source: Literal["portal", "payments", "coverage"]
    area_code: str = Field(pattern=AREA_CODE)
    description: str = Field(default="", max_length=500)


class NewPublisherOut(BaseModel):
    publisher: PublisherOut
    mqtt_username: str
    mqtt_password: str = Field(
        description="Shown once: the broker keeps only its hash. The account may publish under"
        " `ioc/v1/<source>/<id>/` only and subscribe to its feedback topic only."
    )
    kit: ConnectionKit = Field(
        description="Everything needed to connect: broker URLs, TLS CA, credentials, topics, an example payload"
        " per event type, the status message and last will, and a ready-to-run `mosquitto_pub -V mqttv5` line"
        " (docs/integrators.md)."
    )


class GapOut(BaseModel):
    first: int
    last: int
    missing: int


@router.get("", response_model=list[PublisherOut], summary="Every publisher with its status, last seen, completeness")
def publishers(key: Annotated[ApiKey, Depends(require(Scope.READ))], state: State) -> list[PublisherOut]:
    now = datetime.now(UTC)
    with database(state) as conn:
        registered = PublisherRepository(conn).list()
        latest = {
            r.publisher_id: (r.state, from_micros(r.at_us))
            for r in read_latest_statuses(conn)
            if isinstance(r, StatusRecord)
        }
        delivered = deliveries(conn, now - _DELIVERY_WINDOW, now)
    return [_out(p, latest.get(p.id), delivered.get(p.id)) for p in registered]


@router.get("/{publisher_id}/gaps", response_model=list[GapOut], summary="The seq numbers it skipped")
def gaps(
    publisher_id: str,
    key: Annotated[ApiKey, Depends(require(Scope.READ))],
    state: State,
    hours: Annotated[float, Query(gt=0, le=24 * 400)] = 24,
) -> list[GapOut]:
    end = datetime.now(UTC)
    with database(state) as conn:
        found = seq_gaps(conn, publisher_id, end - timedelta(hours=hours), end)
    return [GapOut(first=g.first, last=g.last, missing=g.missing) for g in found]


@router.post(
    "",
    response_model=NewPublisherOut,
    status_code=201,
    summary="Register a publisher (scope admin)",
    responses={**CONFLICT, **UNAVAILABLE},
)
def register(
    body: NewPublisherIn, key: Annotated[ApiKey, Depends(require(Scope.ADMIN))], state: State
) -> NewPublisherOut:
    with database(state) as conn:
        # InvalidPublisher: 400, PublisherExists: 409, BrokerUnavailable: 503 (api.http.errors).
        created = add_publisher(conn, _broker_accounts(state), body.id, body.source, body.area_code, body.description)
    kit = connection_kit(created.publisher, created.password, BrokerAddress.from_settings(state.settings))
    return NewPublisherOut(
        publisher=_out(created.publisher, None),
        mqtt_username=created.publisher.id,
        mqtt_password=created.password,
        kit=kit,
    )


@router.post(
    "/{publisher_id}/disable",
    response_model=PublisherOut,
    summary="Revoke a publisher (scope admin)",
    responses={**NOT_FOUND, **UNAVAILABLE},
)
def disable(publisher_id: str, key: Annotated[ApiKey, Depends(require(Scope.ADMIN))], state: State) -> PublisherOut:
    with database(state) as conn:
        # PublisherNotFound: 404, BrokerUnavailable: 503 (api.http.errors).
        disabled = disable_publisher(conn, _broker_accounts(state), publisher_id)
    return _out(disabled, None)


def _broker_accounts(state: AppState) -> BrokerAccounts:
    if state.broker_accounts is None:
        raise Unavailable("this API has no broker admin account (IOC_MQTT_ADMIN_PASSWORD): it cannot manage publishers")
    return state.broker_accounts


_REGISTRY_FIELDS = (
    "id", "source", "area_code", "description", "created_at", "disabled_at", "retained_cleared", "retained_cleared_at"
)  # fmt: skip


def _out(p: Publisher, status: tuple[str, datetime] | None, delivery: Delivery | None = None) -> PublisherOut:
    seen = [
        t for t in (None if status is None else status[1], None if delivery is None else delivery.last_received_at) if t
    ]
    return PublisherOut.model_validate(
        {**{f: getattr(p, f) for f in _REGISTRY_FIELDS},
         "status": None if status is None else status[0], "status_at": None if status is None else status[1],
         "last_seen_at": max(seen, default=None),
         "completeness": None if delivery is None else delivery.completeness}
    )  # fmt: skip
