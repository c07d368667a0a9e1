"""What flows through the ingest service: a raw MQTT message in, an accepted event or a dead letter out."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from ingest.contract import Event, EventType


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One MQTT message as received, before any validation. `generation` counts broker connections:
    a message may only be acknowledged on the connection that delivered it."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    received_at: datetime
    received_monotonic: float
    generation: int


@dataclass(frozen=True, slots=True)
class AcceptedEvent:
    event_type: EventType
    publisher_id: str
    event: Event
    raw: RawMessage

    @property
    def received_at(self) -> datetime:
        return self.raw.received_at


@dataclass(frozen=True, slots=True)
class DeadLetter:
    received_at: datetime
    topic: str
    publisher_id: str | None
    reason: str
    detail: str
    payload: bytes

    @property
    def fingerprint(self) -> bytes:
        """Identical messages (same topic, same bytes) are one dead letter."""
        return hashlib.sha256(self.topic.encode("utf-8", "surrogateescape") + b"\x00" + self.payload).digest()
