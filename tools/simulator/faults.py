"""Deliberately invalid messages, one builder per dead-letter reason the ingest must report.

Each builder takes a valid body of the publisher's event type and breaks it in exactly one way, so
the reason the ingest stores is known in advance and the run can count what it injected per reason.
A faulty message never takes a `seq` of its own: it is an extra message, not one of the publisher's
events, so it must not show up as a gap in completeness (a conflicting re-send repeats the `seq` of
the event it copies). A builder returns None when the publisher cannot cause its reason (the portal,
registered at the province, has no area outside its own; nothing was sent yet to re-send).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from ingest.contract import MAX_JSON_DEPTH, MAX_PAYLOAD_BYTES, RejectReason
from tools.simulator.areas import SimPublisher
from tools.simulator.payloads import Body, encode, stamp

# A code with the areas table's shape that no unit has (GSO commune codes of Đắk Nông start at 24).
UNKNOWN_AREA_CODE: Final = "00000"
_NAN_MARK: Final = "\u2603nan\u2603"
_CLOCK_RESET: Final = datetime(1970, 1, 1, tzinfo=UTC)  # a probe whose clock lost its battery


@dataclass(frozen=True, slots=True)
class Fault:
    reason: RejectReason
    topic: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class FaultInput:
    """What a builder breaks: a valid body on the publisher's topic. (A publisher writing under a source
    it is not registered for is no fault to simulate: the broker refuses it, PUBACK 0x87.)"""

    publisher: SimPublisher
    body: Body
    now: datetime
    outside_area: str | None  # a known area above the publisher's own; None at the province
    recent: tuple[str, bytes] | None  # one of its recent events (topic, payload), to re-send changed


Builder = Callable[[FaultInput], Fault | None]


def _on_own_topic(reason: RejectReason, payload: Callable[[FaultInput], bytes]) -> Builder:
    return lambda f: Fault(reason, f.publisher.topic, payload(f))


def _nested(depth: int) -> object:
    value: object = "x"
    for _ in range(depth):
        value = [value]
    return value


def _not_utf8(f: FaultInput) -> bytes:
    # A Latin-1 byte where UTF-8 is required: what an old counter's firmware sends for "Đắk".
    return encode(f.body).replace(b'"area_code":"', b'"area_code":"\xd0\xe9', 1)


def _non_finite(f: FaultInput) -> bytes:
    # JSON has no NaN; some encoders write it anyway (Python's json does by default).
    return encode(f.body | {"seq": _NAN_MARK}).replace(f'"{_NAN_MARK}"'.encode(), b"NaN")


def _without_area(f: FaultInput) -> bytes:
    return encode({k: v for k, v in f.body.items() if k != "area_code"})


def _outside_area(f: FaultInput) -> Fault | None:
    if f.outside_area is None:
        return None
    return Fault(RejectReason.AREA_NOT_ALLOWED, f.publisher.topic, encode(f.body | {"area_code": f.outside_area}))


def _conflicting_resend(f: FaultInput) -> Fault | None:
    """A recent event's id again, a second earlier: what a publisher that "corrects" an event sends."""
    if f.recent is None:
        return None
    topic, payload = f.recent
    body = json.loads(payload)
    earlier = datetime.fromisoformat(body["occurred_at"]) - timedelta(seconds=1)
    return Fault(RejectReason.CONFLICTING_DUPLICATE, topic, encode(body | {"occurred_at": stamp(earlier)}))


BUILDERS: Final[dict[RejectReason, Builder]] = {
    RejectReason.NOT_JSON: _on_own_topic(RejectReason.NOT_JSON, lambda f: encode(f.body)[:-1]),
    RejectReason.NOT_UTF8: _on_own_topic(RejectReason.NOT_UTF8, _not_utf8),
    RejectReason.NUL_CHARACTER: _on_own_topic(
        RejectReason.NUL_CHARACTER, lambda f: encode(f.body | {"area_code": f"{f.body['area_code']}\u0000"})
    ),
    RejectReason.NON_FINITE_NUMBER: _on_own_topic(RejectReason.NON_FINITE_NUMBER, _non_finite),
    RejectReason.TOO_DEEP: _on_own_topic(
        RejectReason.TOO_DEEP, lambda f: encode(f.body | {"area_code": _nested(MAX_JSON_DEPTH + 1)})
    ),
    RejectReason.NOT_OBJECT: _on_own_topic(RejectReason.NOT_OBJECT, lambda f: encode([f.body])),
    RejectReason.UNKNOWN_FIELD: _on_own_topic(RejectReason.UNKNOWN_FIELD, lambda f: encode(f.body | {"note": "x"})),
    RejectReason.MISSING_FIELD: _on_own_topic(RejectReason.MISSING_FIELD, _without_area),
    RejectReason.INVALID_VALUE: _on_own_topic(
        RejectReason.INVALID_VALUE, lambda f: encode(f.body | {"occurred_at": "hôm qua"})
    ),
    RejectReason.FUTURE_EVENT: _on_own_topic(
        RejectReason.FUTURE_EVENT, lambda f: encode(f.body | {"occurred_at": stamp(f.now + timedelta(days=1))})
    ),
    RejectReason.TOO_OLD: _on_own_topic(
        RejectReason.TOO_OLD, lambda f: encode(f.body | {"occurred_at": stamp(_CLOCK_RESET)})
    ),
    RejectReason.TOO_LARGE: _on_own_topic(
        # Valid JSON padded past the contract's limit but far below the broker's 256 KiB.
        RejectReason.TOO_LARGE,
        lambda f: encode(f.body) + b" " * (MAX_PAYLOAD_BYTES + 1024),
    ),
    RejectReason.UNKNOWN_AREA: _on_own_topic(
        RejectReason.UNKNOWN_AREA, lambda f: encode(f.body | {"area_code": UNKNOWN_AREA_CODE})
    ),
    RejectReason.AREA_NOT_ALLOWED: _outside_area,
    RejectReason.CONFLICTING_DUPLICATE: _conflicting_resend,
    RejectReason.TOPIC_INVALID: lambda f: Fault(
        RejectReason.TOPIC_INVALID, f"ioc/v1/{f.publisher.source}/{f.publisher.id}/telemetry", encode(f.body)
    ),
}
# The order a run cycles through them, so that even a handful of faults covers many reasons.
FAULT_REASONS: Final = tuple(BUILDERS)


def build_fault(reason: RejectReason, fault_input: FaultInput) -> Fault | None:
    return BUILDERS[reason](fault_input)
