"""What the engine keeps about a set of events: additive measures that a slot adds to a window and takes away again.

Three kinds, each declared by a KPI module with a filter (`where`) on one record type:

- `Count` sums a weight (1 by default) over the records that pass;
- `DistinctCount` counts distinct keys (a dossier id), keeping how many records carry each key so
  that taking a slot away is exact;
- `Distribution` keeps a log-bucketed histogram of a value, for percentiles (see `quantiles`).

A record is turned into its `Contribution` once; the engine then adds that to one slot per slot
size and to every window and area it counts in.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from streams.quantiles import DEFAULT_BUCKETS, BucketCounts, LogBuckets, merge_counts

R = TypeVar("R")


def _always(_: object) -> bool:
    return True


def _one(_: object) -> int:
    return 1


@dataclass(frozen=True)
class Count(Generic[R]):
    name: str
    where: Callable[[R], bool] = _always
    weight: Callable[[R], int | float] = _one


@dataclass(frozen=True)
class DistinctCount(Generic[R]):
    name: str
    key: Callable[[R], Hashable]
    where: Callable[[R], bool] = _always


@dataclass(frozen=True)
class Distribution(Generic[R]):
    name: str
    value: Callable[[R], float]
    where: Callable[[R], bool] = _always
    buckets: LogBuckets = DEFAULT_BUCKETS


Measure = Count[Any] | DistinctCount[Any] | Distribution[Any]


@dataclass(frozen=True, slots=True)
class Contribution:
    occurred_us: int
    counts: tuple[tuple[str, int | float], ...]
    keys: tuple[tuple[str, Hashable], ...]
    buckets: tuple[tuple[str, int], ...]


def contribution_of(measures: tuple[Measure, ...], record: Any, occurred_us: int) -> Contribution:
    counts: list[tuple[str, int | float]] = []
    keys: list[tuple[str, Hashable]] = []
    buckets: list[tuple[str, int]] = []
    for m in measures:
        if not m.where(record):
            continue
        if isinstance(m, Count):
            counts.append((m.name, m.weight(record)))
        elif isinstance(m, DistinctCount):
            keys.append((m.name, m.key(record)))
        else:
            buckets.append((m.name, m.buckets.index(m.value(record))))
    return Contribution(occurred_us, tuple(counts), tuple(keys), tuple(buckets))


# What a tally that never counted a measure's values reads (never written to).
_NO_VALUES = BucketCounts()


class Tally:
    """The measures of one set of events (a slot, or a window of one area)."""

    __slots__ = ("counts", "distinct", "events", "histograms")

    def __init__(self) -> None:
        self.counts: dict[str, int | float] = {}
        self.distinct: dict[str, dict[Hashable, int]] = {}
        self.histograms: dict[str, BucketCounts] = {}
        self.events = 0

    def add(self, c: Contribution) -> None:
        self.events += 1
        counts = self.counts
        for name, amount in c.counts:
            counts[name] = counts.get(name, 0) + amount
        for name, key in c.keys:
            keys = self.distinct.setdefault(name, {})
            keys[key] = keys.get(key, 0) + 1
        for name, index in c.buckets:
            histogram = self.histograms.get(name)
            if histogram is None:
                histogram = self.histograms[name] = BucketCounts()
            histogram.add(index)

    def merge(self, other: Tally, sign: int) -> None:
        """Add (sign 1) or take away (sign -1) everything `other` counted."""
        self.events += sign * other.events
        for name, amount in other.counts.items():
            self.counts[name] = self.counts.get(name, 0) + sign * amount
        for name, keys in other.distinct.items():
            merge_counts(self.distinct.setdefault(name, {}), keys, sign)
        for name, histogram in other.histograms.items():
            mine = self.histograms.get(name)
            if mine is None:
                mine = self.histograms[name] = BucketCounts()
            mine.merge(histogram, sign)

    def amount(self, name: str) -> int | float:
        """A `Count`'s sum or a `DistinctCount`'s number of keys (measure names are unique)."""
        keys = self.distinct.get(name)
        return len(keys) if keys is not None else self.counts.get(name, 0)

    def histogram(self, name: str) -> BucketCounts:
        return self.histograms.get(name, _NO_VALUES)
