"""Dead letters as CSV rows (RFC 4180 quoting by the `csv` module), safe to open in a spreadsheet.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be read as a formula by
spreadsheet programs (CSV injection: a publisher controls the topic and the detail quotes its payload),
so such a cell is prefixed with `'`, which makes it text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime

from ingest.dead_letters import DeadLetterRecord

HEADER = ("id", "received_at", "topic", "publisher_id", "reason", "detail", "payload_bytes", "resolved_at",
          "last_replay_at", "last_replay_outcome")  # fmt: skip
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ROWS_PER_CHUNK = 200


def safe_cell(value: object) -> str:
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def csv_chunks(records: Iterable[DeadLetterRecord]) -> Iterator[str]:
    """The header, then the rows, a few hundred to a chunk (what a streamed response sends at a time)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for count, r in enumerate(records, start=1):
        writer.writerow(safe_cell(getattr(r, name)) for name in HEADER)
        if count % _ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
