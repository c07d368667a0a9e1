"""Hypothesis strategies for every class of bad input of contract v1, each with the reason it must get.

Each class starts from a valid event (`contract_events.py`) on a valid topic and breaks exactly one
thing, in a way that no earlier check of the decoder's order (topic, size, UTF-8, NUL, nesting,
JSON, non-finite numbers, shape, unknown, missing, values, future, age) can catch first. Topics keep the
publisher's id at the fourth level, as the broker's ACL makes every publisher do, so that the same
strategies can be published through the real broker.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from ingest.contract import EVENT_MODELS, MAX_PAYLOAD_BYTES, EventType, RejectReason, Source
from ingest.contract.topics import ALLOWED_EVENT_TYPES
from tests.verify.contract_events import EVENT_TYPE_OF_SOURCE, OFFSETS, Json, events_of, finite_floats, texts
from tests.verify.invalid_values import invalid_values

# Under the broker's max_packet_size (256 KiB) with the topic and headers, over the contract's 64 KiB.
MAX_BROKER_PAYLOAD_BYTES = 250_000
_INVALID_UTF8 = (b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xc0\xaf", b"\xe2\x82", b"\xf4\x90\x80\x80", b"\x80")
_NON_FINITE = (b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e400", b"1" + b"0" * 400)
_VALID_AREA = re.compile(r"[0-9A-Za-z._-]{1,32}")
# Topic levels the broker takes in a PUBLISH: no wildcards, separators or control characters.
_LEVEL = st.text(st.characters(categories=("L", "N", "Pd", "Pc", "Sm"), exclude_characters="/+#"), max_size=12)


@dataclass(frozen=True)
class BadMessage:
    topic: str
    payload: bytes
    reason: RejectReason


@dataclass(frozen=True)
class Publisher:
    """Who sends: the id (the topic's fourth level) and the source it is registered for."""

    id: str
    source: Source

    def topic(self, event_type: EventType | None = None) -> str:
        return f"ioc/v1/{self.source.value}/{self.id}/{(event_type or EVENT_TYPE_OF_SOURCE[self.source]).value}"


def encode(value: object, *, ascii_only: bool = False) -> bytes:
    return json.dumps(value, ensure_ascii=ascii_only, allow_nan=False).encode()


def _placeholder() -> str:
    return f"@{uuid.uuid4().hex}@"


def _with_raw(event: Json, key: str, raw: bytes) -> bytes:
    """The event as JSON with `key` set to raw JSON text (which json.dumps cannot write)."""
    marker = _placeholder()
    return encode(event | {key: marker}).replace(json.dumps(marker).encode(), raw)


@st.composite
def _event(draw: st.DrawFn, publisher: Publisher, now: datetime, areas: Sequence[str]) -> tuple[EventType, Json]:
    event_type = draw(st.sampled_from([EVENT_TYPE_OF_SOURCE[publisher.source], EventType.STATUS]))
    return event_type, draw(events_of(event_type, now, areas))


@st.composite
def bad_topics(draw: st.DrawFn, publisher: Publisher, now: datetime, areas: Sequence[str]) -> BadMessage:
    _, event = draw(_event(publisher, now, areas))
    sources, types = [s.value for s in Source], [t.value for t in EventType]
    allowed = ALLOWED_EVENT_TYPES[publisher.source]
    pid = publisher.id
    topic = draw(
        st.one_of(
            st.sampled_from(
                [f"ioc/v1/{publisher.source.value}/{pid}/{t.value}" for t in EventType if t not in allowed]
            ),
            _LEVEL.filter(lambda s: s not in sources).map(lambda s: f"ioc/v1/{s}/{pid}/{EventType.STATUS.value}"),
            _LEVEL.filter(lambda t: t not in types).map(lambda t: f"ioc/v1/{publisher.source.value}/{pid}/{t}"),
            st.lists(_LEVEL, min_size=1, max_size=3).map(lambda extra: "/".join([publisher.topic(), *extra])),
            st.just(f"ioc/v1/{publisher.source.value}/{pid}"),
        )
    )
    return BadMessage(topic, encode(event), RejectReason.TOPIC_INVALID)


@st.composite
def _too_large(draw: st.DrawFn, event_type: EventType, event: Json) -> tuple[bytes, RejectReason]:
    body = encode(event)
    size = draw(st.integers(MAX_PAYLOAD_BYTES + 1, MAX_BROKER_PAYLOAD_BYTES))
    return body + b" " * (size - len(body)), RejectReason.TOO_LARGE


@st.composite
def _not_utf8(draw: st.DrawFn, event_type: EventType, event: Json) -> tuple[bytes, RejectReason]:
    body = encode(event)
    at = draw(st.integers(0, len(body)))
    return body[:at] + draw(st.sampled_from(_INVALID_UTF8)) + body[at:], RejectReason.NOT_UTF8


@st.composite
def _nul(draw: st.DrawFn, event_type: EventType, event: Json) -> tuple[bytes, RejectReason]:
    if draw(st.booleans()):  # a raw NUL byte between any two characters
        body = encode(event, ascii_only=True)
        at = draw(st.integers(0, len(body)))
        return body[:at] + b"\x00" + body[at:], RejectReason.NUL_CHARACTER
    key = draw(st.sampled_from(sorted(event)))  # the escape \u0000 in a string, as json.dumps writes it
    text = draw(texts(0, 10)) + "\x00" + draw(texts(0, 10))
    return encode(event | {key: text}), RejectReason.NUL_CHARACTER


@st.composite
def _not_json(draw: st.DrawFn, event_type: EventType, event: Json) -> tuple[bytes, RejectReason]:
    body = encode(event, ascii_only=True)  # so that a cut never splits a UTF-8 sequence
    broken = st.one_of(
        # Not cut to nothing: an empty message deletes a retained one, and the ingest records no such thing.
        st.integers(1, len(body) - 1).map(lambda at: body[:at]),
        st.just(body[:-1] + b",}"),
        st.sampled_from([b" x", b"}", b"{}", b",", b"'"]).map(lambda tail: body + tail),
        st.just(body.replace(b'"', b"'")),
    )
    return draw(broken), RejectReason.NOT_JSON


@st.composite
def _non_finite(draw: st.DrawFn, event_type: EventType, event: Json) -> tuple[bytes, RejectReason]:
    key = draw(st.sampled_from([*sorted(event), "extra"]))
    return _with_raw(event, key, draw(st.sampled_from(_NON_FINITE))), RejectReason.NON_FINITE_NUMBER


@st.composite
def _too_deep(draw: st.DrawFn, event_type: EventType, event: Json) -> tuple[bytes, RejectReason]:
    depth = draw(st.integers(9, 500))
    opener = draw(st.sampled_from([b"[", b'{"k":']))
    closer = b"]" if opener == b"[" else b"}"
    if draw(st.booleans()):
        return opener * depth + b"1" + closer * depth, RejectReason.TOO_DEEP
    inner = depth - 1  # the event object itself is the first level
    return _with_raw(event, "nested", opener * inner + b"1" + closer * inner), RejectReason.TOO_DEEP


_JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), finite_floats, texts())
_JSON_VALUES = st.one_of(
    _JSON_SCALARS, st.lists(_JSON_SCALARS, max_size=4), st.lists(st.lists(_JSON_SCALARS, max_size=3))
)


