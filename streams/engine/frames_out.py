"""From changed KPI state to frames: evaluate what may have changed, keep only real changes, number them.

The sources of values, each telling what changed: the window tallies (and the event rate across
them), completeness, dead letters per window, and the gauges (window `now`). The runner calls
`changed_frames` once per coalescing interval (100 ms by default) with the keys that are due, so a
KPI/area/window gets at most one frame per interval however many events touched it.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from streams.catalog import Catalog, KpiDefinition, KpiValue
from streams.dead_letters import KPI_ID as DEAD_LETTERS_KPI
from streams.engine.snapshot_changes import SnapshotRow
from streams.frames import KpiFrame
from streams.live import GAUGE_WINDOW, LiveKpis
from streams.records import MICROS, from_micros
from streams.state import DirtyKey
from streams.targets import Targets
from streams.windows import LOCAL_TIMEZONE

# What makes a frame news: its numbers and its target. The time of the last event is carried along
# but is not news by itself (it is per source, so it would wake every KPI of that source).
# Whether it is an area's turn for the slow cadence in this round (see `changed_frames`).
Due = Callable[[str], bool]
# Windows whose changes go out at every flush; the others, and the operations KPIs computed across
# sources (event rate, completeness), go out at the slow cadence, areas taking turns.
FAST_WINDOWS = frozenset({"5m", "1h"})
_Signature = tuple[float | None, float | None, float | None, float | None]


class SlowTurns:
    """Whose turn it is for the slow cadence at each flush: each area's comes once per long-window
    interval, and the areas are spread over its flushes so that no flush gets them all."""

    def __init__(self, coalesce_seconds: float, long_window_coalesce_seconds: float) -> None:
        self._slices = max(1, round(long_window_coalesce_seconds / coalesce_seconds))
        self._flushes = 0

    def next(self) -> Due:
        self._flushes += 1
        slices, turn = self._slices, self._flushes % self._slices
        return lambda area: zlib.crc32(area.encode()) % slices == turn


def iso_utc(us: int) -> str:
    return from_micros(us).isoformat()


class FrameBuilder:
    def __init__(self, catalog: Catalog, targets: Targets, epoch: str) -> None:
        self._catalog = catalog
        self._targets = targets
        self.epoch = epoch
        self._seq = 0
        self._published: dict[tuple[str, str, str], _Signature] = {}
        self._published_keys: set[DirtyKey] = set()
        self._rates_pending: set[tuple[str, str]] = set()  # (area, window) whose event rate may have changed
        self._round = _Round("", date.min, [])

    def new_epoch(self, epoch: str) -> None:
        """Start over: sequence from 1, and every value is news again."""
        self.epoch = epoch
        self._seq = 0
        self._published.clear()
        self._published_keys.clear()

    def replace_targets(self, targets: Targets) -> None:
        """A new rulebook: its targets from now on, and every value is news again (so that the alert
        rules judge them all afresh), in the same epoch."""
        self._targets = targets
        self._published.clear()

    def snapshot_rows(self) -> list[SnapshotRow]:
        """Every value published in this epoch as it stands (kpi, area, window, value, num, den, target)."""
        return [(*key, *signature) for key, signature in self._published.items()]

    @property
    def pending(self) -> bool:
        """Changes noted but not yet sent as frames."""
        return bool(self._rates_pending)

    def published_keys(self) -> set[DirtyKey]:
        """Every (event type, area, window) published in this epoch, so that a rebuild re-checks them all."""
        return set(self._published_keys)

    def changed_frames(self, live: LiveKpis, slow_turn: Due | None = None) -> list[KpiFrame]:
        """Frames of what changed: in the fast windows and the gauges always; in the other windows
        and the operations KPIs only for the areas whose slow turn it is (all of them when
        `slow_turn` is None). What is not due stays pending for a later call."""
        now_us = live.now_us
        assert now_us is not None
        self._round = _Round(
            as_of=iso_utc(now_us), today=datetime.fromtimestamp(now_us / MICROS, LOCAL_TIMEZONE).date(), frames=[]
        )
        state = live.windows
        if slow_turn is None:
            dirty, state.dirty = state.dirty, set()
        else:
            dirty = {key for key in state.dirty if key[2] in FAST_WINDOWS or slow_turn(key[1])}
            state.dirty -= dirty
        self._published_keys |= dirty
        for event_type, area, window in sorted(dirty):
            wt = state.window_tally(event_type, window, area)
            last_at = self._iso(None if wt is None else wt.last_event_us())
            for kpi in self._catalog.for_event_type(event_type):
                self._offer(kpi, area, window, kpi.evaluate(None if wt is None else wt.tally), last_at)
        self._rates_pending.update((area, window) for _, area, window in dirty)
        for area, window in sorted(_take(self._rates_pending, slow_turn)):
            self._offer_event_rate(live, area, window)
        completeness = self._catalog.by_id(live.completeness.kpi_id)
        for area, window in sorted(_take(live.completeness.dirty, slow_turn)):
            self._offer(completeness, area, window, live.completeness.value(area, window), None)
        dead_letters = self._catalog.by_id(DEAD_LETTERS_KPI)
        windows, live.dead_letters.dirty = live.dead_letters.dirty, set()
        for window in sorted(windows):
            last_at = self._iso(live.dead_letters.last_event_at(window))
            for root in live.roots:
                self._offer(dead_letters, root, window, live.dead_letters.value(window), last_at)
        for gauge in live.gauges:
            kpi = self._catalog.by_id(gauge.kpi_id)
            areas, gauge.dirty = gauge.dirty, set()
            for area in sorted(areas):
                self._offer(kpi, area, GAUGE_WINDOW, gauge.value(area), self._iso(gauge.last_event_at(area)))
        return self._round.frames

    def _offer_event_rate(self, live: LiveKpis, area: str, window: str) -> None:
        events, last = 0, None
        for event_type in self._catalog.measures:
            wt = live.windows.window_tally(event_type, window, area)
            if wt is not None:
                events += wt.tally.events
                wt_last = wt.last_event_us()
                last = wt_last if last is None or (wt_last is not None and wt_last > last) else last
        start, end = live.windows.bounds(window)
        seconds = (end - start) / MICROS
        value = KpiValue(events / seconds, events, seconds)
        self._offer(self._catalog.event_rate, area, window, value, self._iso(last))

    def _offer(self, kpi: KpiDefinition, area: str, window: str, value: KpiValue, last_at: str | None) -> None:
        """Make a frame of the value unless it is what this key last published."""
        r = self._round
        if kpi.id not in r.targets:
            target = self._targets.in_force(kpi.id, r.today)
            r.targets[kpi.id] = None if target is None else target.value
        target_value = r.targets[kpi.id]
        signature = (value.value, value.numerator, value.denominator, target_value)
        key = (kpi.id, area, window)
        if self._published.get(key) == signature:
            return
        self._published[key] = signature
        self._seq += 1
        r.frames.append(
            KpiFrame(
                kpi=kpi.id, area=area, window=window, value=value.value, numerator=value.numerator,
                denominator=value.denominator, unit=kpi.unit, target=target_value, last_event_at=last_at,
                as_of=r.as_of, epoch=self.epoch, seq=self._seq,
            )
        )  # fmt: skip

    def _iso(self, us: int | None) -> str | None:
        if us is None:
            return None
        text = self._round.times.get(us)
        if text is None:
            text = self._round.times[us] = iso_utc(us)
        return text


def _take(pairs: set[tuple[str, str]], slow_turn: Due | None) -> set[tuple[str, str]]:
    """The (area, window) pairs due now, taken out of `pairs`."""
    due = set(pairs) if slow_turn is None else {p for p in pairs if slow_turn(p[0])}
    pairs -= due
    return due


@dataclass
class _Round:
    """What one call of `changed_frames` computes once and reuses."""

    as_of: str
    today: date
    frames: list[KpiFrame]
    targets: dict[str, float | None] = field(default_factory=dict)
    times: dict[int, str] = field(default_factory=dict)
