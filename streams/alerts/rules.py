"""Alert rules as data (YAML), checked against the catalog when loaded.

A rule watches one KPI in one window over a scope of areas (levels and/or codes; all areas when
empty) and fires when its condition has held for `for_seconds`:

- `below` / `above`: the value crosses a threshold;
- `below_target`: the value misses the target in force (the direction the target names);
- `stale_after_seconds`: no event has counted for that long (the frame's `last_event_at`).

`min_denominator` keeps a ratio over a handful of events from raising an alert.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, ValidationError, model_validator

from streams.errors import Invalid
from streams.frames import KpiFrame
from streams.hierarchy import AreaHierarchy

DEFAULT_RULES_FILE = Path(__file__).with_name("rules.yaml")
Severity = Literal["info", "warning", "major", "critical"]


class AlertRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    kpi: str
    window: Literal["5m", "1h", "24h", "today", "now"]
    levels: tuple[Literal["province", "district", "commune", "village"], ...] = ()
    areas: tuple[str, ...] = ()
    # Strict: `true` is not a number, nor `1` a boolean (an edited rule means what it says).
    below: StrictFloat | None = None
    above: StrictFloat | None = None
    below_target: StrictBool = False
    stale_after_seconds: StrictFloat | None = Field(default=None, gt=0)
    min_denominator: StrictFloat = 0
    for_seconds: StrictFloat = Field(default=0, ge=0)
    severity: Severity = "warning"
    description: str = ""

    @model_validator(mode="after")
    def _one_condition(self) -> AlertRule:
        conditions = [self.below is not None, self.above is not None, self.below_target, self.stale_after_seconds]
        if sum(bool(c) for c in conditions) != 1:
            raise ValueError("a rule has exactly one of below, above, below_target, stale_after_seconds")
        return self

    def covers(self, area: str, hierarchy: AreaHierarchy) -> bool:
        in_levels = not self.levels or hierarchy.levels.get(area) in self.levels
        in_areas = not self.areas or area in self.areas
        return in_levels and in_areas

    def value_condition(self, frame: KpiFrame) -> bool | None:
        """Whether the frame's value breaks the rule; None when there is nothing to judge (no value,
        too few events, no target, or a staleness rule, which the clock decides)."""
        if frame.value is None or (frame.denominator is not None and frame.denominator < self.min_denominator):
            return None
        if self.below is not None:
            return frame.value < self.below
        if self.above is not None:
            return frame.value > self.above
        if self.below_target:
            return None if frame.target is None else frame.value < frame.target
        return None

    @property
    def condition(self) -> Literal["below", "above", "below_target", "stale"]:
        if self.below is not None:
            return "below"
        if self.above is not None:
            return "above"
        return "below_target" if self.below_target else "stale"

    def threshold(self, frame: KpiFrame) -> float | None:
        """The limit the frame is judged against: the rule's, the target in force, or the silence in seconds."""
        if self.stale_after_seconds is not None:
            return self.stale_after_seconds
        return self.below if self.below is not None else self.above if self.above is not None else frame.target

    def describe(self, frame: KpiFrame) -> str:
        if self.stale_after_seconds is not None:
            return f"{frame.kpi} in {frame.area}: no event for {self.stale_after_seconds:.0f} s"
        limit = self.threshold(frame)
        word = "above" if self.above is not None else "below"
        return f"{frame.kpi} ({frame.window}) in {frame.area} is {frame.value:g}, {word} {limit:g}"


class _RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: list[AlertRule]


class InvalidRules(Invalid):
    """A rules file that cannot be used; `field` is the file."""


def load_rules(path: Path, known_kpis: Iterable[str]) -> list[AlertRule]:
    try:
        rules = _RulesFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))).rules
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise InvalidRules(f"{path}: {exc}", field=str(path)) from exc
    unknown = sorted({r.kpi for r in rules} - set(known_kpis))
    if unknown:
        raise InvalidRules(f"{path}: rules for KPIs that do not exist: {', '.join(unknown)}", field=str(path))
    ids = [r.id for r in rules]
    if len(ids) != len(set(ids)):
        raise InvalidRules(f"{path}: rule ids must be unique", field=str(path))
    return rules
