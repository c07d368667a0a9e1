"""The status board's answer: each item ok, warning or problem, with a one-line reason in English and the
figures the console words it from in its own language."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Level = Literal["ok", "warning", "problem"]
ItemName = Literal[
    "silent_publishers", "publishers_with_gaps", "dead_letter_burst", "engine", "engine_rebuild", "ingest",
    "websocket_clients", "broker", "notifications",
]  # fmt: skip


class StatusItem(BaseModel):
    name: ItemName
    level: Level
    reason: str = Field(description="one line, in English")
    value: float | None = Field(default=None, description="the item's figure (a count, or seconds)")
    subjects: list[str] = Field(default_factory=list, description="the publishers it is about, if any")


class PublisherProblem(BaseModel):
    id: str
    area_code: str
    silent: bool
    last_seen_at: datetime | None
    missing: int = Field(description="seq numbers missing in the last hour")
    open_dead_letters: int = Field(description="its dead letters of the last hour still open")


class SystemStatus(BaseModel):
    at: datetime
    level: Level = Field(description="the worst of the items")
    items: list[StatusItem]
    publishers: list[PublisherProblem] = Field(
        description="the enabled publishers with a problem (silent, seq gaps, open dead letters), worst first"
    )
