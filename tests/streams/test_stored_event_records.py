"""The stored-events record from ingest to the engine: encoded by ingest, read by the engine by name (pure logic).

Every event type's record is built from its declaration (`ingest.stored_events`), so a column added
there is covered here without a change; a column moved there that the previous version's readers
would read in the old place fails here, not in a KPI."""

from __future__ import annotations

import json
import typing
from datetime import UTC, datetime, timedelta
from types import NoneType, UnionType
from typing import Any

import pytest

from ingest.stored_events import (
    FORMAT_VERSION,
    READS,
    RECORD_COLUMNS,
    RECORD_TYPES,
    StoredEventsBatch,
    StoredRecord,
)
from runtime.wire import RefusalReason, RefusedRecord
from streams.records import MICROS, to_micros, to_records

AT = datetime(2026, 11, 26, 2, 30, 7, 250_001, tzinfo=UTC)


def a_value(annotation: object, n: int) -> object:
    """A value of the declared type, different for every column `n` (a column read from its neighbour's
    place would not compare equal)."""
    if isinstance(annotation, UnionType):
        [inner] = [a for a in typing.get_args(annotation) if a is not NoneType]
        return a_value(inner, n)
    values: dict[object, object] = {str: f"text-{n}", int: 1_000 + n, float: n + 0.25, bool: n % 2 == 0,
                                    datetime: AT + timedelta(seconds=n)}  # fmt: skip
    return values[annotation]


def a_record(event_type: str) -> StoredRecord:
    record = RECORD_TYPES[event_type]
    hints = typing.get_type_hints(record)
    return record(**{name: a_value(hints[name], n) for n, name in enumerate(record._fields)})


def stream_fields(encoded: dict[str, str]) -> dict[bytes, bytes]:
    """What the engine gets from Redis for an entry that ingest wrote."""
    return {k.encode(): v.encode() for k, v in encoded.items()}


def engine_name(column: str) -> str:
    """The engine's name of a column: times in microseconds (`occurred_at` → `occurred_us`, `at` → `at_us`)."""
    return "at_us" if column == "at" else column.removesuffix("_at") + "_us" if column.endswith("_at") else column


def as_engine_values(record: StoredRecord) -> dict[str, object]:
    return {
        engine_name(name): to_micros(value) if isinstance(value, datetime) else value
        for name, value in record._asdict().items()
    }


@pytest.mark.parametrize("event_type", sorted(RECORD_TYPES))
def test_what_ingest_encodes_the_engine_reads_field_by_field(event_type: str) -> None:
    stored = a_record(event_type)
    batch = StoredEventsBatch("ingest-0", "s1", 7, {event_type: [stored]}, (900,))
    decoded = StoredEventsBatch.decode(stream_fields(batch.encode()))
    assert decoded == batch
    [engine_record] = to_records(event_type, decoded.records[event_type])
    assert engine_record._asdict() == as_engine_values(stored)


@pytest.mark.parametrize("event_type", sorted(RECORD_TYPES))
def test_a_reader_takes_the_columns_by_name_whatever_their_order_and_ignores_one_it_does_not_know(
    event_type: str,
) -> None:
    # An ingest whose declaration lists the columns in another order, with one more the engine lacks.
    stored = a_record(event_type)
    encoded = StoredEventsBatch("ingest-0", "s1", 7, {event_type: [stored]}, (900,)).encode()
    [row] = json.loads(encoded["records"])[event_type]
    columns = [*reversed(RECORD_COLUMNS[event_type]), "received_at"]
    encoded["columns"] = json.dumps({event_type: columns})
    encoded["records"] = json.dumps({event_type: [[*reversed(row), "2026-11-26T02:30:08+00:00"]]})
    decoded = StoredEventsBatch.decode(stream_fields(encoded))
    assert decoded.records == {event_type: [stored]}


