"""Inbound event contract v1: topic grammar, payload models and the edge decoder.

A leaf package: it imports only the standard library and pydantic, so
publishers' tooling and every service can depend on it.
"""

from ingest.contract.decode import DecodedEvent, decode
from ingest.contract.errors import (
    MAX_JSON_DEPTH,
    MAX_PAYLOAD_BYTES,
    REJECT_REASON_DESCRIPTIONS,
    PayloadRejected,
    RejectReason,
)
from ingest.contract.events import (
    AREA_CODE_PATTERN,
    EVENT_MODELS,
    Channel,
    ContractModel,
    CoverageSample,
    DossierDomain,
    DossierEvent,
    DossierStatus,
    Event,
    EventEnvelope,
    NetworkOperator,
    NetworkTechnology,
    PaymentMethod,
    PaymentOutcome,
    PaymentSector,
    PaymentTransaction,
    PublisherState,
    PublisherStatus,
    ServiceLevel,
)
from ingest.contract.topics import (
    ALLOWED_EVENT_TYPES,
    PUBLISHER_ID_PATTERN,
    SUBSCRIPTION_FILTER,
    TOPIC_PREFIX,
    TOPIC_TEMPLATE,
    EventType,
    Source,
    Topic,
    parse_topic,
)

__all__ = [
    "ALLOWED_EVENT_TYPES",
    "AREA_CODE_PATTERN",
    "EVENT_MODELS",
    "MAX_JSON_DEPTH",
    "MAX_PAYLOAD_BYTES",
    "PUBLISHER_ID_PATTERN",
    "REJECT_REASON_DESCRIPTIONS",
    "SUBSCRIPTION_FILTER",
    "TOPIC_PREFIX",
    "TOPIC_TEMPLATE",
    "Channel",
    "ContractModel",
    "CoverageSample",
    "DecodedEvent",
    "DossierDomain",
    "DossierEvent",
    "DossierStatus",
    "Event",
    "EventEnvelope",
    "EventType",
    "NetworkOperator",
    "NetworkTechnology",
    "PayloadRejected",
    "PaymentMethod",
    "PaymentOutcome",
    "PaymentSector",
    "PaymentTransaction",
    "PublisherState",
    "PublisherStatus",
    "RejectReason",
    "ServiceLevel",
    "Source",
    "Topic",
    "decode",
    "parse_topic",
]
