"""Turns a raw message into an accepted event or a dead letter. Pure apart from the registry lookup."""

from __future__ import annotations

import re
from datetime import timedelta

from ingest.contract import DecodedEvent, PayloadRejected, PublisherStatus, RejectReason, decode
from ingest.contract.topics import PUBLISHER_ID_PATTERN
from ingest.records import AcceptedEvent, DeadLetter, RawMessage
from ingest.registry.snapshot import RegistryCache, RegistrySnapshot

_PUBLISHER_ID = re.compile(PUBLISHER_ID_PATTERN, re.ASCII)


class MessageClassifier:
    def __init__(self, registry: RegistryCache, max_future_skew: timedelta, max_payload_bytes: int) -> None:
        self._registry = registry
        self._skew = max_future_skew
        self._max_bytes = max_payload_bytes

    def classify_batch(self, batch: list[RawMessage]) -> list[AcceptedEvent | DeadLetter]:
        self._registry.new_batch()
        return [self.classify(raw) for raw in batch]

    def classify(self, raw: RawMessage) -> AcceptedEvent | DeadLetter:
        try:
            decoded = decode(
                raw.topic,
                raw.payload,
                now=raw.received_at,
                max_future_skew=self._skew,
                max_bytes=self._max_bytes,
            )
        except PayloadRejected as rejected:
            return self._dead_letter(raw, rejected)
        problem = _registry_problem(decoded, self._registry.current())
        if problem is not None:
            problem = _registry_problem(decoded, self._registry.after_miss())
        if problem is not None:
            return self._dead_letter(raw, problem)
        return AcceptedEvent(decoded.topic.event_type, decoded.topic.publisher_id, decoded.event, raw)

    def _dead_letter(self, raw: RawMessage, rejected: PayloadRejected) -> DeadLetter:
        return dead_letter_of(raw, rejected.reason, rejected.detail)


def dead_letter_of(raw: RawMessage, reason: RejectReason, detail: str) -> DeadLetter:
    return DeadLetter(
        received_at=raw.received_at,
        topic=raw.topic,
        publisher_id=_publisher_of(raw.topic),
        reason=reason.value,
        detail=detail,
        payload=raw.payload,
    )


def _registry_problem(decoded: DecodedEvent, registry: RegistrySnapshot) -> PayloadRejected | None:
    topic = decoded.topic
    publisher = registry.publishers.get(topic.publisher_id)
    if publisher is None:
        return PayloadRejected(RejectReason.UNKNOWN_PUBLISHER, f"publisher {topic.publisher_id} is not registered")
    if publisher.disabled:
        return PayloadRejected(RejectReason.PUBLISHER_DISABLED, f"publisher {topic.publisher_id} is disabled")
    if publisher.source != topic.source.value:
        return PayloadRejected(
            RejectReason.SOURCE_MISMATCH,
            f"publisher {topic.publisher_id} is registered for {publisher.source}, not {topic.source.value}",
        )
    event = decoded.event
    if not isinstance(event, PublisherStatus) and event.area_code not in registry.areas:
        return PayloadRejected(RejectReason.UNKNOWN_AREA, f"area_code {event.area_code} is not a known area")
    return None


def _publisher_of(topic: str) -> str | None:
    """The publisher a message came from, even when its topic is malformed: the broker's ACL lets a
    client write only under `ioc/v1/+/<username>/#`, so the fourth level names the sender."""
    levels = topic.split("/", 4)
    if len(levels) >= 4 and levels[:2] == ["ioc", "v1"] and _PUBLISHER_ID.fullmatch(levels[3]):
        return levels[3]
    return None
