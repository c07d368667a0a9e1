"""Validate an inbound MQTT message once, at the edge.

The happy path is a topic lookup, a few byte scans and a single call into
pydantic's Rust JSON parser. Everything that explains *why* a message is bad
runs only after that call has failed, so it may be slower.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from pydantic import ValidationError

from ingest.contract.errors import MAX_JSON_DEPTH, MAX_PAYLOAD_BYTES, PayloadRejected, RejectReason, excerpt
from ingest.contract.events import EVENT_MODELS, Event, PublisherStatus
from ingest.contract.topics import ALLOWED_EVENT_TYPES, EventType, Topic, parse_topic, sources_of

if TYPE_CHECKING:
    # Only a TypedDict for annotations; at run time the package needs pydantic alone.
    from pydantic_core import ErrorDetails

_VALIDATORS: Final[Mapping[EventType, Callable[[bytes], Event]]] = MappingProxyType(
    {event_type: model.model_validate_json for event_type, model in EVENT_MODELS.items()}
)

_NUL_ESCAPE_RE: Final = re.compile(rb"(?<!\\)(?:\\\\)*\\[uU]0000")
# Every match that starts at a quote succeeds (at the closing quote or at the
# end of text), so stripping strings stays linear even for hostile input.
_JSON_STRING_RE: Final = re.compile(rb'"(?:[^"\\]++|\\.?)*+(?:"|\Z)', re.DOTALL)
_NOT_BRACKETS: Final = bytes(sorted(set(range(256)) - set(b"[]{}")))
_DEPTH_STEP: Final[Mapping[int, int]] = MappingProxyType({ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1})
# Outside strings only numbers and the literals NaN, Infinity, -Infinity (which
# pydantic's parser accepts) can start this way; 1e999 parses to inf too.
_NUMBER_LIKE_RE: Final = re.compile(rb"[-0-9NI][-+.0-9A-Za-z]*")
_ROOT_NOT_OBJECT: Final = frozenset({"model_type", "model_attributes_type", "dict_type"})
_MAX_ISSUES_SHOWN: Final = 8


@dataclass(frozen=True, slots=True)
class DecodedEvent:
    """A message that satisfies the contract, with the topic it arrived on."""

    topic: Topic
    event: Event


def decode(
    topic: str,
    payload: bytes,
    *,
    now: datetime,
    max_future_skew: timedelta,
    max_bytes: int = MAX_PAYLOAD_BYTES,
    not_before: Mapping[EventType, datetime] | None = None,
) -> DecodedEvent:
    """Check one inbound message against contract v1.

    `now` is passed in rather than read so callers (and tests) control the
    clock. `not_before` is the oldest event time the caller keeps, per event
    type (None: no lower bound). Raises PayloadRejected with the first failed
    check, in this order: topic, size, UTF-8, NUL, JSON shape and values,
    future skew, age.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    parsed = parse_topic(topic)
    if len(payload) > max_bytes:
        raise PayloadRejected(
            RejectReason.TOO_LARGE, f"payload is {len(payload)} bytes; at most {max_bytes} are allowed"
        )
    # ASCII is valid UTF-8 and far cheaper to confirm than a full decode.
    if not payload.isascii():
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PayloadRejected(
                RejectReason.NOT_UTF8, f"invalid UTF-8 at byte offset {exc.start}: {exc.reason}"
            ) from None
    _reject_nul(payload)
    try:
        event = _VALIDATORS[parsed.event_type](payload)
    except ValidationError as exc:
        raise _explain(payload, exc, parsed) from None
    earliest = None if not_before is None else not_before[parsed.event_type]
    _reject_out_of_range(event, now, now + max_future_skew, earliest)
    return DecodedEvent(topic=parsed, event=event)


def _reject_out_of_range(event: Event, now: datetime, latest: datetime, earliest: datetime | None) -> None:
    if isinstance(event, PublisherStatus):
        field, when = "at", event.at
    else:
        field, when = "occurred_at", event.occurred_at
    if when > latest:
        raise PayloadRejected(
            RejectReason.FUTURE_EVENT,
            f"{field} {when.isoformat()} is more than {latest - now} after the server time {now.isoformat()}",
        )
    if earliest is not None and when < earliest:
        raise PayloadRejected(
            RejectReason.TOO_OLD,
            f"{field} {when.isoformat()} is before {earliest.isoformat()}, the oldest event time kept "
            "(retention, or the earliest plausible date); is the publisher's clock right?",
        )


def _reject_nul(payload: bytes) -> None:
    offset = payload.find(b"\x00")
    if offset >= 0:
        raise PayloadRejected(
            RejectReason.NUL_CHARACTER, f"raw NUL byte at offset {offset}; text must not contain U+0000"
        )
    # The substring tests keep the regex off the hot path; the regex then skips
    # an escaped backslash followed by "u0000", which is harmless text.
    if b"u0000" in payload or b"U0000" in payload:
        match = _NUL_ESCAPE_RE.search(payload)
        if match is not None:
            raise PayloadRejected(
                RejectReason.NUL_CHARACTER,
                f"escape \\u0000 at offset {match.end() - 6}; text must not contain U+0000",
            )


