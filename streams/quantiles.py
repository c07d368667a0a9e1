"""Percentiles with bounded memory and a known error: a log-bucketed histogram (the DDSketch mapping).

A value v > 0 falls in bucket ceil(log(v) / log(γ)) with γ = (1 + α) / (1 − α); every bucket's
midpoint is within α (relative) of every value in it, so the estimate of any rank is within α of
the exact value of that rank — the nearest-rank percentile, which is SQL's `percentile_disc`.
With α = 1 % and values from 10⁻³ to 10⁶ (ms or Mbit/s; larger ones count as 10⁶) a histogram
holds at most ~1,040 buckets, however many samples it counts. A histogram is just counts per
bucket index, so the histograms of two slots merge by adding counts and a slot leaves a window by
subtracting them, both exactly.

Values at or below `min_value` (zero included) share the bucket `ZERO_BUCKET`, reported as 0.

The counts live in `BucketCounts`, one flat array from the lowest bucket counted to the highest:
the engine keeps a histogram per area and slot (60 minute slots and 144 ten-minute slots), and a
busy area's slot fills a few hundred buckets in each of its two: about 14 KiB as dicts (a hash
table and an int object per bucket), about 4 KiB as arrays.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import accumulate, repeat
from typing import TypeVar

DEFAULT_RELATIVE_ACCURACY = 0.01
ZERO_BUCKET = -(2**31)
K = TypeVar("K", bound=Hashable)


class LogBuckets:
    """The value ↔ bucket-index mapping, shared by every histogram of the same accuracy."""

    def __init__(
        self, relative_accuracy: float = DEFAULT_RELATIVE_ACCURACY, min_value: float = 1e-3, max_value: float = 1e6
    ) -> None:
        if not 0 < relative_accuracy < 1:
            raise ValueError("relative_accuracy must be between 0 and 1")
        self.relative_accuracy = relative_accuracy
        self.min_value = min_value
        self._gamma = (1 + relative_accuracy) / (1 - relative_accuracy)
        self._log_gamma = math.log(self._gamma)
        # Values above `max_value` count in its bucket: one absurd sample (the contract bounds
        # neither Mbit/s nor ms) must not stretch every histogram it lands in to thousands of buckets.
        self._top = math.ceil(math.log(max_value) / self._log_gamma)

    def index(self, value: float) -> int:
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"only finite non-negative values are counted, not {value!r}")
        if value <= self.min_value:
            return ZERO_BUCKET
        return min(math.ceil(math.log(value) / self._log_gamma), self._top)

    def quantile(self, counts: BucketCounts, q: float) -> float | None:
        """The nearest-rank q-quantile (0 < q ≤ 1) within `relative_accuracy`; None when empty."""
        if not 0 < q <= 1:
            raise ValueError("q must be in (0, 1]")
        if counts.total == 0:
            return None
        index = counts.index_at_rank(math.ceil(q * counts.total))  # nearest rank, 1-based, as percentile_disc
        if index == ZERO_BUCKET:
            return 0.0
        # The bucket (γ^(i-1), γ^i] is represented by the value equally far, relatively, from both ends.
        return 2 * self._gamma**index / (self._gamma + 1)


class BucketCounts:
    """How many values fell in each bucket: a flat array of counts from `low` up, the zero bucket apart
    (its index is far below every other). Merging and taking away are exact; the range only widens."""

    __slots__ = ("_counts", "_low", "total", "zeros")

    def __init__(self) -> None:
        self._counts = array("q")
        self._low = 0
        self.zeros = 0
        self.total = 0

    def add(self, index: int, n: int = 1) -> None:
        self.total += n
        if index == ZERO_BUCKET:
            self.zeros += n
            return
        offset = index - self._low
        if not 0 <= offset < len(self._counts):
            self._cover(index, index)
            offset = index - self._low
        self._counts[offset] += n

    def merge(self, other: BucketCounts, sign: int = 1) -> None:
        """Add (sign 1) or take away (sign -1) another's counts (taken away only after being added)."""
        self.total += sign * other.total
        self.zeros += sign * other.zeros
        theirs = other._counts
        if not theirs:
            return
        self._cover(other._low, other._low + len(theirs) - 1)
        mine, start = self._counts, other._low - self._low
        for offset, n in enumerate(theirs):
            if n:
                mine[start + offset] += sign * n

    def items(self) -> Iterator[tuple[int, int]]:
        """(bucket index, count) of the buckets counted, in increasing order of value."""
        if self.zeros:
            yield ZERO_BUCKET, self.zeros
        for offset, n in enumerate(self._counts):
            if n:
                yield self._low + offset, n

    def index_at_rank(self, rank: int) -> int:
        """The bucket holding the rank-th smallest value (1-based, at most `total`)."""
        if self.zeros >= rank:
            return ZERO_BUCKET
        if rank > self.total:
            raise ValueError(f"rank {rank} beyond the {self.total} values counted")
        # Cumulative counts in C, then a binary search: a loop in Python over a few hundred buckets
        # was the engine's single most expensive call per frame.
        return self._low + bisect_left(list(accumulate(self._counts)), rank - self.zeros)

    def _cover(self, low: int, high: int) -> None:
        """Widen the array to hold buckets `low` to `high`."""
        counts = self._counts
        if not counts:
            self._low = low
            counts.extend(repeat(0, high - low + 1))
            return
        if low < self._low:
            self._counts = array("q", repeat(0, self._low - low)) + counts
            self._low = low
        missing = high - self._low + 1 - len(self._counts)
        if missing > 0:
            self._counts.extend(repeat(0, missing))


DEFAULT_BUCKETS = LogBuckets()


@dataclass
class LogHistogram:
    buckets: LogBuckets = DEFAULT_BUCKETS
    counts: BucketCounts = field(default_factory=BucketCounts)

    @property
    def count(self) -> int:
        return self.counts.total

    def add(self, value: float, times: int = 1) -> None:
        self.counts.add(self.buckets.index(value), times)

    def merge(self, other: LogHistogram, sign: int = 1) -> None:
        """Add (sign 1) or take away (sign -1) another histogram's counts."""
        if other.buckets is not self.buckets:
            raise ValueError("only histograms with the same bucket mapping merge")
        self.counts.merge(other.counts, sign)

    def quantile(self, q: float) -> float | None:
        return self.buckets.quantile(self.counts, q)


def merge_counts(into: dict[K, int], other: Mapping[K, int], sign: int) -> None:
    for index, n in other.items():
        left = into.get(index, 0) + sign * n
        if left:
            into[index] = left
        else:
            del into[index]
