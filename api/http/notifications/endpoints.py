"""`GET /api/v1/notifications/deliveries` (scope admin): the notifier's outbox, by state, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from api.http.auth.dependencies import require
from api.http.auth.keys import ApiKey, Scope
from api.http.db import database
from api.http.errors import ERROR_RESPONSES
from api.http.filters import MAX_ROW_ID
from api.http.state import AppState, app_state
from notify.outbox import DeliveryState, OutboxRepository

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"], responses=ERROR_RESPONSES)
State = Annotated[AppState, Depends(app_state)]


class DeliveryOut(BaseModel):
    id: int
    receiver: str
    idempotency_key: str
    subject: str
    event: str
    state: DeliveryState
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_error: str
    delivered_at: datetime | None
    text_vi: str


@router.get(
    "/deliveries",
    response_model=list[DeliveryOut],
    summary="Notifications to Alertmanager and webhooks, newest first (scope admin)",
)
def deliveries(
    key: Annotated[ApiKey, Depends(require(Scope.ADMIN))],
    state: State,
    delivery_state: Annotated[DeliveryState | None, Query(alias="state")] = None,
    receiver: Annotated[str | None, Query(max_length=60, pattern=r"^[a-z0-9:_-]+$")] = None,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID, description="the last id of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryOut]:
    with database(state) as conn:
        found = OutboxRepository(conn).deliveries(delivery_state, receiver, before_id, limit)
    return [DeliveryOut.model_validate(d, from_attributes=True) for d in found]
