"""`GET /api/v1/health` (no auth): the API's overall status only, `ok`, `degraded` or `down` (200 when ok,
else 503). Which dependency is down, and why, is for operators: the operations listener's `/health`
(`api.http.system.ops`, docs/operations.md)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.http.state import AppState, app_state

router = APIRouter(tags=["system"])


class PublicHealth(BaseModel):
    status: Literal["ok", "degraded", "down"]


@router.get("/api/v1/health", response_model=PublicHealth, responses={503: {"model": PublicHealth}})
def health(state: AppState = Depends(app_state)) -> JSONResponse:  # noqa: B008
    status = state.health.report().status
    return JSONResponse({"status": status}, status_code=200 if status == "ok" else 503)
