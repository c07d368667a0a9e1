"""The contract's messages a publisher makes: events with their envelope, and its status."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

EVENT_TYPES: Final = {"portal": ("dossier",), "payments": ("transaction",), "coverage": ("sample",)}


def topic(source: str, publisher_id: str, event_type: str) -> str:
    return f"ioc/v1/{source}/{publisher_id}/{event_type}"


def rfc3339(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("a time without an offset is refused by the contract: pass an aware datetime")
    return at.isoformat(timespec="milliseconds")


def event_payload(
    event_id: str, seq: int, area_code: str, occurred_at: datetime, fields: Mapping[str, object]
) -> bytes:
    envelope = {"event_id": event_id, "occurred_at": rfc3339(occurred_at), "area_code": area_code, "seq": seq}
    clash = envelope.keys() & fields.keys()
    if clash:
        raise ValueError(f"the library sets {sorted(clash)} itself")
    return _encode({**envelope, **fields})


def new_event_id() -> str:
    return str(uuid.uuid4())


def status_payload(state: str, at: datetime, dropped: int | None = None) -> bytes:
    """`{"state", "at"}`, and `dropped` (events the local queue discarded unsent) when it is known."""
    body: dict[str, object] = {"state": state, "at": rfc3339(at)}
    if dropped is not None:
        body["dropped"] = dropped
    return _encode(body)


def now() -> datetime:
    return datetime.now(UTC)


def _encode(body: Mapping[str, object]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
