"""Completeness from `seq` per registered area and window, against a recount while time passes (pure logic)."""

from __future__ import annotations

import random

import pytest

from streams.catalog import KpiValue
from streams.completeness import Completeness
from streams.hierarchy import AreaHierarchy
from streams.records import MICROS, PaymentRecord, Record
from streams.windows import MINUTE_US, WINDOWS, WINDOWS_BY_NAME
from tests.streams.kpi_data import NOW_US, PARENTS, generated_records

HIERARCHY = AreaHierarchy.from_parents(PARENTS.items())
REGISTERED = {"pub-0": "24615-01", "pub-1": "24611", "pub-2": "24667-03", "pub-3": "663"}


def recount(records: list[Record], area: str, window: str, now_us: int) -> KpiValue:
    start, end = WINDOWS_BY_NAME[window].bounds(now_us)
    seqs: dict[str, list[int]] = {}
    for r in records:
        registered = REGISTERED.get(r.publisher_id)
        if registered is None or area not in HIERARCHY.counted_in(registered):
            continue
        seq = getattr(r, "seq", None)
        if seq is not None and start <= r.occurred_us < end:  # type: ignore[union-attr]
            seqs.setdefault(r.publisher_id, []).append(seq)
    received = sum(len(s) for s in seqs.values())
    expected = sum(max(s) - min(s) + 1 for s in seqs.values())
    return KpiValue(None if expected == 0 else 100.0 * received / expected, received, expected)


@pytest.mark.parametrize("seed", [1, 2])
def test_completeness_equals_a_recount_while_events_arrive_late_and_time_passes(seed: int) -> None:
    rng = random.Random(seed)
    records = [r for r in generated_records(rng, 2_000) if rng.random() < 0.9]  # a tenth lost: gaps in seq
    rng.shuffle(records)
    completeness = Completeness(HIERARCHY)
    completeness.set_publishers(REGISTERED)
    now = NOW_US - 3 * MINUTE_US
    completeness.advance(now)
    seen: list[Record] = []
    for start in range(0, len(records), 300):
        chunk = records[start : start + 300]
        completeness.apply(chunk)
        seen.extend(chunk)
        now += rng.randrange(1, 120) * MICROS
        completeness.advance(now)
        for area in PARENTS:
            for window in WINDOWS:
                assert completeness.value(area, window.name) == recount(seen, area, window.name, now), (area, window)
    completeness.advance(now + 14 * 60 * MINUTE_US)
    for area in PARENTS:
        for window in WINDOWS:
            assert completeness.value(area, window.name) == recount(seen, area, window.name, now + 14 * 60 * MINUTE_US)


def test_a_gap_shows_and_only_changed_areas_are_dirty() -> None:
    completeness = Completeness(HIERARCHY)
    completeness.set_publishers({"counter-1": "24611", "counter-2": "24667"})
    completeness.advance(NOW_US)
    completeness.dirty.clear()
    pay = [PaymentRecord("counter-1", "24611", NOW_US - s * MICROS, seq, "water", "qr", 1000, "succeeded")
           for s, seq in ((30, 1), (20, 2), (10, 5))]  # fmt: skip
    completeness.apply(pay)
    assert completeness.value("24611", "5m") == KpiValue(60.0, 3, 5)  # seq 3 and 4 missing
    assert completeness.value("663", "5m") == KpiValue(None, 0, 0)
    assert {area for area, _ in completeness.dirty} == {"24611", "660", "67"}
