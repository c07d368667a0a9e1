"""How each event type maps to its hypertable: the columns, their types, and one row per event."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ingest.contract import (
    CoverageSample,
    DossierEvent,
    EventType,
    PaymentTransaction,
    PublisherStatus,
)

Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class EventTable:
    name: str
    columns: tuple[str, ...]
    types: tuple[str, ...]  # PostgreSQL types, for binary COPY
    time_column: str
    to_row: Callable[[Any, str, datetime], Row]

    def __post_init__(self) -> None:
        assert len(self.columns) == len(self.types), self.name


def _dossier_row(e: DossierEvent, publisher_id: str, received_at: datetime) -> Row:
    return (
        e.occurred_at, e.event_id, publisher_id, e.area_code, e.seq, e.dossier_id, e.procedure_code,
        e.domain, e.status, e.channel, e.service_level, e.e_certified, e.due_at, e.paid_online, received_at,
    )  # fmt: skip


def _transaction_row(e: PaymentTransaction, publisher_id: str, received_at: datetime) -> Row:
    return (
        e.occurred_at, e.event_id, publisher_id, e.area_code, e.seq, e.sector, e.method, e.amount_vnd,
        e.outcome, received_at,
    )  # fmt: skip


def _sample_row(e: CoverageSample, publisher_id: str, received_at: datetime) -> Row:
    return (
        e.occurred_at, e.event_id, publisher_id, e.area_code, e.seq, e.operator, e.technology,
        e.download_mbps, e.upload_mbps, e.latency_ms, e.packet_loss_pct, e.rsrp_dbm, e.village, e.lat, e.lon,
        received_at,
    )  # fmt: skip


def _status_row(e: PublisherStatus, publisher_id: str, received_at: datetime) -> Row:
    return (e.at, publisher_id, e.state, received_at)


_ENVELOPE = (("occurred_at", "timestamptz"), ("event_id", "uuid"), ("publisher_id", "text"),
             ("area_code", "text"), ("seq", "int8"))  # fmt: skip


def _table(name: str, time_column: str, to_row: Callable[..., Row], *columns: tuple[str, str]) -> EventTable:
    return EventTable(name, tuple(c for c, _ in columns), tuple(t for _, t in columns), time_column, to_row)


EVENT_TABLES: dict[EventType, EventTable] = {
    EventType.DOSSIER: _table(
        "portal_dossier_events", "occurred_at", _dossier_row, *_ENVELOPE,
        ("dossier_id", "text"), ("procedure_code", "text"), ("domain", "text"), ("status", "text"),
        ("channel", "text"), ("service_level", "text"), ("e_certified", "bool"), ("due_at", "timestamptz"),
        ("paid_online", "bool"), ("received_at", "timestamptz"),
    ),
    EventType.TRANSACTION: _table(
        "payment_transactions", "occurred_at", _transaction_row, *_ENVELOPE,
        ("sector", "text"), ("method", "text"), ("amount_vnd", "int8"), ("outcome", "text"),
        ("received_at", "timestamptz"),
    ),
    EventType.SAMPLE: _table(
        "coverage_samples", "occurred_at", _sample_row, *_ENVELOPE,
        ("operator", "text"), ("technology", "text"), ("download_mbps", "float8"), ("upload_mbps", "float8"),
        ("latency_ms", "float8"), ("packet_loss_pct", "float8"), ("rsrp_dbm", "float8"), ("village", "text"),
        ("lat", "float8"), ("lon", "float8"), ("received_at", "timestamptz"),
    ),
    EventType.STATUS: _table(
        "publisher_status", "at", _status_row,
        ("at", "timestamptz"), ("publisher_id", "text"), ("state", "text"), ("received_at", "timestamptz"),
    ),
}  # fmt: skip
