"""Percentiles with bounded memory and a known error: a log-bucketed histogram (the DDSketch mapping).

A value v > 0 falls in bucket ceil(log(v) / log(γ)) with γ = (1 + α) / (1 − α); every bucket's
midpoint is within α (relative) of every value in it, so the estimate of any rank is within α of
the exact value of that rank — the nearest-rank percentile, which is SQL's `percentile_disc`.
With α = 1 % and values from 0.01 to 10⁶ (ms or Mbit/s) a histogram holds at most ~1,300 buckets,
however many samples it counts. A histogram is just counts per bucket index, so the histograms of
two slots merge by adding counts and a slot leaves a window by subtracting them, both exactly.

Values at or below `min_value` (zero included) share the bucket `ZERO_BUCKET`, reported as 0.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

DEFAULT_RELATIVE_ACCURACY = 0.01
ZERO_BUCKET = -(2**31)
K = TypeVar("K", bound=Hashable)


class LogBuckets:
    """The value ↔ bucket-index mapping, shared by every histogram of the same accuracy."""

    def __init__(self, relative_accuracy: float = DEFAULT_RELATIVE_ACCURACY, min_value: float = 1e-3) -> None:
        if not 0 < relative_accuracy < 1:
            raise ValueError("relative_accuracy must be between 0 and 1")
        self.relative_accuracy = relative_accuracy
        self.min_value = min_value
        self._gamma = (1 + relative_accuracy) / (1 - relative_accuracy)
        self._log_gamma = math.log(self._gamma)

    def index(self, value: float) -> int:
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"only finite non-negative values are counted, not {value!r}")
        if value <= self.min_value:
            return ZERO_BUCKET
        return math.ceil(math.log(value) / self._log_gamma)

    def quantile(self, counts: Mapping[int, int], q: float, ordered: list[int] | None = None) -> float | None:
        """The nearest-rank q-quantile (0 < q ≤ 1) within `relative_accuracy`; None when empty.

        `ordered`, when given, is `sorted(counts)` kept by the caller (it changes rarely)."""
        if not 0 < q <= 1:
            raise ValueError("q must be in (0, 1]")
        total = sum(counts.values())
        if total == 0:
            return None
        rank = math.ceil(q * total)  # nearest rank, 1-based, as percentile_disc
        seen = 0
        for index in ordered if ordered is not None else sorted(counts):
            seen += counts[index]
            if seen >= rank:
                if index == ZERO_BUCKET:
                    return 0.0
                # The bucket (γ^(i-1), γ^i] is represented by the value equally far, relatively, from both ends.
                return 2 * self._gamma**index / (self._gamma + 1)
        raise AssertionError("unreachable: ranks are within the count")


DEFAULT_BUCKETS = LogBuckets()


@dataclass
class LogHistogram:
    buckets: LogBuckets = DEFAULT_BUCKETS
    counts: dict[int, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(self.counts.values())

    def add(self, value: float, times: int = 1) -> None:
        index = self.buckets.index(value)
        self.counts[index] = self.counts.get(index, 0) + times

    def merge(self, other: LogHistogram, sign: int = 1) -> None:
        """Add (sign 1) or take away (sign -1) another histogram's counts; empty buckets are dropped."""
        if other.buckets is not self.buckets:
            raise ValueError("only histograms with the same bucket mapping merge")
        merge_counts(self.counts, other.counts, sign)

    def quantile(self, q: float) -> float | None:
        return self.buckets.quantile(self.counts, q)


def merge_counts(into: dict[K, int], other: Mapping[K, int], sign: int) -> None:
    for index, n in other.items():
        left = into.get(index, 0) + sign * n
        if left:
            into[index] = left
        else:
            del into[index]
