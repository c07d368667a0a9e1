"""What the KPI routes answer with."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from streams.frames import KpiFrame
from streams.targets import Target


class TargetOut(BaseModel):
    value: float
    direction: str
    deadline: date | None
    source: str

    @classmethod
    def of(cls, t: Target) -> TargetOut:
        return cls(value=t.value, direction=t.direction, deadline=t.deadline, source=t.source)


class CatalogEntry(BaseModel):
    id: str = Field(examples=["portal.e_cert_rate"])
    label_vi: str
    label_en: str
    unit: str
    definition: str
    windows: list[str]
    target_in_force: TargetOut | None
    targets: list[TargetOut]


class Frame(BaseModel):
    kpi: str
    area: str
    window: str
    value: float | None
    numerator: float | None
    denominator: float | None
    unit: str
    target: float | None
    last_event_at: str | None
    as_of: str
    seq: int

    @classmethod
    def of(cls, f: KpiFrame) -> Frame:
        return cls(
            kpi=f.kpi, area=f.area, window=f.window, value=f.value, numerator=f.numerator,
            denominator=f.denominator, unit=f.unit, target=f.target, last_event_at=f.last_event_at,
            as_of=f.as_of, seq=f.seq,
        )  # fmt: skip


class CurrentValues(BaseModel):
    epoch: str | None = Field(description="The engine's epoch; a new one means values were republished.")
    at: str
    values: list[Frame]


class HistoryPoint(BaseModel):
    at: datetime = Field(description="Start of the bucket; the values are the last snapshot in it.")
    value: float | None
    numerator: float | None
    denominator: float | None
    target: float | None


class KpiHistory(BaseModel):
    kpi: str
    area: str
    window: str
    bucket: str
    points: list[HistoryPoint]
