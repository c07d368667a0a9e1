"""Hypothesis strategies for valid events of contract v1, as JSON objects, one per event type.

The bad-input strategies (`bad_input.py`) start from one of these and break exactly one thing, so
that the reason the contract gives the result is known. Times are drawn well in the past of `now`
(a day at least, whatever the offset), areas from the ones the caller knows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
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
    Source,
    examples,
)

Json = dict[str, object]

EVENT_TYPE_OF_SOURCE = {
    Source.PORTAL: EventType.DOSSIER,
    Source.PAYMENTS: EventType.TRANSACTION,
    Source.COVERAGE: EventType.SAMPLE,
}
OFFSETS = (UTC, timezone(timedelta(hours=7)), timezone(timedelta(hours=-5, minutes=-30)), timezone(timedelta(hours=14)))

# Text a publisher may send: any Unicode scalar value but NUL (surrogates cannot be encoded in UTF-8).
text_chars = st.characters(codec="utf-8", exclude_characters="\x00")
finite_floats = st.floats(allow_nan=False, allow_infinity=False)


def texts(min_size: int = 0, max_size: int = 40) -> st.SearchStrategy[str]:
    return st.text(text_chars, min_size=min_size, max_size=max_size)


def values_of(enum: type[StrEnum]) -> st.SearchStrategy[str]:
    return st.sampled_from([member.value for member in enum])


def rfc3339(moments: st.SearchStrategy[datetime]) -> st.SearchStrategy[str]:
    return moments.map(datetime.isoformat)


def past_times(now: datetime) -> st.SearchStrategy[str]:
    """At least a day before `now` (so never ahead of it, whatever the offset), at most 30 days."""
    naive = now.astimezone(UTC).replace(tzinfo=None)
    moments = st.datetimes(naive - timedelta(days=30), naive - timedelta(days=1), timezones=st.sampled_from(OFFSETS))
    return rfc3339(moments)


def _envelope(now: datetime, areas: Sequence[str]) -> dict[str, st.SearchStrategy[object]]:
    return {"event_id": st.uuids().map(str), "occurred_at": past_times(now), "area_code": st.sampled_from(areas)}


def dossiers(now: datetime, areas: Sequence[str]) -> st.SearchStrategy[Json]:
    required: dict[str, st.SearchStrategy[object]] = {
        **_envelope(now, areas),
        "dossier_id": texts(1, 128), "procedure_code": texts(1, 64), "domain": values_of(DossierDomain),
        "status": values_of(DossierStatus), "channel": values_of(Channel), "service_level": values_of(ServiceLevel),
        "e_certified": st.booleans(),
    }  # fmt: skip
    optional = {"seq": st.integers(0, 2**63 - 1), "due_at": past_times(now), "paid_online": st.booleans()}
    return st.fixed_dictionaries(required, optional=optional)


def transactions(now: datetime, areas: Sequence[str]) -> st.SearchStrategy[Json]:
    required: dict[str, st.SearchStrategy[object]] = {
        **_envelope(now, areas),
        "sector": values_of(PaymentSector), "method": values_of(PaymentMethod),
        "amount_vnd": st.integers(1, 10**12), "outcome": values_of(PaymentOutcome),
    }  # fmt: skip
    return st.fixed_dictionaries(required, optional={"seq": st.integers(0, 2**63 - 1)})


@st.composite
def samples(draw: st.DrawFn, now: datetime, areas: Sequence[str]) -> Json:
    rate = st.floats(0, 1e6, allow_nan=False)
    required: dict[str, st.SearchStrategy[object]] = {
        **_envelope(now, areas),
        "operator": values_of(NetworkOperator), "technology": values_of(NetworkTechnology),
        "download_mbps": rate, "upload_mbps": rate, "latency_ms": rate, "packet_loss_pct": st.floats(0, 100),
    }  # fmt: skip
    optional = {"seq": st.integers(0, 2**63 - 1), "rsrp_dbm": st.floats(-156, -31), "village": texts(1, 128)}
    event = draw(st.fixed_dictionaries(required, optional=optional))
    if draw(st.booleans()):  # a point is both coordinates or neither
        event |= {"lat": draw(st.floats(-90, 90)), "lon": draw(st.floats(-180, 180))}
    return event


def statuses(now: datetime) -> st.SearchStrategy[Json]:
    return st.fixed_dictionaries({"state": values_of(PublisherState), "at": past_times(now)})


def events_of(event_type: EventType, now: datetime, areas: Sequence[str]) -> st.SearchStrategy[Json]:
    """Drawn values through the contract's examples, which put the fields in the model's order (and
    would fill in a required field the contract gained and these strategies do not know yet)."""
    if event_type is EventType.DOSSIER:
        drawn = dossiers(now, areas)
    elif event_type is EventType.TRANSACTION:
        drawn = transactions(now, areas)
    elif event_type is EventType.SAMPLE:
        drawn = samples(now, areas)
    else:
        drawn = statuses(now)
    return drawn.map(lambda fields: examples.example(event_type, **fields))