# Version 1, as the ingest before this one wrote it (no `v`, no `columns`): the records laid out as
# the engine before this one reads them. The current version lays them out the same way, so that an
# engine or API of the previous release reads a new ingest's entries too.
V1_RECORDS: dict[str, list[list[Any]]] = {
    "dossier": [["portal-1", "24611", "2026-11-26T09:30:07+07:00", 5, "D-1", "submitted", "online", True, None],
                ["portal-1", "24611", "2026-11-26T02:30:08.500000+00:00", None, "D-2", "completed", "one_stop_desk",
                 False, "2026-12-01T00:00:00+00:00"]],
    "transaction": [["counter-9", "24615", "2026-11-26T02:30:07.250001+00:00", 2, "tax", "cash", 10_000,
                     "succeeded"]],
    "sample": [["probe-3", "663", "2026-11-26T02:30:07+00:00", 11, 12.5, 40.0, 0.0]],
    "status": [["probe-3", "2026-11-26T02:30:07+00:00", "online"]],
}  # fmt: skip
V1_FIELDS = {
    b"producer": b"ingest-1", b"session": b"abc", b"pseq": b"4", b"xids": b"77,78", b"final": b"0",
    b"records": json.dumps(V1_RECORDS).encode(),
}  # fmt: skip


def test_an_entry_of_the_previous_version_is_read_by_name() -> None:
    assert READS == (FORMAT_VERSION - 1, FORMAT_VERSION)
    batch = StoredEventsBatch.decode(V1_FIELDS)
    assert (batch.producer, batch.session, batch.pseq, batch.transaction_ids, batch.final) == (
        "ingest-1", "abc", 4, (77, 78), False
    )  # fmt: skip
    [first, second] = batch.records["dossier"]
    assert (first.publisher_id, first.area_code, first.seq, first.dossier_id, first.status, first.channel) == (
        "portal-1", "24611", 5, "D-1", "submitted", "online"
    )  # fmt: skip
    assert (first.occurred_at, first.e_certified, first.due_at) == (AT.replace(microsecond=0), True, None)
    assert (second.seq, second.e_certified, second.due_at) == (None, False, datetime(2026, 12, 1, tzinfo=UTC))
    [payment] = to_records("transaction", batch.records["transaction"])
    assert payment._asdict() == {
        "publisher_id": "counter-9", "area_code": "24615", "occurred_us": to_micros(AT), "seq": 2, "sector": "tax",
        "method": "cash", "amount_vnd": 10_000, "outcome": "succeeded",
    }  # fmt: skip
    [sample] = batch.records["sample"]
    assert (sample.download_mbps, sample.latency_ms, sample.packet_loss_pct) == (12.5, 40.0, 0.0)
    [status] = to_records("status", batch.records["status"])
    assert status._asdict() == {"publisher_id": "probe-3", "at_us": to_micros(AT) - 250_001, "state": "online"}
    assert status.at_us % MICROS == 0


def test_the_current_version_lays_records_out_as_the_previous_versions_readers_read_them() -> None:
    previous = StoredEventsBatch.decode(V1_FIELDS)
    encoded = previous.encode()
    assert encoded["v"] == str(FORMAT_VERSION)
    assert json.loads(encoded["columns"]) == {t: list(RECORD_COLUMNS[t]) for t in V1_RECORDS}
    # Times come out in the spelling they came in with (the API's event tail forwards them).
    assert json.loads(encoded["records"]) == V1_RECORDS


def refusal(fields: dict[bytes, bytes]) -> RefusedRecord:
    with pytest.raises(RefusedRecord) as refused:
        StoredEventsBatch.decode(fields)
    return refused.value


def current(**changes: bytes) -> dict[bytes, bytes]:
    fields = stream_fields(StoredEventsBatch.decode(V1_FIELDS).encode())
    return fields | {k.encode(): v for k, v in changes.items()}


