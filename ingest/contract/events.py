"""Payload models of contract v1, one per event type.

Models are strict (no "12" -> 12, no 1 -> True) and forbid unknown fields, so
what a publisher sends is exactly what we store. Text never contains NUL
because PostgreSQL text columns cannot hold it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Final, Self
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ingest.contract.topics import EventType

_RFC3339_RE: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})",
    re.ASCII,
)
_NO_NUL: Final = r"^[^\x00]+$"
RFC3339_EXAMPLE: Final = "2025-01-31T08:30:00+07:00"
AREA_CODE_PATTERN: Final = r"[0-9A-Za-z._-]{1,32}"


def _require_rfc3339(value: object) -> object:
    # pydantic's own parser also takes "+0700", minutes without seconds and
    # Unix seconds in a string; the contract promises RFC 3339 only.
    if isinstance(value, str):
        if _RFC3339_RE.fullmatch(value) is None:
            raise ValueError(f"expected an RFC 3339 date-time with offset, e.g. {RFC3339_EXAMPLE}")
        return value
    if isinstance(value, datetime):
        return value
    raise ValueError("expected an RFC 3339 date-time string")


# strict=False only lets the already-checked string through to pydantic's
# parser; the before-validator refuses every non-string JSON input.
Rfc3339Time = Annotated[AwareDatetime, BeforeValidator(_require_rfc3339), Field(strict=False)]
AreaCode = Annotated[str, Field(pattern=f"^{AREA_CODE_PATTERN}$")]
DossierId = Annotated[str, Field(min_length=1, max_length=128, pattern=_NO_NUL)]
ProcedureCode = Annotated[str, Field(min_length=1, max_length=64, pattern=_NO_NUL)]
VillageName = Annotated[str, Field(min_length=1, max_length=128, pattern=_NO_NUL)]
Rate = Annotated[float, Field(ge=0)]


class DossierDomain(StrEnum):
    LAND = "land"
    CIVIL_STATUS = "civil_status"
    BUSINESS = "business"
    CONSTRUCTION = "construction"
    SOCIAL = "social"
    JUSTICE = "justice"
    OTHER = "other"


class DossierStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    RESOLVED = "resolved"
    RETURNED = "returned"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class Channel(StrEnum):
    ONLINE = "online"
    ONE_STOP_DESK = "one_stop_desk"
    QR_KIOSK = "qr_kiosk"
    POSTAL = "postal"


class ServiceLevel(StrEnum):
    FULL_ONLINE = "full_online"
    PARTIAL_ONLINE = "partial_online"
    OFFLINE = "offline"


class PaymentSector(StrEnum):
    HEALTH = "health"
    EDUCATION = "education"
    ELECTRICITY = "electricity"
    WATER = "water"
    TAX = "tax"
    PUBLIC_SERVICE = "public_service"
    OTHER = "other"


class PaymentMethod(StrEnum):
    CASH = "cash"
    CARD = "card"
    QR = "qr"
    EWALLET = "ewallet"
    BANK_TRANSFER = "bank_transfer"


class PaymentOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"


class NetworkOperator(StrEnum):
    VNPT = "vnpt"
    VIETTEL = "viettel"
    MOBIFONE = "mobifone"
    OTHER = "other"


class NetworkTechnology(StrEnum):
    TWO_G = "2g"
    THREE_G = "3g"
    FOUR_G = "4g"
    FIVE_G = "5g"
    FTTH = "ftth"
    WIFI = "wifi"


class PublisherState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class ContractModel(BaseModel):
    """Shared strictness of every inbound payload."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class EventEnvelope(ContractModel):
    """Fields every business event carries."""

    event_id: UUID = Field(
        description=(
            "Unique per event of a publisher; the deduplication key. A re-send must carry the same fields "
            "(then it is stored once); other fields under a stored id are a conflicting_duplicate. A "
            "correction is a new event_id."
        )
    )
    occurred_at: Rfc3339Time = Field(
        description=(
            f"When it happened at the source, RFC 3339 with offset, e.g. {RFC3339_EXAMPLE}. Not ahead of the "
            "server clock (future_event) nor older than retention keeps or the earliest plausible date (too_old)."
        )
    )
    area_code: AreaCode = Field(
        description=(
            "Code of an administrative unit of the areas table: the province, a district, a commune or ward, "
            "or a village (a probe in a village sends the village's code). It must be the publisher's "
            "registered area or a unit below it (else area_not_allowed); a code the table does not hold "
            "is unknown_area."
        )
    )
    seq: Annotated[int, Field(ge=0, le=2**63 - 1)] | None = Field(
        default=None, description="Optional per-publisher sequence number, for gap detection."
    )


class DossierEvent(EventEnvelope):
    """An administrative dossier changed state in the public-service portal."""

    dossier_id: DossierId = Field(description="The portal's dossier identifier.")
    procedure_code: ProcedureCode = Field(description="Code of the administrative procedure.")
    domain: DossierDomain
    status: DossierStatus
    channel: Channel = Field(description="How the dossier was submitted.")
    service_level: ServiceLevel
    e_certified: bool = Field(description="Whether the result was issued as an e-certified copy.")
    due_at: Rfc3339Time | None = Field(default=None, description="Legal deadline, RFC 3339 with offset.")
    paid_online: bool | None = Field(default=None, description="Whether fees were paid online.")


class PaymentTransaction(EventEnvelope):
    """A payment made to or through a public service."""

    sector: PaymentSector
    method: PaymentMethod
    amount_vnd: Annotated[int, Field(ge=1, le=10**12)] = Field(description="Amount in whole đồng.")
    outcome: PaymentOutcome


class CoverageSample(EventEnvelope):
    """One network quality measurement."""

    # Merged into the inherited config; tells schema readers what the validator enforces.
    model_config = ConfigDict(json_schema_extra={"dependentRequired": {"lat": ["lon"], "lon": ["lat"]}})

    operator: NetworkOperator
    technology: NetworkTechnology
    download_mbps: Rate
    upload_mbps: Rate
    latency_ms: Rate
    packet_loss_pct: Annotated[float, Field(ge=0, le=100)]
    rsrp_dbm: Annotated[float, Field(ge=-156, le=-31)] | None = Field(
        default=None, description="LTE/NR reference signal received power."
    )
    village: VillageName | None = Field(default=None, description="Village or hamlet name.")
    lat: Annotated[float, Field(ge=-90, le=90)] | None = Field(default=None, description="WGS 84 latitude.")
    lon: Annotated[float, Field(ge=-180, le=180)] | None = Field(default=None, description="WGS 84 longitude.")

    @model_validator(mode="after")
    def _point_is_complete(self) -> Self:
        # Half a coordinate cannot be placed on the map, so refuse it at the edge.
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon must be given together")
        return self


class PublisherStatus(ContractModel):
    """Liveness of a publisher, sent retained and as the MQTT last will; no envelope."""

    state: PublisherState
    at: Rfc3339Time = Field(description="When the state was set, RFC 3339 with offset.")
    dropped: Annotated[int, Field(ge=0, le=2**63 - 1)] | None = Field(
        default=None,
        description="Events the publisher's local store-and-forward queue discarded unsent because it was full,"
        " since the queue was created (the reference library sends it).",
    )


Event = DossierEvent | PaymentTransaction | CoverageSample | PublisherStatus

EVENT_MODELS: Final[Mapping[EventType, type[Event]]] = MappingProxyType(
    {
        EventType.DOSSIER: DossierEvent,
        EventType.TRANSACTION: PaymentTransaction,
        EventType.SAMPLE: CoverageSample,
        EventType.STATUS: PublisherStatus,
    }
)
