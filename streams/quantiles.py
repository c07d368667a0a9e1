"""Percentiles with bounded memory and a known error: a log-bucketed histogram (the DDSketch mapping).

A value v > 0 falls in bucket ceil(log(v) / log(γ)) with γ = (1 + α) / (1 − α); every bucket's
midpoint is within α (relative) of every value in it, so the estimate of any rank is within α of
the exact value of that rank — the nearest-rank percentile, which is SQL's `percentile_disc`.
With α = 1 % and values from 0.01 to 10⁶ (ms or Mbit/s) a histogram holds at most ~1,300 buckets,
however many samples it counts; histograms of two windows merge by adding counts, exactly.

Values at or below `min_value` (zero included) share one bucket and are reported as 0.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

DEFAULT_RELATIVE_ACCURACY = 0.01


@dataclass
class LogHistogram:
    relative_accuracy: float = DEFAULT_RELATIVE_ACCURACY
    min_value: float = 1e-3
    counts: Counter[int] = field(default_factory=Counter)
    zeros: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.relative_accuracy < 1:
            raise ValueError("relative_accuracy must be between 0 and 1")
        self._gamma = (1 + self.relative_accuracy) / (1 - self.relative_accuracy)
        self._log_gamma = math.log(self._gamma)

    @property
    def count(self) -> int:
        return self.zeros + sum(self.counts.values())

    def add(self, value: float, times: int = 1) -> None:
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"only finite non-negative values are counted, not {value!r}")
        if value <= self.min_value:
            self.zeros += times
        else:
            self.counts[math.ceil(math.log(value) / self._log_gamma)] += times

    def merge(self, other: LogHistogram) -> None:
        if (other.relative_accuracy, other.min_value) != (self.relative_accuracy, self.min_value):
            raise ValueError("only histograms with the same accuracy and minimum merge")
        self.counts.update(other.counts)
        self.zeros += other.zeros

    def quantile(self, q: float) -> float | None:
        """The nearest-rank q-quantile (0 < q ≤ 1) within `relative_accuracy`; None when empty."""
        if not 0 < q <= 1:
            raise ValueError("q must be in (0, 1]")
        total = self.count
        if total == 0:
            return None
        rank = math.ceil(q * total)  # nearest rank, 1-based, as percentile_disc
        if rank <= self.zeros:
            return 0.0
        seen = self.zeros
        for index in sorted(self.counts):
            seen += self.counts[index]
            if seen >= rank:
                # The bucket (γ^(i-1), γ^i] is represented by the value equally far, relatively, from both ends.
                return 2 * self._gamma**index / (self._gamma + 1)
        raise AssertionError("unreachable: ranks are within the count")
