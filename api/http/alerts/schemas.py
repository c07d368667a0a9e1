"""What the alert and incident routes answer with (and take: an acknowledgement's comment)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AlertState = Literal["open", "acknowledged", "resolved"]


class Texts(BaseModel):
    """One text in each language of the wall and the console."""

    vi: str
    en: str


class AreaOut(BaseModel):
    code: str
    level: str
    name_vi: str
    name_en: str
    full_vi: str = Field(description="the name with its unit type, as people say it: `Tổ dân phố 4`")


class AlertOut(BaseModel):
    id: int
    rule_id: str
    kpi: str
    kpi_label: Texts
    area_code: str
    area: AreaOut | None = Field(description="null for an area no longer in the registry")
    area_path: list[AreaOut] = Field(description="from the province down to the alert's area")
    window: str
    severity: str
    state: AlertState
    message: str = Field(description="the engine's own one-line text (English, codes): kept for scripts")
    messages: Texts = Field(description="the alert's text for people, rendered from streams/alerts/messages.yaml")
    value: float | None
    threshold: float | None = Field(description="the rule's limit, the target in force, or a silence in seconds")
    unit: str
    since: datetime = Field(description="the condition held since (before the rule's for-duration)")
    publisher_id: str | None = Field(description="the publisher that is the cause, when it is exactly one")
    publishers: list[str] = Field(description="the publishers that are the cause, when known")
    opened_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    ack_comment: str | None
    resolved_at: datetime | None
    incident_id: int | None
    muted_by: int | None = Field(description="The mute that covers it (`/api/v1/alert-mutes`), if any.")
    muted: bool = Field(description="Covered by a mute: recorded, but needs no action and is not notified.")


class HistoryEntry(BaseModel):
    at: datetime
    state: AlertState
    actor: str
    detail: str


class IncidentChange(BaseModel):
    at: datetime
    change: Literal["opened", "joined", "left", "merged", "acknowledged", "escalated", "resolved"]
    actor: str
    detail: str


class IncidentOut(BaseModel):
    id: int
    rule_id: str
    kpi: str
    kpi_label: Texts
    area_code: str = Field(description="the highest area of the subtree that has its alerts open")
    area: AreaOut | None
    area_path: list[AreaOut]
    severity: str
    state: AlertState
    messages: Texts = Field(description="the text of its alert in its own area (or of its first open one)")
    summary: Texts = Field(description="what it covers: `8 cảnh báo: 1 xã, 7 thôn` / `8 alerts: 1 commune, 7 villages`")
    members: int = Field(description="alerts it holds, resolved or not")
    open_members: int = Field(description="its alerts not resolved")
    opened_at: datetime
    changed_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    ack_comment: str | None
    resolved_at: datetime | None
    escalate_after: datetime | None = Field(description="when it is due for notification again if still open")
    escalated_at: datetime | None
    escalations: int
    muted: bool = Field(description="every alert of it not resolved is covered by a mute: no action, not notified")


class IncidentDetailOut(IncidentOut):
    alerts: list[AlertOut] = Field(description="its members, oldest first")
    history: list[IncidentChange]


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str | None = Field(default=None, max_length=1000, description="why, or what is being done")