def _explain(payload: bytes, error: ValidationError, topic: Topic) -> PayloadRejected:
    """Turn a failed validation into the most specific reject reason."""
    skeleton = _JSON_STRING_RE.sub(b'""', payload)
    depth = _nesting_depth(skeleton)
    if depth > MAX_JSON_DEPTH:
        return PayloadRejected(
            RejectReason.TOO_DEEP, f"JSON is nested {depth} levels deep; at most {MAX_JSON_DEPTH} are allowed"
        )
    issues = error.errors(include_url=False, include_context=False, include_input=False)
    if any(issue["type"] == "json_invalid" for issue in issues):
        return PayloadRejected(RejectReason.NOT_JSON, _describe(issues))
    token = _first_non_finite(skeleton)
    if token is not None:
        shown = excerpt(token.decode("ascii"), 32)
        return PayloadRejected(
            RejectReason.NON_FINITE_NUMBER,
            f"number {shown} is not finite (NaN, Infinity and numbers that overflow are not allowed); "
            f"{_describe(issues)}",
        )
    for reason, matches in _PRECEDENCE:
        chosen = [issue for issue in issues if matches(issue)]
        if chosen:
            if reason in _SHAPE_REASONS and (mismatch := _other_source_event(payload, topic)) is not None:
                return mismatch
            rest = [issue for issue in issues if not matches(issue)]
            return PayloadRejected(reason, _describe([*chosen, *rest]))
    return PayloadRejected(RejectReason.INVALID_VALUE, _describe(issues))


def _other_source_event(payload: bytes, topic: Topic) -> PayloadRejected | None:
    """`source_mismatch` when the payload is a valid event of a type this topic's source does not send
    (a payment on a coverage probe's topic): "unknown field sector" would not say what happened."""
    for event_type, validate in _VALIDATORS.items():
        if event_type in ALLOWED_EVENT_TYPES[topic.source]:
            continue
        try:
            validate(payload)
        except ValidationError:
            continue
        sources = ", ".join(source.value for source in sources_of(event_type))
        return PayloadRejected(
            RejectReason.SOURCE_MISMATCH,
            f"the payload is a valid {event_type.value} event, which {sources} publishers send on "
            f"ioc/v1/{sources}/<their id>/{event_type.value}; topic {topic} expects a {topic.event_type.value} "
            f"of source {topic.source.value}, where publisher {topic.publisher_id} is registered",
        )
    return None


def _nesting_depth(json_without_strings: bytes) -> int:
    """Deepest object/array nesting; the top-level container counts as 1.

    Iterative on purpose: hostile input may nest far beyond Python's recursion limit.
    """
    brackets = json_without_strings.translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


def _first_non_finite(json_without_strings: bytes) -> bytes | None:
    for match in _NUMBER_LIKE_RE.finditer(json_without_strings):
        try:
            value = float(match.group())
        except ValueError:
            continue
        if not math.isfinite(value):
            return match.group()
    return None


def _is_not_object(issue: ErrorDetails) -> bool:
    return not issue["loc"] and issue["type"] in _ROOT_NOT_OBJECT


_PRECEDENCE: Final[tuple[tuple[RejectReason, Callable[[ErrorDetails], bool]], ...]] = (
    (RejectReason.NON_FINITE_NUMBER, lambda issue: issue["type"] == "finite_number"),
    (RejectReason.NOT_OBJECT, _is_not_object),
    (RejectReason.UNKNOWN_FIELD, lambda issue: issue["type"] == "extra_forbidden"),
    (RejectReason.MISSING_FIELD, lambda issue: issue["type"] == "missing"),
)


# A payload of another event type fails its topic's model with fields unknown or missing.
_SHAPE_REASONS: Final = frozenset({RejectReason.UNKNOWN_FIELD, RejectReason.MISSING_FIELD})


def _describe(issues: Sequence[ErrorDetails]) -> str:
    # Only the first few fit in the detail anyway; keys are quoted excerpts
    # because they are chosen by the sender.
    parts = []
    for issue in issues[:_MAX_ISSUES_SHOWN]:
        path = ".".join(str(part) if isinstance(part, int) else _key(part) for part in issue["loc"])
        parts.append(f"{path or 'payload'}: {issue['msg']}")
    if len(issues) > _MAX_ISSUES_SHOWN:
        parts.append(f"and {len(issues) - _MAX_ISSUES_SHOWN} more")
    return "; ".join(parts)


def _key(name: str) -> str:
    return name if len(name) <= 64 and name.isidentifier() else excerpt(name)
