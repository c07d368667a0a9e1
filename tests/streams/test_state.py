"""The windowed KPI state against a from-scratch recount, as events arrive in any order and time passes (pure logic)."""

from __future__ import annotations

import random
import tracemalloc

import pytest

from streams.catalog import CATALOG, KpiDefinition, KpiValue
from streams.hierarchy import AreaHierarchy
from streams.measures import Tally, contribution_of
from streams.records import MICROS, DossierRecord, PaymentRecord, Record, SampleRecord
from streams.state import SLOT_BYTES_BOUND, KpiState
from streams.windows import MINUTE_US, WINDOWS, WINDOWS_BY_NAME
from tests.streams.kpi_data import NOW_US, PARENTS, generated_records

HIERARCHY = AreaHierarchy.from_parents(PARENTS.items())
_TYPE = {DossierRecord: "dossier", PaymentRecord: "transaction", SampleRecord: "sample"}


def recount(records: list[Record], kpi: KpiDefinition, area: str, window: str, now_us: int) -> KpiValue:
    """The KPI straight from the records: those of its type, in the window, in the area or below it."""
    start, end = WINDOWS_BY_NAME[window].bounds(now_us)
    tally = Tally()
    for r in records:
        if _TYPE.get(type(r)) != kpi.event_type or not start <= r.occurred_us < end:  # type: ignore[union-attr]
            continue
        if area in HIERARCHY.counted_in(r.area_code):  # type: ignore[union-attr]
            tally.add(contribution_of(CATALOG.measures[kpi.event_type], r, r.occurred_us))  # type: ignore[union-attr]
    return kpi.evaluate(tally)


def state_value(state: KpiState, kpi: KpiDefinition, area: str, window: str) -> KpiValue:
    wt = state.window_tally(kpi.event_type, window, area)
    return kpi.evaluate(None if wt is None else wt.tally)


def assert_state_equals_recount(state: KpiState, seen: list[Record]) -> None:
    assert state.now_us is not None
    for kpi in CATALOG.windowed:
        for area in PARENTS:
            for window in WINDOWS:
                expected = recount(seen, kpi, area, window.name, state.now_us)
                assert state_value(state, kpi, area, window.name) == expected, (kpi.id, area, window.name)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_state_equals_a_recount_while_events_arrive_late_and_time_passes(seed: int) -> None:
    rng = random.Random(seed)
    records = generated_records(rng, 3_000)
    records += rng.sample(records, 200)  # the same stored rows twice would be a bug upstream, but sums must hold
    rng.shuffle(records)
    state = KpiState(CATALOG, HIERARCHY)
    now = NOW_US - 3 * MINUTE_US
    state.advance(now)
    seen: list[Record] = []
    for chunk_start in range(0, len(records), 400):
        chunk = records[chunk_start : chunk_start + 400]
        state.apply(chunk)
        seen.extend(chunk)
        now += rng.randrange(1, 90) * MICROS
        state.advance(now)
        assert_state_equals_recount(state, seen)
    # Half a day later: every short window has emptied, and only what is still in 24h/today remains.
    state.advance(now + 14 * 60 * MINUTE_US)
    assert_state_equals_recount(state, seen)


def test_an_event_ahead_of_the_clock_counts_once_its_minute_is_current() -> None:
    state = KpiState(CATALOG, HIERARCHY)
    state.advance(NOW_US)
    ahead = SampleRecord("probe-1", "24615-01", NOW_US + 90 * MICROS, 1, 20.0, 40.0, 0.0)
    state.apply([ahead])
    assert state.window_tally("sample", "5m", "67") is None
    assert state.window_tally("sample", "24h", "67") is not None  # its ten-minute slot is current
    state.advance(NOW_US + 60 * MICROS)
    tally = state.window_tally("sample", "5m", "67")
    assert tally is not None
    assert tally.tally.amount("samples") == 1
    assert tally.last_event_us() == ahead.occurred_us


def test_today_starts_again_at_local_midnight_and_old_events_are_ignored() -> None:
    state = KpiState(CATALOG, HIERARCHY)
    state.advance(NOW_US)  # 09:30 local
    payment = PaymentRecord("counter-1", "24611", NOW_US - 60 * MINUTE_US, 1, "health", "qr", 50_000, "succeeded")
    too_old = payment._replace(occurred_us=NOW_US - 25 * 60 * MINUTE_US)
    state.apply([payment, too_old])
    for window, expected in (("today", 50_000), ("24h", 50_000), ("1h", 0)):
        value = state_value(state, CATALOG.by_id("payments.volume_vnd"), "67", window)
        assert value == KpiValue(expected), window
    midnight = NOW_US + (14 * 60 + 30) * MINUTE_US  # 00:00 local the next day
    state.advance(midnight)
    assert state_value(state, CATALOG.by_id("payments.volume_vnd"), "67", "today") == KpiValue(0)
    assert state_value(state, CATALOG.by_id("payments.volume_vnd"), "67", "24h") == KpiValue(50_000)
    assert state.tallied_slots() == 1  # the minute slot left with the 1h window; the ten-minute one stays


def test_time_never_goes_back() -> None:
    state = KpiState(CATALOG, HIERARCHY)
    state.advance(NOW_US)
    state.advance(NOW_US - 10 * MINUTE_US)
    assert state.now_us == NOW_US
    with pytest.raises(RuntimeError, match="advance"):
        KpiState(CATALOG, HIERARCHY).apply([])


def _busy_minute(rng: random.Random, area: str, minute_start_us: int) -> list[Record]:
    """What one area's minute holds in the soak (5,000 events/s over 123 areas): 1,220 coverage samples."""
    return [
        SampleRecord("probe-1", area, minute_start_us + i * 49_000, i, round(rng.lognormvariate(2.5, 0.9), 2),
                     round(rng.uniform(15, 300), 1), round(rng.uniform(0, 5), 2))
        for i in range(1_220)
    ]  # fmt: skip


def test_a_busy_minute_adds_at_most_the_slot_bound_to_the_state() -> None:
    # The state grows with its windows, one slot per area and minute (and per ten minutes) until
    # they are full: SLOT_BYTES_BOUND × slots is its size, which the soak uses to tell that
    # growth from a leak.
    rng = random.Random(5)
    state = KpiState(CATALOG, HIERARCHY)
    minute = NOW_US // MINUTE_US * MINUTE_US
    state.advance(minute + MINUTE_US - 1)
    # The window tallies exist from here on, their histograms already as wide as values go (a
    # window's histogram widens once to the extremes it sees; a slot is the unit that keeps coming).
    extremes = [SampleRecord("probe-1", "24615", minute, None, v, v, 0.0) for v in (0.002, 1e6)]
    state.apply(_busy_minute(rng, "24615", minute) + extremes)
    records = _busy_minute(rng, "24615", minute + MINUTE_US)
    slots = state.tallied_slots()
    state.advance(minute + 2 * MINUTE_US - 1)
    tracemalloc.start()
    state.apply(records)
    added, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert state.tallied_slots() == slots + 1  # the new minute; its ten minutes had a slot already
    assert added <= SLOT_BYTES_BOUND, added
