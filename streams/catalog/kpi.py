"""A KPI as data: identity and labels for the catalog, the measures it needs, how its value follows from them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from streams.measures import Tally
from streams.quantiles import DEFAULT_BUCKETS, LogBuckets


@dataclass(frozen=True, slots=True)
class KpiValue:
    value: float | None  # None: nothing to compute it from in this window (e.g. no dossiers)
    numerator: float | None = None
    denominator: float | None = None


@dataclass(frozen=True)
class Ratio:
    """numerator ÷ denominator, in % by default; measures are distinct counts or sums."""

    numerator: str
    denominator: str
    scale: float = 100.0

    def evaluate(self, tally: Tally) -> KpiValue:
        num, den = tally.amount(self.numerator), tally.amount(self.denominator)
        return KpiValue(None if den == 0 else self.scale * num / den, num, den)


@dataclass(frozen=True)
class Total:
    measure: str

    def evaluate(self, tally: Tally) -> KpiValue:
        return KpiValue(tally.amount(self.measure))


@dataclass(frozen=True)
class Quantile:
    measure: str
    q: float
    buckets: LogBuckets = DEFAULT_BUCKETS  # the same mapping as the measure's `Distribution`

    def evaluate(self, tally: Tally) -> KpiValue:
        histogram = tally.histogram(self.measure)
        return KpiValue(self.buckets.quantile(histogram, self.q), None, histogram.total)


@dataclass(frozen=True)
class Gauge:
    """A value at `now` rather than over a window, kept by its own structure; published as window `now`."""

    def evaluate(self, tally: Tally) -> KpiValue:
        raise TypeError("a gauge is not computed from a window tally")


@dataclass(frozen=True)
class EventRate:
    """Events of every source per second of the window: numerator events, denominator the window's
    length in seconds (computed across the sources' tallies by the frame builder)."""

    def evaluate(self, tally: Tally) -> KpiValue:
        raise TypeError("an event rate is computed across the sources' tallies")


@dataclass(frozen=True)
class Tracked:
    """A value per window kept by a structure of its own (completeness, dead letters), not a tally."""

    def evaluate(self, tally: Tally) -> KpiValue:
        raise TypeError("a tracked KPI is not computed from a window tally")


Formula = Ratio | Total | Quantile | Gauge | EventRate | Tracked


@dataclass(frozen=True)
class KpiDefinition:
    id: str
    event_type: str  # which stored events it is computed from
    label_vi: str
    label_en: str
    unit: str
    definition: str  # what it means, in words an operator and an integrator both read the same way
    formula: Formula
    # The same definition over the hypertables, for the catalog and the equivalence tests: one row
    # (value, numerator, denominator) for parameters start, end (event time) and areas (codes);
    # a gauge's takes now and horizon instead of start and end.
    sql: str
    sql_params: Mapping[str, object] = field(default_factory=dict)

    def evaluate(self, tally: Tally | None) -> KpiValue:
        return self.formula.evaluate(tally if tally is not None else _EMPTY)


_EMPTY = Tally()
