"""API keys: list, create (the key is shown once), revoke; scope admin."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.http.auth.dependencies import require
from api.http.auth.keys import ApiKey, ApiKeyRepository, Scope
from api.http.auth.revocations import announce_revoked
from api.http.db import database
from api.http.errors import CONFLICT, ERROR_RESPONSES, NOT_FOUND, NotFound
from api.http.state import AppState, app_state

router = APIRouter(tags=["administration"], responses=ERROR_RESPONSES)
State = Annotated[AppState, Depends(app_state)]
Admin = Annotated[ApiKey, Depends(require(Scope.ADMIN))]


class KeyOut(BaseModel):
    name: str
    scope: Literal["read", "operate", "admin"]
    created_at: datetime
    revoked_at: datetime | None


class NewKeyIn(BaseModel):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$", examples=["wall-1"])
    scope: Literal["read", "operate", "admin"]


class NewKeyOut(BaseModel):
    name: str
    scope: str
    key: str = Field(description="Shown once: only its hash is kept.")


@router.get("/api/v1/apikeys", response_model=list[KeyOut], summary="Every API key, without secrets (admin)")
def keys(key: Admin, state: State) -> list[KeyOut]:
    with database(state) as conn:
        found = ApiKeyRepository(conn).list()
    return [KeyOut(name=k.name, scope=k.scope.label, created_at=k.created_at, revoked_at=k.revoked_at) for k in found]


@router.post(
    "/api/v1/apikeys",
    response_model=NewKeyOut,
    status_code=201,
    summary="Create an API key (admin)",
    responses=CONFLICT,
)
def create_key(body: NewKeyIn, key: Admin, state: State) -> NewKeyOut:
    with database(state) as conn:
        secret = ApiKeyRepository(conn).create(body.name, Scope.parse(body.scope))  # KeyNameTaken: 409
    return NewKeyOut(name=body.name, scope=body.scope, key=secret)


@router.post("/api/v1/apikeys/{name}/revoke", status_code=204, summary="Revoke an API key (admin)", responses=NOT_FOUND)
def revoke_key(name: str, key: Admin, state: State) -> None:
    with database(state) as conn:
        if not ApiKeyRepository(conn).revoke(name):
            raise NotFound(f"no active API key named {name}")
    announce_revoked(state.redis, name)  # every API process closes the key's websockets