@pytest.mark.parametrize("version", [b"3", b"0", b"02", b"2.0", b"", b"\xff"])
def test_an_entry_of_another_version_is_refused_saying_who_wrote_it_and_what_is_read(version: bytes) -> None:
    refused = refusal(current(v=version))
    assert (refused.reason, refused.producer) == (RefusalReason.VERSION, "ingest-1")
    text = version.decode(errors="replace")
    stated = text if text.isdigit() else repr(text)
    assert refused.describe() == (
        f"refused a stored-events entry from ingest-1 in format version {stated}: a version this process does"
        " not read (reads 1 and 2)"
    )


def a_row(event_type: str, **values: object) -> bytes:
    row = dict(zip(RECORD_COLUMNS[event_type], V1_RECORDS[event_type][0], strict=True)) | values
    return json.dumps({event_type: [list(row.values())]}).encode()


@pytest.mark.parametrize(
    "changes",
    [
        {"records": b"{not json"},
        {"records": b"[]"},
        {"records": b'{"complaint": []}'},  # an event type this version does not have
        {"records": b'{"transaction": {}}'},
        {"records": b'{"transaction": [["counter-9"]]}'},  # a row of the wrong width
        {"records": b'{"transaction": ["counter-9"]}'},
        {"records": a_row("transaction", amount_vnd="10000")},
        {"records": a_row("transaction", amount_vnd=10_000.0)},
        {"records": a_row("transaction", amount_vnd=True)},
        {"records": a_row("transaction", publisher_id=7)},
        {"records": a_row("transaction", seq="2")},
        {"records": a_row("transaction", occurred_at="2026-11-26T02:30:07")},  # no time zone
        {"records": a_row("transaction", occurred_at="yesterday")},
        {"records": a_row("transaction", occurred_at=None)},
        {"records": a_row("dossier", e_certified=1)},
        {"records": a_row("sample", latency_ms="40")},
        {"columns": b'{"transaction": ["publisher_id"]}'},  # lacks columns the engine needs
        {"columns": b'{"transaction": "publisher_id"}'},
        {"columns": b"{}"},
        {"columns": b"[not json"},
        {"pseq": b"four"},
        {"records": b"[" * 100_000 + b"]" * 100_000},  # nested past the parser's depth
    ],
)
def test_an_entry_not_laid_out_as_its_version_says_is_refused_as_a_whole(changes: dict[str, bytes]) -> None:
    fields = current(
        records=a_row("transaction"), columns=json.dumps({"transaction": RECORD_COLUMNS["transaction"]}).encode()
    )
    assert StoredEventsBatch.decode(fields).records["transaction"]  # the entry before the change is read
    refused = refusal(fields | {k.encode(): v for k, v in changes.items()})
    assert (refused.reason, refused.producer, refused.version) == (RefusalReason.MALFORMED, "ingest-1", 2)
    assert refused.describe().startswith("refused a stored-events entry from ingest-1 in format version 2: ")


@pytest.mark.parametrize("missing", [b"producer", b"session", b"pseq", b"records", b"columns"])
def test_an_entry_without_a_field_of_its_version_is_refused(missing: bytes) -> None:
    fields = current()
    del fields[missing]
    refused = refusal(fields)
    assert refused.reason == RefusalReason.MALFORMED
    assert refused.producer == ("an unnamed producer" if missing == b"producer" else "ingest-1")


def test_a_whole_number_in_a_number_column_is_read_as_the_number_it_is() -> None:
    fields = current(
        records=a_row("sample", latency_ms=40, packet_loss_pct=None),
        columns=b'{"sample": %s}' % (json.dumps(RECORD_COLUMNS["sample"]).encode()),
    )
    with pytest.raises(RefusedRecord):  # a column not declared optional takes no null
        StoredEventsBatch.decode(fields)
    [sample] = StoredEventsBatch.decode(fields | {b"records": a_row("sample", latency_ms=40)}).records["sample"]
    assert (sample.latency_ms, type(sample.latency_ms)) == (40.0, float)