@st.composite
def _not_object(draw: st.DrawFn, event_type: EventType, event: Json) -> tuple[bytes, RejectReason]:
    value = draw(st.one_of(_JSON_SCALARS, st.lists(_JSON_VALUES, max_size=4), st.just([event])))
    return encode(value), RejectReason.NOT_OBJECT


@st.composite
def _unknown_field(draw: st.DrawFn, event_type: EventType, event: Json) -> tuple[bytes, RejectReason]:
    known = EVENT_MODELS[event_type].model_fields
    key = draw(texts(0, 20).filter(lambda k: k not in known))
    return encode(event | {key: draw(_JSON_VALUES)}), RejectReason.UNKNOWN_FIELD


@st.composite
def _missing_field(draw: st.DrawFn, event_type: EventType, event: Json) -> tuple[bytes, RejectReason]:
    required = [name for name, field in EVENT_MODELS[event_type].model_fields.items() if field.is_required()]
    gone = draw(st.sampled_from(required))
    return encode({k: v for k, v in event.items() if k != gone}), RejectReason.MISSING_FIELD


@st.composite
def _invalid_value(draw: st.DrawFn, event_type: EventType, event: Json) -> tuple[bytes, RejectReason]:
    return encode(draw(invalid_values(event_type, event))), RejectReason.INVALID_VALUE


Breaker = Callable[[EventType, Json], st.SearchStrategy[tuple[bytes, RejectReason]]]

PAYLOAD_CLASSES: Mapping[str, Breaker] = {
    "too large": _too_large, "bad UTF-8": _not_utf8, "NUL": _nul, "not JSON": _not_json,
    "non-finite number": _non_finite, "too deep": _too_deep, "not an object": _not_object,
    "unknown field": _unknown_field, "missing field": _missing_field, "invalid value": _invalid_value,
}  # fmt: skip


