"""How each event type maps to its hypertable: the columns, their types, and one row per event."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

import psycopg

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
    chunk_interval: timedelta  # as migration 0002 creates the table; the database's own may differ

    def __post_init__(self) -> None:
        assert len(self.columns) == len(self.types), self.name

    @property
    def has_event_id(self) -> bool:
        """Whether its events carry an `event_id` (all but the publishers' status)."""
        return "event_id" in self.columns


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


def _table(
    name: str, time_column: str, chunk_days: int, to_row: Callable[..., Row], *columns: tuple[str, str]
) -> EventTable:
    names, types = tuple(c for c, _ in columns), tuple(t for _, t in columns)
    return EventTable(name, names, types, time_column, to_row, timedelta(days=chunk_days))


EVENT_TABLES: dict[EventType, EventTable] = {
    EventType.DOSSIER: _table(
        "portal_dossier_events", "occurred_at", 7, _dossier_row, *_ENVELOPE,
        ("dossier_id", "text"), ("procedure_code", "text"), ("domain", "text"), ("status", "text"),
        ("channel", "text"), ("service_level", "text"), ("e_certified", "bool"), ("due_at", "timestamptz"),
        ("paid_online", "bool"), ("received_at", "timestamptz"),
    ),
    EventType.TRANSACTION: _table(
        "payment_transactions", "occurred_at", 1, _transaction_row, *_ENVELOPE,
        ("sector", "text"), ("method", "text"), ("amount_vnd", "int8"), ("outcome", "text"),
        ("received_at", "timestamptz"),
    ),
    EventType.SAMPLE: _table(
        "coverage_samples", "occurred_at", 1, _sample_row, *_ENVELOPE,
        ("operator", "text"), ("technology", "text"), ("download_mbps", "float8"), ("upload_mbps", "float8"),
        ("latency_ms", "float8"), ("packet_loss_pct", "float8"), ("rsrp_dbm", "float8"), ("village", "text"),
        ("lat", "float8"), ("lon", "float8"), ("received_at", "timestamptz"),
    ),
    EventType.STATUS: _table(
        "publisher_status", "at", 7, _status_row,
        ("at", "timestamptz"), ("publisher_id", "text"), ("state", "text"), ("received_at", "timestamptz"),
    ),
}  # fmt: skip

# The chunk intervals migration 0002 gives the tables (`chunk_intervals` reads the database's own).
SHIPPED_CHUNK_INTERVALS: Mapping[EventType, timedelta] = MappingProxyType(
    {event_type: table.chunk_interval for event_type, table in EVENT_TABLES.items()}
)


def chunk_intervals(conn: psycopg.Connection[tuple[object, ...]]) -> Mapping[EventType, timedelta]:
    """The chunk interval each event table has now (an operator may have changed it since 0002)."""
    rows = conn.execute(
        "SELECT hypertable_name, time_interval FROM timescaledb_information.dimensions"
        " WHERE hypertable_schema = current_schema() AND hypertable_name = ANY(%s) AND time_interval IS NOT NULL",
        ([t.name for t in EVENT_TABLES.values()],),
    ).fetchall()
    found = {str(name): interval for name, interval in rows if isinstance(interval, timedelta)}
    return MappingProxyType(
        {event_type: found.get(table.name, table.chunk_interval) for event_type, table in EVENT_TABLES.items()}
    )
