"""`POST /api/v1/contract/validate` (any valid key): what the ingest would decide about a message.

The body is read here, bounded, before it is parsed: the payload itself may be at most 64 KiB, so a body
of more than `_MAX_BODY_BYTES` is no honest request (413 at once, from its Content-Length when it has one).
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal, Self

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from api.http.auth.dependencies import require
from api.http.auth.keys import ApiKey, Scope
from api.http.db import database
from api.http.errors import ERROR_RESPONSES, UNAVAILABLE, ApiError, BadRequest, ErrorResponse
from api.http.state import AppState, app_state
from ingest.dry_run import Verdict, judge
from ingest.service.classify import IntakeRules

router = APIRouter(prefix="/api/v1/contract", tags=["contract"], responses=ERROR_RESPONSES)
State = Annotated[AppState, Depends(app_state)]
_MAX_BODY_BYTES: Final = 1024 * 1024
_MAX_TOPIC_CHARS: Final = 1024


class PayloadTooLarge(ApiError):
    status = 413
    code = "too_large"


class ValidateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: str = Field(
        max_length=_MAX_TOPIC_CHARS,
        # Stated for the document; checked below, with a message that says why.
        json_schema_extra={"pattern": "^[^+#\u0000]*$"},
        description="The topic it would be published on, e.g. `ioc/v1/payments/counter-gn-01/transaction`; it names"
        " the publisher. No wildcards: a publish goes to one topic.",
    )
    payload: Any = Field(
        default=None,
        description="The payload as JSON (any value): sent as its compact UTF-8 JSON text. Give this or"
        " `payload_base64`.",
    )
    payload_base64: str | None = Field(
        default=None,
        description="The payload's exact bytes, base64: for what JSON cannot carry (not UTF-8, not JSON, key order).",
    )

    @model_validator(mode="after")
    def _one_payload(self) -> Self:
        given = ("payload" in self.model_fields_set) + (self.payload_base64 is not None)
        if given != 1:
            raise ValueError("give exactly one of `payload` (a JSON value) and `payload_base64` (the exact bytes)")
        if "+" in self.topic or "#" in self.topic:
            raise ValueError("topic: `+` and `#` are wildcards of subscriptions; a publish goes to exactly one topic")
        if "\x00" in self.topic:
            raise ValueError("topic: MQTT topics cannot hold U+0000")
        return self

    def payload_bytes(self) -> bytes:
        if self.payload_base64 is None:
            return json.dumps(self.payload, separators=(",", ":"), ensure_ascii=False).encode()
        try:
            return base64.b64decode(self.payload_base64, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("payload_base64 is not valid base64") from None


class VerdictOut(BaseModel):
    decision: Literal["stored", "duplicate", "dead_letter", "ignored"] = Field(
        description="What the ingest would do: store it, count it as a re-send of a stored event, make it a dead"
        " letter (`reason`), or ignore it (an empty message). Nothing is stored by this call."
    )
    reason: str | None = Field(description="The dead-letter reason code (docs/contract.md#dead-letter-reasons).")
    detail: str
    event_type: str | None
    publisher_id: str | None


@router.post(
    "/validate",
    response_model=VerdictOut,
    summary="What the ingest would decide about a message, nothing stored (any scope)",
    responses={413: {"model": ErrorResponse, "description": "Body over 1 MiB"}, **UNAVAILABLE},
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": ValidateIn.model_json_schema()}}}
    },
)
async def validate(request: Request, key: Annotated[ApiKey, Depends(require(Scope.READ))], state: State) -> VerdictOut:
    body = _parse_body(await _bounded_body(request))
    payload = body.payload_bytes()
    rules = IntakeRules.from_settings(state.settings)
    verdict = await run_in_threadpool(_judge, state, body.topic, payload, rules)
    return VerdictOut(
        decision=verdict.decision,
        reason=verdict.reason,
        detail=verdict.detail,
        event_type=verdict.event_type,
        publisher_id=verdict.publisher_id,
    )


def _judge(state: AppState, topic: str, payload: bytes, rules: IntakeRules) -> Verdict:
    with database(state) as conn:
        return judge(conn, topic, payload, rules, datetime.now(UTC))


def _parse_body(raw: bytes) -> ValidateIn:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(
            f"the request body is not UTF-8 (byte offset {exc.start}); send odd bytes as `payload_base64`"
        ) from None
    try:
        return ValidateIn.model_validate_json(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False)
        )
        raise BadRequest(problems) from None


async def _bounded_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > _MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is {declared} bytes; at most {_MAX_BODY_BYTES} (a payload is at most 64 KiB)")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > _MAX_BODY_BYTES:
            raise PayloadTooLarge(f"the body is over {_MAX_BODY_BYTES} bytes (a payload is at most 64 KiB)")
        chunks.append(chunk)
    return b"".join(chunks)
