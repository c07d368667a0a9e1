"""MQTT topic grammar of contract v1: ioc/v1/{source}/{publisher_id}/{event_type}."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from typing import Final

from ingest.contract.errors import PayloadRejected, RejectReason, excerpt

TOPIC_PREFIX: Final = "ioc/v1"
TOPIC_TEMPLATE: Final = "ioc/v1/{source}/{publisher_id}/{event_type}"
SUBSCRIPTION_FILTER: Final = "ioc/v1/+/+/+"
PUBLISHER_ID_PATTERN: Final = r"[a-z0-9][a-z0-9-]{0,63}"


class Source(StrEnum):
    """The kind of system a publisher is."""

    PORTAL = "portal"
    PAYMENTS = "payments"
    COVERAGE = "coverage"


class EventType(StrEnum):
    """The last topic level; selects the payload model."""

    DOSSIER = "dossier"
    TRANSACTION = "transaction"
    SAMPLE = "sample"
    STATUS = "status"


ALLOWED_EVENT_TYPES: Final[Mapping[Source, frozenset[EventType]]] = MappingProxyType(
    {
        Source.PORTAL: frozenset({EventType.DOSSIER, EventType.STATUS}),
        Source.PAYMENTS: frozenset({EventType.TRANSACTION, EventType.STATUS}),
        Source.COVERAGE: frozenset({EventType.SAMPLE, EventType.STATUS}),
    }
)


def sources_of(event_type: EventType) -> list[Source]:
    """The sources whose publishers may send `event_type`, in declaration order."""
    return [source for source in Source if event_type in ALLOWED_EVENT_TYPES[source]]


# Built from the enums so a new source or event type cannot be forgotten here.
_TOPIC_RE: Final = re.compile(
    rf"ioc/v1/({'|'.join(Source)})/({PUBLISHER_ID_PATTERN})/({'|'.join(EventType)})",
    re.ASCII,
)
_PUBLISHER_ID_RE: Final = re.compile(PUBLISHER_ID_PATTERN, re.ASCII)
_LEVELS: Final = TOPIC_TEMPLATE.count("/") + 1
_SOURCE_NAMES: Final = frozenset(source.value for source in Source)


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed, contract-conforming topic."""

    source: Source
    publisher_id: str
    event_type: EventType

    def __str__(self) -> str:
        return f"{TOPIC_PREFIX}/{self.source.value}/{self.publisher_id}/{self.event_type.value}"


def parse_topic(topic: str) -> Topic:
    """Parse an MQTT topic, raising PayloadRejected(TOPIC_INVALID) if it breaks the grammar."""
    return _parse_cached(topic)


# Publishers reuse a handful of topics, so caching skips the regex and enum
# lookups on the hot path; rejected topics are never cached (they raise).
@lru_cache(maxsize=4096)
def _parse_cached(topic: str) -> Topic:
    match = _TOPIC_RE.fullmatch(topic)
    if match is None:
        raise PayloadRejected(RejectReason.TOPIC_INVALID, _explain_mismatch(topic))
    source = Source(match.group(1))
    event_type = EventType(match.group(3))
    if event_type not in ALLOWED_EVENT_TYPES[source]:
        allowed = ", ".join(sorted(ALLOWED_EVENT_TYPES[source]))
        raise PayloadRejected(
            RejectReason.TOPIC_INVALID,
            f"event type {event_type.value!r} is not allowed under source {source.value!r} (allowed: {allowed})",
        )
    return Topic(source=source, publisher_id=match.group(2), event_type=event_type)


def sender_of(topic: str) -> str | None:
    """The publisher a message came from, even when its topic is malformed: the broker lets a client
    write only under `ioc/v1/<its source>/<its username>/`, so the fourth level names the sender."""
    levels = topic.split("/", 4)
    if len(levels) >= 4 and levels[:2] == ["ioc", "v1"] and _PUBLISHER_ID_RE.fullmatch(levels[3]):
        return levels[3]
    return None


def is_status_topic(topic: str) -> bool:
    """A publisher's status topic: the one topic where a retained message is the contract."""
    try:
        return parse_topic(topic).event_type is EventType.STATUS
    except PayloadRejected:
        return False


def _explain_mismatch(topic: str) -> str:
    """Name the first level that is wrong; only runs for rejected topics."""
    shown = excerpt(topic, 160)
    levels = topic.split("/")
    if len(levels) != _LEVELS:
        return f"topic {shown} has {len(levels)} levels; expected {_LEVELS} as in {TOPIC_TEMPLATE}"
    prefix = "/".join(levels[:2])
    source, publisher_id, event_type = levels[2:]
    if prefix != TOPIC_PREFIX:
        return f"topic {shown} must start with {TOPIC_PREFIX}/"
    if source not in _SOURCE_NAMES:
        return f"unknown source {excerpt(source)}; expected one of {', '.join(Source)}"
    if _PUBLISHER_ID_RE.fullmatch(publisher_id) is None:
        return f"publisher_id {excerpt(publisher_id)} does not match {PUBLISHER_ID_PATTERN}"
    return f"unknown event type {excerpt(event_type)}; expected one of {', '.join(EventType)}"
