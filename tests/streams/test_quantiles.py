"""The percentile histogram: its error bound, exact merges and bounded size (pure logic)."""

from __future__ import annotations

import math
import random

import pytest

from streams.quantiles import ZERO_BUCKET, LogBuckets, LogHistogram


def _exact(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(q * len(ordered)) - 1]  # nearest rank, as percentile_disc


@pytest.mark.parametrize("q", [0.01, 0.5, 0.95, 0.99, 1.0])
def test_estimate_is_within_the_relative_accuracy(q: float) -> None:
    rng = random.Random(7)
    values = [rng.lognormvariate(3, 1.2) for _ in range(20_000)]  # latency-like, ms
    histogram = LogHistogram(LogBuckets(relative_accuracy=0.01))
    for v in values:
        histogram.add(v)
    estimate = histogram.quantile(q)
    assert estimate is not None
    assert abs(estimate - _exact(values, q)) <= 0.01 * _exact(values, q)


def test_merging_two_windows_equals_counting_their_union() -> None:
    rng = random.Random(3)
    first, second = [rng.uniform(0, 200) for _ in range(500)], [rng.uniform(50, 900) for _ in range(700)]
    a, b, union = LogHistogram(), LogHistogram(), LogHistogram()
    for v in first:
        a.add(v)
        union.add(v)
    for v in second:
        b.add(v)
        union.add(v)
    a.merge(b)
    assert list(a.counts.items()) == list(union.counts.items())
    assert a.quantile(0.95) == union.quantile(0.95)
    a.merge(b, sign=-1)  # the second window leaves: exactly the first one remains
    alone = LogHistogram()
    for v in first:
        alone.add(v)
    assert list(a.counts.items()) == list(alone.counts.items())
    assert a.count == 500


def test_size_is_bounded_by_the_value_range_not_the_sample_count() -> None:
    histogram = LogHistogram(LogBuckets(relative_accuracy=0.01))
    rng = random.Random(1)
    for _ in range(200_000):
        histogram.add(10 ** rng.uniform(-2, 6))
    assert histogram.count == 200_000
    assert len(list(histogram.counts.items())) <= math.ceil(math.log(1e8) / math.log(1.01 / 0.99)) + 1


def test_values_beyond_the_top_count_in_its_bucket() -> None:
    histogram = LogHistogram()
    for value in (5.0, 2e6, 1e300):
        histogram.add(value)
    assert [n for _, n in histogram.counts.items()] == [1, 2]  # 5, then the two above 10⁶ together
    assert histogram.quantile(1.0) == pytest.approx(1e6, rel=0.01)
    assert histogram.quantile(0.3) == pytest.approx(5.0, rel=0.01)


def test_zeros_empty_and_bad_input() -> None:
    histogram = LogHistogram()
    assert histogram.quantile(0.5) is None
    histogram.add(0.0, times=3)
    histogram.add(40.0)
    assert histogram.counts.zeros == 3
    assert next(histogram.counts.items()) == (ZERO_BUCKET, 3)
    assert histogram.quantile(0.5) == 0.0
    assert histogram.quantile(1.0) == pytest.approx(40.0, rel=0.01)
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="finite non-negative"):
            histogram.add(bad)
    with pytest.raises(ValueError, match="same bucket mapping"):
        histogram.merge(LogHistogram(LogBuckets(relative_accuracy=0.02)))


def test_every_rank_finds_the_bucket_that_holds_it() -> None:
    rng = random.Random(5)
    histogram, taken = LogHistogram(), LogHistogram()
    for _ in range(300):
        value = rng.choice((0.0, rng.uniform(0.1, 10), rng.uniform(500, 900)))
        histogram.add(value)
        if rng.random() < 0.3:
            taken.add(value)
    histogram.merge(taken, sign=-1)  # leaves empty buckets inside the range
    ordered = [index for index, n in histogram.counts.items() for _ in range(n)]
    assert [histogram.counts.index_at_rank(rank) for rank in range(1, len(ordered) + 1)] == ordered
    with pytest.raises(ValueError, match="beyond"):
        histogram.counts.index_at_rank(len(ordered) + 1)
