"""The KPI catalog: every indicator the engine computes, one module per source, checked once at import."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from streams.catalog import coverage, ops, payments, portal
from streams.catalog.kpi import EventRate, Gauge, KpiDefinition, KpiValue, Quantile, Ratio, Total, Tracked
from streams.measures import Measure

__all__ = [
    "CATALOG",
    "Catalog",
    "EventRate",
    "Gauge",
    "KpiDefinition",
    "KpiValue",
    "Quantile",
    "Ratio",
    "Total",
    "Tracked",
]


@dataclass(frozen=True)
class Catalog:
    kpis: tuple[KpiDefinition, ...]
    measures: dict[str, tuple[Measure, ...]]  # event type -> what its records contribute

    def __post_init__(self) -> None:
        names = [m.name for ms in self.measures.values() for m in ms]
        if len(names) != len(set(names)):
            raise ValueError("measure names must be unique across the catalog")
        ids = [k.id for k in self.kpis]
        if len(ids) != len(set(ids)):
            raise ValueError("KPI ids must be unique")
        for kpi in self.kpis:
            declared = {m.name for m in self.measures.get(kpi.event_type, ())}
            f = kpi.formula
            if isinstance(f, (Gauge, EventRate, Tracked)):
                continue
            needed = {f.numerator, f.denominator} if isinstance(f, Ratio) else {f.measure}
            if not needed <= declared:
                raise ValueError(f"{kpi.id} needs measures {sorted(needed - declared)} of {kpi.event_type!r} events")

    def by_id(self, kpi_id: str) -> KpiDefinition:
        return self._index[kpi_id]

    @cached_property
    def _index(self) -> dict[str, KpiDefinition]:
        return {k.id: k for k in self.kpis}

    @property
    def windowed(self) -> tuple[KpiDefinition, ...]:
        """The KPIs computed from one source's window tally."""
        return tuple(k for k in self.kpis if isinstance(k.formula, (Ratio, Total, Quantile)))

    @cached_property
    def event_rate(self) -> KpiDefinition:
        return next(k for k in self.kpis if isinstance(k.formula, EventRate))

    def for_event_type(self, event_type: str) -> tuple[KpiDefinition, ...]:
        """The windowed KPIs computed from this event type's tallies."""
        return self._windowed.get(event_type, ())

    @cached_property
    def _windowed(self) -> dict[str, tuple[KpiDefinition, ...]]:
        by_type: dict[str, tuple[KpiDefinition, ...]] = {}
        for k in self.kpis:
            if isinstance(k.formula, (Ratio, Total, Quantile)):
                by_type[k.event_type] = (*by_type.get(k.event_type, ()), k)
        return by_type


CATALOG = Catalog(
    kpis=portal.KPIS + payments.KPIS + coverage.KPIS + ops.KPIS,
    measures={
        portal.EVENT_TYPE: portal.MEASURES,
        payments.EVENT_TYPE: payments.MEASURES,
        coverage.EVENT_TYPE: coverage.MEASURES,
    },
)
