"""`GET /api/v1/areas`: the administrative tree (province → districts → communes → villages)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from api.http.auth.dependencies import require
from api.http.auth.keys import ApiKey, Scope
from api.http.db import database
from api.http.errors import ERROR_RESPONSES
from api.http.state import AppState, app_state

router = APIRouter(prefix="/api/v1/areas", tags=["areas"], responses=ERROR_RESPONSES)


class Area(BaseModel):
    code: str
    level: str
    unit_type: str
    name_vi: str
    name_en: str
    children: list[Area] = []


@router.get("", response_model=list[Area], summary="The areas as a tree")
def areas(
    key: Annotated[ApiKey, Depends(require(Scope.READ))], state: Annotated[AppState, Depends(app_state)]
) -> list[Area]:
    with database(state) as conn:
        rows = conn.execute(
            "SELECT code, parent_code, level, unit_type, name_vi, name_en FROM areas ORDER BY code"
        ).fetchall()
    nodes = {str(code): Area(code=str(code), level=str(level), unit_type=str(unit), name_vi=str(vi), name_en=str(en))
             for code, _, level, unit, vi, en in rows}  # fmt: skip
    roots: list[Area] = []
    for code, parent, *_ in rows:
        node = nodes[str(code)]
        (roots if parent is None else nodes[str(parent)].children).append(node)
    return roots
