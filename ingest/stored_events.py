"""The stored-events stream: what ingest tells the KPI engine after each committed batch.

One stream entry per batch, fields `producer` (the ingest process's account), `session` (new at
every process start), `pseq` (its batch counter, +1 per committed batch, published or not),
`xids` (the ids of the database transactions that stored the batch, comma-separated) and `records`
(JSON: one array per stored event, columns as in `RECORD_COLUMNS`). A clean stop adds a last entry
with `final` = 1 and no records. A consumer that sees a `pseq` jump, or a new session of a producer
whose previous session did not end with `final`, has missed batches and must rebuild from the
database, which stays the source of truth.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Per event type: the columns of the hypertable that the KPI engine needs, in record order.
RECORD_COLUMNS: dict[str, tuple[str, ...]] = {
    "dossier": ("publisher_id", "area_code", "occurred_at", "seq", "dossier_id", "status", "channel",
                "e_certified", "due_at"),
    "transaction": ("publisher_id", "area_code", "occurred_at", "seq", "sector", "method", "amount_vnd",
                    "outcome"),
    "sample": ("publisher_id", "area_code", "occurred_at", "seq", "download_mbps", "latency_ms",
               "packet_loss_pct"),
    "status": ("publisher_id", "at", "state"),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class StoredEventsBatch:
    producer: str
    session: str
    pseq: int
    records: dict[str, list[list[Any]]]  # event type -> rows (times as ISO 8601 strings)
    transaction_ids: tuple[int, ...] = ()
    final: bool = False

    def encode(self) -> dict[str, str]:
        return {
            "producer": self.producer,
            "session": self.session,
            "pseq": str(self.pseq),
            "xids": ",".join(map(str, self.transaction_ids)),
            "final": "1" if self.final else "0",
            "records": json.dumps(self.records, separators=(",", ":"), default=_iso),
        }

    @property
    def position(self) -> str:
        """What the producers hash holds for this entry's producer once the entry is written."""
        return f"{self.session}:{self.pseq}{':final' if self.final else ''}"

    @classmethod
    def decode(cls, fields: dict[bytes, bytes]) -> StoredEventsBatch:
        return cls(
            producer=fields[b"producer"].decode(),
            session=fields[b"session"].decode(),
            pseq=int(fields[b"pseq"]),
            records=json.loads(fields[b"records"]),
            transaction_ids=tuple(int(x) for x in fields.get(b"xids", b"").split(b",") if x),
            final=fields.get(b"final") == b"1",
        )


def _iso(value: object) -> str:
    isoformat = getattr(value, "isoformat", None)
    if isoformat is None:
        raise TypeError(f"cannot encode {type(value).__name__} in a stored-events record")
    return str(isoformat())
