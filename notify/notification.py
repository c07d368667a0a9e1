"""What a source hands the outbox, and what a receiver gets back from it.

A notification is rendered once, when its event is written to the outbox: every attempt, on every
replica, sends the same payload under the same idempotency key, so a receiver that saw it before can
tell a repeat from news.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Notification:
    """One event about one subject. `key` is unique per event (`ioc:alert:42:opened`); `subject`
    (`alert:42`) keeps a subject's events in order for each receiver."""

    subject: str
    event: str
    key: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ClaimedRow:
    """An outbox row a dispatcher holds (its lease) while it delivers it."""

    id: int
    receiver: str
    key: str
    subject: str
    event: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


def canonical_json(value: object) -> bytes:
    """The bytes sent (and signed): the same for the same payload, UTF-8, nothing escaped that need not be."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
