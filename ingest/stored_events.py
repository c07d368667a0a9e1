"""The stored-events stream: what ingest tells the KPI engine (and the API's event tail) after each committed batch.

One stream entry per batch, fields `v` (the format version, `FORMAT_VERSION`), `producer` (the
ingest process's account), `session` (new at every process start), `pseq` (its batch counter, +1 per
committed batch, published or not), `xids` (the ids of the database transactions that stored the
batch, comma-separated), `columns` (JSON: per event type, the names of its record's columns) and
`records` (JSON: per event type, one array per stored event, in the order `columns` names). A clean
stop adds a last entry with `final` = 1 and no records. A consumer that sees a `pseq` jump, or a new
session of a producer whose previous session did not end with `final`, has missed batches and must
rebuild from the database, which stays the source of truth; so must one that refuses an entry.

Each event type's record is declared once, below: its fields are the columns, in the order ingest
asks the database for them (`RETURNING`), writes them and, when an entry names no columns (version 1,
before the version was written down), reads them.
"""

from __future__ import annotations

import itertools
import json
import operator
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType, NoneType, UnionType
from typing import Any, NamedTuple

from runtime.wire import RefusalReason, RefusedRecord, version_of

FORMAT_VERSION = 2
# The current version and the one before it: version 1 had the same `records`, without `v` and `columns`.
READS = (1, 2)


class StoredDossier(NamedTuple):
    publisher_id: str
    area_code: str
    occurred_at: datetime
    seq: int | None
    dossier_id: str
    status: str
    channel: str
    e_certified: bool
    due_at: datetime | None


class StoredTransaction(NamedTuple):
    publisher_id: str
    area_code: str
    occurred_at: datetime
    seq: int | None
    sector: str
    method: str
    amount_vnd: int
    outcome: str


class StoredSample(NamedTuple):
    publisher_id: str
    area_code: str
    occurred_at: datetime
    seq: int | None
    download_mbps: float
    latency_ms: float
    packet_loss_pct: float


class StoredStatus(NamedTuple):
    publisher_id: str
    at: datetime
    state: str


StoredRecord = StoredDossier | StoredTransaction | StoredSample | StoredStatus
RecordType = type[StoredDossier] | type[StoredTransaction] | type[StoredSample] | type[StoredStatus]

# Per event type (the hypertable's), its record: the columns of the hypertable that the KPI engine needs.
RECORD_TYPES: Mapping[str, RecordType] = MappingProxyType(
    {"dossier": StoredDossier, "transaction": StoredTransaction, "sample": StoredSample, "status": StoredStatus}
)
RECORD_COLUMNS: Mapping[str, tuple[str, ...]] = MappingProxyType({t: r._fields for t, r in RECORD_TYPES.items()})


@dataclass(frozen=True, slots=True)
class StoredEventsBatch:
    producer: str
    session: str
    pseq: int
    records: Mapping[str, Sequence[StoredRecord]]  # event type -> its records
    transaction_ids: tuple[int, ...] = ()
    final: bool = False

    def encode(self) -> dict[str, str]:
        return {
            "v": str(FORMAT_VERSION),
            "producer": self.producer,
            "session": self.session,
            "pseq": str(self.pseq),
            "xids": ",".join(map(str, self.transaction_ids)),
            "final": "1" if self.final else "0",
            "columns": json.dumps({t: RECORD_COLUMNS[t] for t in self.records}, separators=(",", ":")),
            # A record is a tuple: it goes out as an array, with times as ISO 8601 text.
            "records": json.dumps(self.records, separators=(",", ":"), default=_iso),
        }

    @property
    def position(self) -> str:
        """What the producers hash holds for this entry's producer once the entry is written."""
        return f"{self.session}:{self.pseq}{':final' if self.final else ''}"

    @classmethod
    def decode(cls, fields: Mapping[bytes, bytes]) -> StoredEventsBatch:
        """An entry of a version in `READS`, its records typed; raises `RefusedRecord` for any other
        entry, or one that is not laid out as its version says."""
        producer = fields.get(b"producer", b"an unnamed producer").decode(errors="replace")[:100]
        raw_version = fields.get(b"v")
        version = version_of(
            None if raw_version is None else raw_version.decode(errors="replace"),
            what="a stored-events entry", producer=producer, reads=READS,
        )  # fmt: skip
        try:
            named = None if version == 1 else json.loads(fields[b"columns"])
            return cls(
                producer=fields[b"producer"].decode(),
                session=fields[b"session"].decode(),
                pseq=int(fields[b"pseq"]),
                records=_records(json.loads(fields[b"records"]), named),
                transaction_ids=tuple(int(x) for x in fields.get(b"xids", b"").split(b",") if x),
                final=fields.get(b"final") == b"1",
            )
        # UnicodeDecodeError and the JSON parser's errors are ValueErrors; RecursionError: JSON nested too deep.
        except (KeyError, ValueError, TypeError, AttributeError, RecursionError) as exc:
            detail = f"{type(exc).__name__}: {exc}"[:200]
            raise RefusedRecord(
                "a stored-events entry", producer, version, RefusalReason.MALFORMED, READS, detail
            ) from exc


