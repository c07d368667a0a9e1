"""`GET /api/v1/dead-letters/export.csv` (a filter's dead letters as CSV, streamed) and
`GET /api/v1/dead-letters/{id}/payload` (its payload shown safely: text, or a hex dump; 64 KiB at most)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from api.http.auth.dependencies import require
from api.http.auth.keys import ApiKey, Scope
from api.http.db import database
from api.http.dead_letters.csv_rows import csv_chunks
from api.http.dead_letters.payload_view import payload_view
from api.http.dead_letters.repository import ConsoleDeadLetters
from api.http.dead_letters.selection import DeadLetterFilter, dead_letter_filter
from api.http.errors import ERROR_RESPONSES, NOT_FOUND
from api.http.filters import MAX_ROW_ID
from api.http.state import AppState, app_state

router = APIRouter(prefix="/api/v1/dead-letters", tags=["dead letters"], responses=ERROR_RESPONSES)
State = Annotated[AppState, Depends(app_state)]


class PayloadOut(BaseModel):
    id: int
    payload_bytes: int
    shown_bytes: int
    truncated: bool
    encoding: Literal["utf-8", "hex"]
    content: str


@router.get(
    "/export.csv",
    summary="A filter's dead letters as CSV, newest first (streamed)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
def export_csv(
    key: Annotated[ApiKey, Depends(require(Scope.READ))],
    state: State,
    selection: Annotated[DeadLetterFilter, Depends(dead_letter_filter)],
) -> StreamingResponse:
    def chunks() -> Iterator[str]:
        # The connection is held while the response streams, and returned to the pool at its end.
        with database(state) as conn:
            yield from csv_chunks(ConsoleDeadLetters(conn).rows(selection))

    name = f"dead-letters-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.csv"
    return StreamingResponse(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/{dead_letter_id}/payload", response_model=PayloadOut, summary="Its payload, shown safely", responses=NOT_FOUND
)
def payload(
    dead_letter_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)],
    key: Annotated[ApiKey, Depends(require(Scope.READ))],
    state: State,
) -> PayloadOut:
    with database(state) as conn:
        data = ConsoleDeadLetters(conn).payload(dead_letter_id)  # DeadLetterNotFound: 404
    view = payload_view(data)
    return PayloadOut(id=dead_letter_id, payload_bytes=view.payload_bytes, shown_bytes=view.shown_bytes,
                      truncated=view.truncated, encoding=view.encoding, content=view.content)  # fmt: skip
