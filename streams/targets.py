"""Targets as data: loaded from YAML, checked against the catalog, and the one in force on a given day.

A KPI may have several dated targets (70 % by September, 90 % by December); the one in force is
the earliest whose deadline has not passed, else the latest one — a passed deadline keeps its
target until a new one is set.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictFloat, ValidationError

from streams.errors import Invalid

DEFAULT_TARGETS_FILE = Path(__file__).with_name("targets.yaml")


def _not_a_number(value: object) -> object:
    # Pydantic would also read `0` as a day counted from 1970: a deadline is written as a date.
    if isinstance(value, int | float):
        raise ValueError("a deadline is a date, such as 2025-12-31")
    return value


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    kpi: str
    value: StrictFloat  # strict: `true` is not a number
    direction: Literal["at_least", "at_most"]
    deadline: Annotated[date | None, BeforeValidator(_not_a_number)] = None
    source: str = Field(default="", description="Where the figure comes from.")

    def met_by(self, value: float) -> bool:
        return value >= self.value if self.direction == "at_least" else value <= self.value


class _TargetsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    targets: list[Target]


class InvalidTargets(Invalid):
    """A targets file that cannot be used; `field` is the file."""


class Targets:
    def __init__(self, targets: Iterable[Target]) -> None:
        self._by_kpi: dict[str, list[Target]] = {}
        for t in sorted(targets, key=lambda t: (t.deadline is None, t.deadline or date.max)):
            self._by_kpi.setdefault(t.kpi, []).append(t)

    @classmethod
    def load(cls, path: Path, known_kpis: Iterable[str]) -> Targets:
        try:
            parsed = _TargetsFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except (OSError, yaml.YAMLError, ValidationError) as exc:
            raise InvalidTargets(f"{path}: {exc}", field=str(path)) from exc
        unknown = sorted({t.kpi for t in parsed.targets} - set(known_kpis))
        if unknown:
            raise InvalidTargets(f"{path}: targets for KPIs that do not exist: {', '.join(unknown)}", field=str(path))
        return cls(parsed.targets)

    def in_force(self, kpi: str, today: date) -> Target | None:
        dated = self._by_kpi.get(kpi)
        if not dated:
            return None
        for target in dated:
            if target.deadline is None or target.deadline >= today:
                return target
        return dated[-1]

    def all(self) -> list[Target]:
        return [t for ts in self._by_kpi.values() for t in ts]
