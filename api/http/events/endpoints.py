"""`GET /api/v1/events/{source}`: raw stored events, filtered and paged by an opaque cursor."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from api.http.auth.dependencies import require
from api.http.auth.keys import ApiKey, Scope
from api.http.db import database
from api.http.errors import ERROR_RESPONSES, BadRequest
from api.http.events.repository import find_events
from api.http.filters import AREA_CODE, PUBLISHER_ID, Rfc3339
from api.http.state import AppState, app_state
from ingest.registry.areas import AreaRepository

router = APIRouter(prefix="/api/v1/events", tags=["events"], responses=ERROR_RESPONSES)


class EventPage(BaseModel):
    events: list[dict[str, Any]] = Field(description="Columns as stored (see the contract's JSON Schemas).")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null at the end.")


def _encode(event: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(f"{event['occurred_at'].isoformat()}|{event['event_id']}".encode()).decode()


def _decode(cursor: str) -> tuple[datetime, UUID]:
    try:
        at, _, event_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(at), UUID(event_id)
    except (ValueError, binascii.Error):
        raise BadRequest("cursor is not one this API gave out") from None


@router.get("/{source}", response_model=EventPage, summary="Raw stored events, newest first")
def events(
    source: Literal["portal", "payments", "coverage"],
    key: Annotated[ApiKey, Depends(require(Scope.READ))],
    state: Annotated[AppState, Depends(app_state)],
    area: Annotated[str | None, Query(pattern=AREA_CODE)] = None,
    publisher: Annotated[str | None, Query(pattern=PUBLISHER_ID)] = None,
    start: Annotated[Rfc3339 | None, Query(alias="from", description="RFC 3339; default: `to` − 24 h")] = None,
    end: Annotated[Rfc3339 | None, Query(alias="to", description="RFC 3339; default: now")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> EventPage:
    for name, moment in (("from", start), ("to", end)):
        if moment is not None and moment.tzinfo is None:
            raise BadRequest(f"'{name}' needs a time zone offset (RFC 3339)")
    end = end or datetime.now(UTC)
    start = start or end - timedelta(hours=24)
    after = None if cursor is None else _decode(cursor)
    with database(state) as conn:
        if area is not None:
            AreaRepository(conn).require_known([area])  # UnknownArea: 400, not an empty page
        found = find_events(
            conn, source, start=start, end=end, area=area, publisher=publisher, after=after, limit=limit
        )
    return EventPage(events=found, next_cursor=_encode(found[-1]) if len(found) == limit else None)
