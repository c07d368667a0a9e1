"""Turns a raw message into an accepted event or a dead letter. Pure apart from the registry lookup."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from ingest.contract import DecodedEvent, EventType, PayloadRejected, PublisherStatus, RejectReason, decode
from ingest.contract.topics import sender_of
from ingest.intake_settings import IntakeSettings
from ingest.records import AcceptedEvent, DeadLetter, RawMessage
from ingest.registry.snapshot import RegistryCache, RegistrySnapshot

# Retention checks run hourly and take a while; an event must outlive the next few of them.
_RETENTION_MARGIN = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class IntakeRules:
    """What the ingest accepts beyond the contract's shape: how far ahead and how far back an event's
    time may be, and how large a payload."""

    max_future_skew: timedelta
    max_payload_bytes: int
    retention: timedelta  # how long event chunks are kept (IOC_INGEST_RETENTION_DAYS)
    earliest_event_date: date  # a time before its midnight (UTC) is no plausible event time

    @classmethod
    def from_settings(cls, settings: IntakeSettings) -> IntakeRules:
        return cls(
            max_future_skew=timedelta(seconds=settings.ingest_max_future_skew_seconds),
            max_payload_bytes=settings.ingest_max_payload_bytes,
            retention=timedelta(days=settings.ingest_retention_days),
            earliest_event_date=settings.ingest_earliest_event_date,
        )

    def oldest_kept(self, now: datetime, chunk_intervals: Mapping[EventType, timedelta]) -> dict[EventType, datetime]:
        """Per event type, the oldest event time worth storing at `now`. Retention drops whole chunks,
        so an event is safe only if it is newer than the horizon by a chunk interval and a margin: an
        event accepted now is then never deleted before its time, even by a retention run a day later."""
        earliest = datetime.combine(self.earliest_event_date, time(), tzinfo=UTC)
        return {
            event_type: max(earliest, now - max(self.retention - interval - _RETENTION_MARGIN, timedelta(0)))
            for event_type, interval in chunk_intervals.items()
        }


class MessageClassifier:
    def __init__(self, registry: RegistryCache, rules: IntakeRules) -> None:
        self._registry = registry
        self._rules = rules

    def classify_batch(self, batch: list[RawMessage], now: datetime | None = None) -> list[AcceptedEvent | DeadLetter]:
        """`now` is when the events will be stored (default: the first message's arrival), which
        decides how old they may be; the future-skew rule judges each by its own arrival."""
        if not batch:
            return []
        self._registry.new_batch()
        snapshot = self._registry.current()
        oldest = self._rules.oldest_kept(now or batch[0].received_at, snapshot.chunk_intervals)
        return [self._classify(raw, oldest) for raw in batch]

    def classify(self, raw: RawMessage) -> AcceptedEvent | DeadLetter:
        return self.classify_batch([raw])[0]

    def _classify(self, raw: RawMessage, oldest: Mapping[EventType, datetime]) -> AcceptedEvent | DeadLetter:
        try:
            decoded = decode(
                raw.topic,
                raw.payload,
                now=raw.received_at,
                max_future_skew=self._rules.max_future_skew,
                max_bytes=self._rules.max_payload_bytes,
                not_before=oldest,
            )
        except PayloadRejected as rejected:
            return dead_letter_of(raw, rejected.reason, rejected.detail)
        problem = _registry_problem(decoded, self._registry.current())
        if problem is not None:
            problem = _registry_problem(decoded, self._registry.after_miss())
        if problem is not None:
            return dead_letter_of(raw, problem.reason, problem.detail)
        return AcceptedEvent(decoded.topic.event_type, decoded.topic.publisher_id, decoded.event, raw)


def dead_letter_of(raw: RawMessage, reason: RejectReason, detail: str) -> DeadLetter:
    return DeadLetter(
        received_at=raw.received_at,
        topic=raw.topic,
        publisher_id=sender_of(raw.topic),
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
    if isinstance(event, PublisherStatus):
        return None
    if event.area_code not in registry.areas:
        return PayloadRejected(RejectReason.UNKNOWN_AREA, f"area_code {event.area_code} is not a known area")
    if not registry.covers(publisher.area_code, event.area_code):
        return PayloadRejected(
            RejectReason.AREA_NOT_ALLOWED,
            f"area_code {event.area_code} is outside area {publisher.area_code}, where publisher "
            f"{topic.publisher_id} is registered: it may report for that unit and the units below it",
        )
    return None
