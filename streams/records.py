"""Stored events as the KPI engine sees them: small immutable records with times in microseconds.

The same records come from two places — the stored-events stream (JSON, times as ISO 8601 text)
and the hypertables on a rebuild (rows, times as datetimes) — and both go through `to_record`, so
a rebuilt state and a live one are built from identical values. Integer microseconds keep every
comparison exact (a float epoch would round at this magnitude).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from ingest.stored_events import RECORD_COLUMNS

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


def _dossier(row: Sequence[Any]) -> DossierRecord:
    publisher, area, occurred, seq, dossier, status, channel, e_certified, due = row
    return DossierRecord(
        publisher, area, to_micros(occurred), seq, dossier, status, channel, e_certified,
        None if due is None else to_micros(due),
    )  # fmt: skip


def _payment(row: Sequence[Any]) -> PaymentRecord:
    publisher, area, occurred, seq, sector, method, amount, outcome = row
    return PaymentRecord(publisher, area, to_micros(occurred), seq, sector, method, int(amount), outcome)


def _sample(row: Sequence[Any]) -> SampleRecord:
    publisher, area, occurred, seq, download, latency, loss = row
    return SampleRecord(publisher, area, to_micros(occurred), seq, float(download), float(latency), float(loss))


def _status(row: Sequence[Any]) -> StatusRecord:
    publisher, at, state = row
    return StatusRecord(publisher, to_micros(at), state)


# Keyed like RECORD_COLUMNS; the column order there is the argument order here.
_PARSERS: dict[str, Callable[[Sequence[Any]], Record]] = {
    "dossier": _dossier,
    "transaction": _payment,
    "sample": _sample,
    "status": _status,
}
assert _PARSERS.keys() == RECORD_COLUMNS.keys()


class UnknownRecordType(ValueError):
    pass


def to_records(event_type: str, rows: Sequence[Sequence[Any]]) -> list[Record]:
    parse = _PARSERS.get(event_type)
    if parse is None:
        raise UnknownRecordType(f"the stored-events stream carries an unknown event type {event_type!r}")
    return [parse(row) for row in rows]
