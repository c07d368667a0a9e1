"""Stored events as the KPI engine sees them: small immutable records with times in microseconds.

The same records come from two places — the stored-events stream and the hypertables on a rebuild,
both as ingest's stored records (`ingest.stored_events`) — and both go through `to_records`, which
reads them by field name, so a rebuilt state and a live one are built from identical values.
Integer microseconds keep every comparison exact (a float epoch would round at this magnitude).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from ingest.stored_events import (
    RECORD_TYPES,
    StoredDossier,
    StoredRecord,
    StoredSample,
    StoredStatus,
    StoredTransaction,
)

_EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")
MICROS = 1_000_000


def from_micros(us: int) -> datetime:
    """The UTC datetime of a time in microseconds (exact, unlike a float timestamp)."""
    return _EPOCH + timedelta(microseconds=us)


def to_micros(value: datetime | str) -> int:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    delta = moment - _EPOCH  # exact: timedelta holds whole microseconds
    return (delta.days * 86_400 + delta.seconds) * MICROS + delta.microseconds


class DossierRecord(NamedTuple):
    publisher_id: str
    area_code: str
    occurred_us: int
    seq: int | None
    dossier_id: str
    status: str
    channel: str
    e_certified: bool
    due_us: int | None


class PaymentRecord(NamedTuple):
    publisher_id: str
    area_code: str
    occurred_us: int
    seq: int | None
    sector: str
    method: str
    amount_vnd: int
    outcome: str


class SampleRecord(NamedTuple):
    publisher_id: str
    area_code: str
    occurred_us: int
    seq: int | None
    download_mbps: float
    latency_ms: float
    packet_loss_pct: float


class StatusRecord(NamedTuple):
    publisher_id: str
    at_us: int
    state: str


Record = DossierRecord | PaymentRecord | SampleRecord | StatusRecord


def _dossier(d: StoredDossier) -> DossierRecord:
    due = None if d.due_at is None else to_micros(d.due_at)
    return DossierRecord(
        d.publisher_id, d.area_code, to_micros(d.occurred_at), d.seq, d.dossier_id, d.status, d.channel,
        d.e_certified, due,
    )  # fmt: skip


def _payment(t: StoredTransaction) -> PaymentRecord:
    return PaymentRecord(
        t.publisher_id, t.area_code, to_micros(t.occurred_at), t.seq, t.sector, t.method, int(t.amount_vnd), t.outcome
    )


def _sample(s: StoredSample) -> SampleRecord:
    return SampleRecord(
        s.publisher_id, s.area_code, to_micros(s.occurred_at), s.seq, float(s.download_mbps), float(s.latency_ms),
        float(s.packet_loss_pct),
    )  # fmt: skip


def _status(s: StoredStatus) -> StatusRecord:
    return StatusRecord(s.publisher_id, to_micros(s.at), s.state)


# Each event type's stored record (ingest.stored_events), by field name, into the engine's record.
_CONVERTERS: dict[str, Callable[[Any], Record]] = {
    "dossier": _dossier,
    "transaction": _payment,
    "sample": _sample,
    "status": _status,
}
assert _CONVERTERS.keys() == RECORD_TYPES.keys()


class UnknownRecordType(ValueError):
    pass


def to_records(event_type: str, stored: Sequence[StoredRecord]) -> list[Record]:
    convert = _CONVERTERS.get(event_type)
    if convert is None:
        raise UnknownRecordType(f"no stored record of event type {event_type!r}")
    return [convert(record) for record in stored]