@st.composite
def bad_payloads(
    draw: st.DrawFn, publisher: Publisher, now: datetime, areas: Sequence[str], breaker: Breaker
) -> BadMessage:
    event_type, event = draw(_event(publisher, now, areas))
    payload, reason = draw(breaker(event_type, event))
    return BadMessage(publisher.topic(event_type), payload, reason)


@st.composite
def future_events(
    draw: st.DrawFn, publisher: Publisher, now: datetime, areas: Sequence[str], skew: timedelta, min_ahead: timedelta
) -> BadMessage:
    event_type, event = draw(_event(publisher, now, areas))
    ahead = draw(st.timedeltas(min_ahead, timedelta(days=3650)))
    field = "at" if event_type is EventType.STATUS else "occurred_at"
    at = (now + skew + ahead).astimezone(UTC).isoformat()
    return BadMessage(publisher.topic(event_type), encode(event | {field: at}), RejectReason.FUTURE_EVENT)


# Times the system would never keep, as the issue saw them (0001-01-01, 1900, two years back) and
# as a probe whose clock reset sends them (1970).
_NEVER_KEPT = ("0001-01-01T00:00:00Z", "1900-01-01T00:00:00+07:00", "1970-01-01T00:00:00Z")


@st.composite
def old_events(
    draw: st.DrawFn, publisher: Publisher, now: datetime, areas: Sequence[str], oldest: datetime
) -> BadMessage:
    """A valid event whose time is before `oldest` (the earliest the ingest keeps, for every event type)."""
    event_type, event = draw(_event(publisher, now, areas))
    latest = oldest.astimezone(UTC).replace(tzinfo=None) - timedelta(days=1)  # any offset keeps it before
    moments = st.datetimes(datetime(1, 1, 2), latest, timezones=st.sampled_from(OFFSETS)).map(datetime.isoformat)
    at = draw(st.one_of(st.sampled_from(_NEVER_KEPT), st.just((now - timedelta(days=730)).isoformat()), moments))
    field = "at" if event_type is EventType.STATUS else "occurred_at"
    return BadMessage(publisher.topic(event_type), encode(event | {field: at}), RejectReason.TOO_OLD)


@st.composite
def unknown_areas(draw: st.DrawFn, publisher: Publisher, now: datetime, areas: Sequence[str]) -> BadMessage:
    event_type = EVENT_TYPE_OF_SOURCE[publisher.source]
    event = draw(events_of(event_type, now, areas))
    code = draw(st.from_regex(_VALID_AREA, fullmatch=True).filter(lambda c: c not in areas))
    return BadMessage(publisher.topic(event_type), encode(event | {"area_code": code}), RejectReason.UNKNOWN_AREA)


@st.composite
def areas_outside(draw: st.DrawFn, publisher: Publisher, now: datetime, outside: Sequence[str]) -> BadMessage:
    """A valid event for a known area that is neither the publisher's own nor below it."""
    event_type = EVENT_TYPE_OF_SOURCE[publisher.source]
    event = draw(events_of(event_type, now, outside))
    return BadMessage(publisher.topic(event_type), encode(event), RejectReason.AREA_NOT_ALLOWED)


@st.composite
def foreign_sources(draw: st.DrawFn, publisher: Publisher, now: datetime, areas: Sequence[str]) -> BadMessage:
    """A valid event of another source, sent under that source: the registry says otherwise."""
    other = draw(st.sampled_from([s for s in Source if s is not publisher.source]))
    event_type = EVENT_TYPE_OF_SOURCE[other]
    event = draw(events_of(event_type, now, areas))
    return BadMessage(Publisher(publisher.id, other).topic(), encode(event), RejectReason.SOURCE_MISMATCH)


@st.composite
def valid_from(
    draw: st.DrawFn, publisher: Publisher, now: datetime, areas: Sequence[str], reason: RejectReason
) -> BadMessage:
    """A valid event that only the registry refuses (its sender is unknown or disabled)."""
    event_type, event = draw(_event(publisher, now, areas))
    return BadMessage(publisher.topic(event_type), encode(event), reason)


def decoder_classes(
    publisher: Publisher,
    now: datetime,
    areas: Sequence[str],
    skew: timedelta,
    min_ahead: timedelta,
    oldest: datetime,
) -> dict[str, st.SearchStrategy[BadMessage]]:
    """Every class the decoder alone refuses, by name (`oldest`: the earliest time kept, of any type)."""
    classes = {"topic": bad_topics(publisher, now, areas)}
    for name, breaker in PAYLOAD_CLASSES.items():
        classes[name] = bad_payloads(publisher, now, areas, breaker)
    classes["future event"] = future_events(publisher, now, areas, skew, min_ahead)
    classes["too old"] = old_events(publisher, now, areas, oldest)
    return classes
