"""`GET /api/v1/dead-letters/count` (read) and `POST /api/v1/dead-letters/replay` (scope admin): how many a
filter matches, then the replay of all of them, audited.

The replay takes the count the operator was shown (`expected`): if the open dead letters matching the
filter are not that many any more, it replays nothing and says how many there are now (409), so that
nobody replays more than they agreed to. A filter matching more than `IOC_API_BULK_REPLAY_MAX` is
refused (400), to be narrowed.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace
from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.http.auth.dependencies import require
from api.http.auth.keys import ApiKey, Scope
from api.http.db import database
from api.http.dead_letters.repository import BulkReplayAudit, ConsoleDeadLetters
from api.http.dead_letters.selection import DeadLetterFilter, checked_filter, dead_letter_filter
from api.http.errors import CONFLICT, ERROR_RESPONSES, BadRequest, Conflict
from api.http.filters import PUBLISHER_ID, Rfc3339
from api.http.state import AppState, app_state
from ingest.contract import RejectReason
from ingest.dead_letters import DeadLetterNotFound
from ingest.service.replays import DeadLetterReplayer

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/dead-letters", tags=["dead letters"], responses=ERROR_RESPONSES)
State = Annotated[AppState, Depends(app_state)]


class CountOut(BaseModel):
    matching: int = Field(description="dead letters matching the filter (open ones only unless include_resolved)")
    open: int = Field(description="the open ones among them: what a bulk replay of this filter would replay")


class BulkReplayIn(BaseModel):
    reason: RejectReason | None = None
    publisher: str | None = Field(default=None, pattern=PUBLISHER_ID)
    since: Rfc3339 | None = None
    until: Rfc3339 | None = None
    expected: int = Field(ge=0, description="the `open` count the operator was shown for this filter")


class BulkReplayOut(BaseModel):
    audit_id: int
    matched: int
    stored: int
    duplicate: int
    rejected: int
    already_resolved: int


@router.get("/count", response_model=CountOut, summary="How many dead letters a filter matches")
def count(
    key: Annotated[ApiKey, Depends(require(Scope.READ))],
    state: State,
    selection: Annotated[DeadLetterFilter, Depends(dead_letter_filter)],
) -> CountOut:
    with database(state) as conn:
        letters = ConsoleDeadLetters(conn)
        return CountOut(
            matching=letters.count(selection), open=letters.count(replace(selection, include_resolved=False))
        )


@router.post(
    "/replay",
    response_model=BulkReplayOut,
    summary="Replay every open dead letter a filter matches (scope admin)",
    responses=CONFLICT,
)
def replay_matching(
    body: BulkReplayIn, key: Annotated[ApiKey, Depends(require(Scope.ADMIN))], state: State
) -> BulkReplayOut:
    reason = None if body.reason is None else body.reason.value
    selection = checked_filter(DeadLetterFilter(reason, body.publisher, body.since, body.until))
    bound = state.settings.api_bulk_replay_max
    with database(state) as conn:
        ids = ConsoleDeadLetters(conn).ids(selection, bound + 1)
        if len(ids) > bound:
            raise BadRequest(
                f"the filter matches more than {bound} open dead letters: narrow it (reason, publisher, time)"
            )
        if len(ids) != body.expected:
            raise Conflict(f"{len(ids)} open dead letters match this filter now, not {body.expected}: count again")
        audit = BulkReplayAudit(conn)
        audit_id = audit.started(key.name, selection, len(ids))
        outcomes: Counter[str] = Counter()
        replayer = DeadLetterReplayer(conn, state.settings)
        try:
            for dead_letter_id in ids:
                try:
                    outcomes[replayer.replay(dead_letter_id).status] += 1
                except DeadLetterNotFound:  # deleted meanwhile (retention)
                    outcomes["already_resolved"] += 1
                except psycopg.DataError as exc:  # refused by the database again: counted, the rest go on
                    log.warning("bulk replay %d: dead letter %d: %s", audit_id, dead_letter_id, type(exc).__name__)
                    outcomes["rejected"] += 1
        finally:
            replayer.close()
            audit.finished(audit_id, outcomes["stored"], outcomes["duplicate"], outcomes["rejected"])
    return BulkReplayOut(audit_id=audit_id, matched=len(ids), **{s: outcomes[s] for s in
                         ("stored", "duplicate", "rejected", "already_resolved")})  # fmt: skip
