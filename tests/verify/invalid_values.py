"""Wrong values for every field of contract v1: the wrong JSON type, a value outside the enum, out of
range, too long or empty, a bad UUID or time. Each replaces one field of a valid event with a value
that is still finite JSON without NUL, so the contract's reason is `invalid_value`."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum

from hypothesis import strategies as st

from ingest.contract import (
    Channel,
    DossierDomain,
    DossierStatus,
    EventType,
    NetworkOperator,
    NetworkTechnology,
    PaymentMethod,
    PaymentOutcome,
    PaymentSector,
    PublisherState,
    ServiceLevel,
)
from tests.verify.contract_events import Json, finite_floats, texts

_VALID_AREA = re.compile(r"[0-9A-Za-z._-]{1,32}")
_NULL = st.none()
_NOT_A_NUMBER = st.one_of(texts(), st.booleans(), st.lists(st.integers(), max_size=2))


def _below(limit: float) -> st.SearchStrategy[float]:
    return st.floats(max_value=limit, exclude_max=True, allow_nan=False, allow_infinity=False)


def _above(limit: float) -> st.SearchStrategy[float]:
    return st.floats(min_value=limit, exclude_min=True, allow_nan=False, allow_infinity=False)


def _unparsable_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return True
    return False


_NOT_UUID = st.one_of(texts().filter(_unparsable_uuid), st.integers(), finite_floats, st.booleans(), _NULL)
_NOT_TIME = st.one_of(
    st.datetimes().map(datetime.isoformat),  # no offset
    st.dates().map(date.isoformat),
    st.sampled_from(["2025-01-31T09:58:00+0700", "2025-01-31 09:58", "2025-13-45T25:61:00Z", "1738292280"]),
    texts().filter(lambda s: not s[:4].isdigit()),
    st.integers(),
    finite_floats,
    st.booleans(),
)
_NOT_AREA = st.one_of(texts().filter(lambda s: _VALID_AREA.fullmatch(s) is None), st.integers(), _NULL)
_NOT_SEQ = st.one_of(st.integers(max_value=-1), st.integers(2**63, 2**80), finite_floats, _NOT_A_NUMBER)


def _not_in(enum: type[StrEnum]) -> st.SearchStrategy[object]:
    allowed = {member.value for member in enum}
    return st.one_of(texts().filter(lambda s: s not in allowed), st.integers(), st.booleans(), _NULL)


def _not_bool(required: bool) -> st.SearchStrategy[object]:
    wrong = st.one_of(st.integers(), texts(), finite_floats, st.lists(st.booleans(), max_size=2))
    return st.one_of(wrong, _NULL) if required else wrong


def _bad_text(max_length: int, required: bool = True) -> st.SearchStrategy[object]:
    wrong = st.one_of(st.just(""), texts(max_length + 1, max_length + 40), st.integers(), st.booleans())
    return st.one_of(wrong, _NULL) if required else wrong


def _rate_out_of(low: float, high: float | None) -> st.SearchStrategy[object]:
    outside = _below(low) if high is None else st.one_of(_below(low), _above(high))
    return st.one_of(outside, _NOT_A_NUMBER, _NULL)


_ENVELOPE: Mapping[str, st.SearchStrategy[object]] = {
    "event_id": _NOT_UUID, "occurred_at": st.one_of(_NOT_TIME, _NULL), "area_code": _NOT_AREA, "seq": _NOT_SEQ,
}  # fmt: skip

_FIELDS: Mapping[EventType, Mapping[str, st.SearchStrategy[object]]] = {
    EventType.DOSSIER: {
        **_ENVELOPE, "dossier_id": _bad_text(128), "procedure_code": _bad_text(64),
        "domain": _not_in(DossierDomain), "status": _not_in(DossierStatus), "channel": _not_in(Channel),
        "service_level": _not_in(ServiceLevel), "e_certified": _not_bool(required=True), "due_at": _NOT_TIME,
        "paid_online": _not_bool(required=False),
    },
    EventType.TRANSACTION: {
        **_ENVELOPE, "sector": _not_in(PaymentSector), "method": _not_in(PaymentMethod),
        "outcome": _not_in(PaymentOutcome),
        "amount_vnd": st.one_of(
            st.integers(-(2**80), 0), st.integers(10**12 + 1, 10**24), finite_floats, _NOT_A_NUMBER, _NULL
        ),
    },
    EventType.SAMPLE: {
        **_ENVELOPE, "operator": _not_in(NetworkOperator), "technology": _not_in(NetworkTechnology),
        "download_mbps": _rate_out_of(-1e-300, None), "upload_mbps": _rate_out_of(-1e-300, None),
        "latency_ms": _rate_out_of(-1e-300, None), "packet_loss_pct": _rate_out_of(0, 100),
        "rsrp_dbm": st.one_of(_below(-156), _above(-31), _NOT_A_NUMBER), "village": _bad_text(128, required=False),
    },
    EventType.STATUS: {"state": _not_in(PublisherState), "at": st.one_of(_NOT_TIME, _NULL)},
}  # fmt: skip


@st.composite
def _half_or_outside_point(draw: st.DrawFn, event: Json) -> Json:
    """lat without lon (or the reverse), or a coordinate out of range."""
    rest = {k: v for k, v in event.items() if k not in ("lat", "lon")}
    lat, lon = draw(st.floats(-90, 90)), draw(st.floats(-180, 180))
    return draw(
        st.sampled_from([
            rest | {"lat": lat},
            rest | {"lon": lon},
            rest | {"lat": draw(st.one_of(_below(-90), _above(90))), "lon": lon},
            rest | {"lat": lat, "lon": draw(st.one_of(_below(-180), _above(180)))},
        ])
    )  # fmt: skip


@st.composite
def invalid_values(draw: st.DrawFn, event_type: EventType, event: Json) -> Json:
    fields = _FIELDS[event_type]
    if event_type is EventType.SAMPLE and draw(st.integers(0, len(fields))) == 0:
        return draw(_half_or_outside_point(event))
    name = draw(st.sampled_from(sorted(fields)))
    return event | {name: draw(fields[name])}
