"""The publishers routes' bodies and answers (docs/api.md#publishers-states-maintenance-and-mutes)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.http.filters import AREA_CODE, Rfc3339
from ingest.registry.connection_kit import ConnectionKit
from runtime.operator_input import MAX_REASON_CHARS

PublisherStateName = Literal["onboarding", "active", "maintenance", "disabled"]


class MaintenanceOut(BaseModel):
    until: datetime
    reason: str
    by: str
    set_at: datetime


class PublisherOut(BaseModel):
    id: str
    source: str
    area_code: str
    description: str
    created_at: datetime
    disabled_at: datetime | None
    state: PublisherStateName = Field(
        description="disabled; else maintenance while `maintenance.until` is ahead; else onboarding until its first"
        " stored message; else active."
    )
    first_message_at: datetime | None = Field(description="Its first stored event or status, as ingest recorded it.")
    onboarding_until: datetime | None = Field(
        description="While onboarding: registered + IOC_STREAMS_ONBOARDING_GRACE_SECONDS; past it, a silent"
        " publisher raises the silent-publisher alert."
    )
    maintenance: MaintenanceOut | None = Field(description="The maintenance in force, if any.")
    silent_after_seconds: float = Field(description="How long it may stay quiet before it is silent.")
    silent_after_default: bool = Field(description="True when that is IOC_STREAMS_SILENT_AFTER_SECONDS.")
    silent: bool = Field(description="Nothing heard from it for `silent_after_seconds` (never for a disabled one).")
    status: Literal["silent", "online", "offline"] | None = Field(
        description="`silent` when silent, else its latest status (last will), if any: a silent publisher is never"
        " shown online."
    )
    last_status: Literal["online", "offline"] | None = Field(description="Its latest status, whatever the silence.")
    status_at: datetime | None
    last_message_at: datetime | None = Field(
        description="Arrival of its latest stored event or status, as ingest records it (to within 15 s)."
    )
    last_seen_at: datetime | None = Field(
        description="The newest of `last_message_at`, its latest status and its latest stored event's arrival"
        " (over the last hour)."
    )
    completeness: float | None = Field(
        description="Of its events of the last hour (event time) with a `seq`: stored ÷ (max seq − min seq + 1),"
        " in %, as ops.completeness counts it; null without such events."
    )
    retained_cleared: int = Field(
        description="Retained event messages the broker kept for it, deleted by the ingest's sweeper"
        " (only status messages may be retained)."
    )
    retained_cleared_at: datetime | None = Field(description="When the last of them was deleted.")


class NewPublisherIn(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    source: Literal["portal", "payments", "coverage"]
    area_code: str = Field(pattern=AREA_CODE)
    description: str = Field(default="", max_length=500)


class NewPublisherOut(BaseModel):
    publisher: PublisherOut
    mqtt_username: str
    mqtt_password: str = Field(
        description="Shown once: the broker keeps only its hash. The account may publish under"
        " `ioc/v1/<source>/<id>/` only and subscribe to its feedback topic only."
    )
    kit: ConnectionKit = Field(
        description="Everything needed to connect: broker URLs, TLS CA, credentials, topics, an example payload"
        " per event type, the status message and last will, and a ready-to-run `mosquitto_pub -V mqttv5` line"
        " (docs/integrators.md)."
    )


class GapOut(BaseModel):
    first: int
    last: int
    missing: int


class MaintenanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    until: Rfc3339 = Field(description="RFC 3339 with an offset, in the future, within 366 days.")
    # The length is checked with the other rules (runtime.operator_input), for one clear message.
    reason: str = Field(description=f"Why: one line, 1 to {MAX_REASON_CHARS} characters, no control characters.")


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", description=f"Why (optional): one line of at most {MAX_REASON_CHARS} characters.")


class SilentAfterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: int | None = Field(description="1 to 2,678,400 (31 days); null: IOC_STREAMS_SILENT_AFTER_SECONDS.")


class ActionOut(BaseModel):
    at: datetime
    actor: str
    action: str
    detail: str