def _records(records: object, named: object) -> dict[str, list[StoredRecord]]:
    if not isinstance(records, dict) or not (named is None or isinstance(named, dict)):
        raise TypeError("records and columns are JSON objects keyed by event type")
    decoded: dict[str, list[StoredRecord]] = {}
    for event_type, rows in records.items():
        reader = _READERS.get(event_type)
        if reader is None:
            raise ValueError(f"unknown event type {event_type!r}")
        if not isinstance(rows, list):
            raise TypeError(f"the {event_type} records are not an array")
        columns = RECORD_COLUMNS[event_type] if named is None else named[event_type]
        decoded[event_type] = reader(columns, rows)
    return decoded


# The JSON types a column of each declared type may hold: exactly these, never a conversion that
# guesses (`true` is no integer, "12" no number); times are ISO 8601 text with a time zone.
_JSON_TYPES: dict[object, tuple[type, ...]] = {str: (str,), int: (int,), float: (int, float), bool: (bool,),
                                               datetime: (str,)}  # fmt: skip


def _declared(annotation: object) -> tuple[object, bool]:
    """A field's declared type, and whether it may be None (`X | None`)."""
    if isinstance(annotation, UnionType):
        [inner] = [a for a in typing.get_args(annotation) if a is not NoneType]
        return inner, True
    return annotation, False


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r:.40} has no time zone")
    return moment


RecordReader = Callable[[object, list[Any]], list[StoredRecord]]


def _reader(record: RecordType) -> RecordReader:
    """Reads rows laid out as the entry's column names say into `record`s, by name: a column the
    record lacks is ignored, one the record needs and the entry lacks refuses the entry.

    A row's types are checked all at once against every combination the declaration allows (a few
    per event type), which costs the engine less than a check per value."""
    hints = typing.get_type_hints(record)
    declared = [_declared(hints[name]) for name in record._fields]
    # A column of a type not in _JSON_TYPES fails here, at import: say which JSON types it may hold.
    allowed = [(*_JSON_TYPES[kind], NoneType) if optional else _JSON_TYPES[kind] for kind, optional in declared]
    signatures = frozenset(itertools.product(*allowed))
    times = [i for i, (kind, _) in enumerate(declared) if kind is datetime]
    numbers = [i for i, (kind, _) in enumerate(declared) if kind is float]  # JSON's 12 is the number 12.0
    make = record._make

    def read(columns: object, rows: list[Any]) -> list[StoredRecord]:
        if not isinstance(columns, list | tuple) or not all(type(c) is str for c in columns):
            raise TypeError("an event type's columns are a list of names")
        missing = [name for name in record._fields if name not in columns]
        if missing:
            raise ValueError(f"the columns lack {', '.join(missing)}")
        pick = operator.itemgetter(*(columns.index(name) for name in record._fields))
        width = len(columns)
        out: list[StoredRecord] = []
        for row in rows:
            if type(row) is not list or len(row) != width:
                raise TypeError(f"a record is an array of {width} values")
            values = list(pick(row))
            if tuple(map(type, values)) not in signatures:
                wrong = [
                    f"{n}={v!r:.40}"
                    for n, v, a in zip(record._fields, values, allowed, strict=True)
                    if type(v) not in a
                ]
                raise TypeError(f"values not of their column's type: {', '.join(wrong)}")
            for i in times:
                if values[i] is not None:
                    values[i] = _moment(values[i])
            for i in numbers:
                if values[i] is not None:
                    values[i] = float(values[i])
            out.append(make(values))
        return out

    return read


_READERS: dict[str, RecordReader] = {t: _reader(r) for t, r in RECORD_TYPES.items()}


def _iso(value: object) -> str:
    isoformat = getattr(value, "isoformat", None)
    if isoformat is None:
        raise TypeError(f"cannot encode {type(value).__name__} in a stored-events record")
    return str(isoformat())
