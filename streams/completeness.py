"""`ops.completeness`: of the events publishers numbered (`seq`), how many arrived — per area and window.

For each enabled publisher and window: received = its stored events with a `seq` in the window,
expected = max seq − min seq + 1 over those events; an area's value is Σ received ÷ Σ expected over
the publishers registered in it or below it, in %. A publisher that re-sends a `seq` under a new
event id counts twice (the value can pass 100 %: that is a publisher's bug worth seeing).

Per publisher, each slot keeps (count, min, max); a window's figures for a publisher are recomputed
from its slots only when the publisher had an event or a slot of it entered or left the window,
and an area's sums only when one of its publishers changed.
"""

from __future__ import annotations

from collections.abc import Iterable

from streams.catalog import KpiValue
from streams.hierarchy import AreaHierarchy
from streams.records import Record, StatusRecord
from streams.windows import WINDOWS, Window

_Stats = tuple[int, int, int]  # (count, min seq, max seq)


class Completeness:
    kpi_id = "ops.completeness"

    def __init__(self, hierarchy: AreaHierarchy, windows: tuple[Window, ...] = WINDOWS) -> None:
        self._hierarchy = hierarchy
        self._windows = windows
        self._sizes = sorted({w.slot_us for w in windows})
        # slot size -> slot index -> publisher -> [count, min, max]
        self._slots: dict[int, dict[int, dict[str, list[int]]]] = {s: {} for s in self._sizes}
        self._bounds: dict[str, tuple[int, int]] = {}
        self._area: dict[str, str] = {}
        self._publishers_in: dict[str, list[str]] = {}  # area -> publishers registered in it or below
        self._stats: dict[tuple[str, str], _Stats] = {}  # (window, publisher) -> figures; absent: to recompute
        self.dirty: set[tuple[str, str]] = set()  # (area, window)

    def set_publishers(self, enabled: dict[str, str]) -> None:
        self._area = dict(enabled)
        self._publishers_in = {}
        for publisher, area in enabled.items():
            for a in self._hierarchy.counted_in(area):
                self._publishers_in.setdefault(a, []).append(publisher)
        self.mark_all_dirty()

    def apply(self, records: Iterable[Record]) -> None:
        for r in records:
            if isinstance(r, StatusRecord) or r.seq is None:
                continue
            for size in self._sizes:
                index = r.occurred_us // size
                if index * size < self._oldest_start(size):
                    continue
                stats = self._slots[size].setdefault(index, {}).get(r.publisher_id)
                if stats is None:
                    self._slots[size][index][r.publisher_id] = [1, r.seq, r.seq]
                else:
                    stats[0] += 1
                    stats[1] = min(stats[1], r.seq)
                    stats[2] = max(stats[2], r.seq)
            for window in self._windows:
                start, end = self._bounds.get(window.name, (0, 0))
                if start <= r.occurred_us < end:
                    self._count(window.name, r.publisher_id, r.seq)

    def advance(self, now_us: int) -> None:
        for window in self._windows:
            new = window.bounds(now_us)
            old = self._bounds.get(window.name)
            if old == new:
                continue
            self._bounds[window.name] = new
            slots = self._slots[window.slot_us]
            lo, hi = (new[0], new[1]) if old is None else (min(old[0], new[0]), max(old[1], new[1]))
            moved = [i for i in slots if lo <= i * window.slot_us < hi]
            for index in moved:
                if old is None or (old[0] <= index * window.slot_us < old[1]) != (
                    new[0] <= index * window.slot_us < new[1]
                ):
                    for publisher in slots[index]:
                        self._touch(window.name, publisher)
        for size in self._sizes:
            oldest = self._oldest_start(size)
            for index in [i for i in self._slots[size] if i * size < oldest]:
                del self._slots[size][index]

    def value(self, area: str, window: str) -> KpiValue:
        received = expected = 0
        for publisher in self._publishers_in.get(area, ()):
            count, low, high = self._window_stats(window, publisher)
            if count:
                received += count
                expected += high - low + 1
        return KpiValue(None if expected == 0 else 100.0 * received / expected, received, expected)

    def mark_all_dirty(self) -> None:
        self._stats.clear()
        self.dirty.update((area, w.name) for area in self._publishers_in for w in self._windows)

    def _count(self, window: str, publisher: str, seq: int) -> None:
        """An event in the window: cached figures grow in place (only a slot leaving needs a recount)."""
        key = (window, publisher)
        cached = self._stats.get(key)
        if cached is not None:
            count, low, high = cached
            self._stats[key] = (1, seq, seq) if count == 0 else (count + 1, min(low, seq), max(high, seq))
        self._mark(window, publisher)

    def _touch(self, window: str, publisher: str) -> None:
        self._stats.pop((window, publisher), None)
        self._mark(window, publisher)

    def _mark(self, window: str, publisher: str) -> None:
        area = self._area.get(publisher)
        if area is not None:
            self.dirty.update((a, window) for a in self._hierarchy.counted_in(area))

    def _window_stats(self, window_name: str, publisher: str) -> _Stats:
        key = (window_name, publisher)
        cached = self._stats.get(key)
        if cached is not None:
            return cached
        window = next(w for w in self._windows if w.name == window_name)
        start, end = self._bounds.get(window_name, (0, 0))
        count, low, high = 0, 0, 0
        for index, by_publisher in self._slots[window.slot_us].items():
            stats = by_publisher.get(publisher)
            if stats is None or not start <= index * window.slot_us < end:
                continue
            low = stats[1] if count == 0 else min(low, stats[1])
            high = stats[2] if count == 0 else max(high, stats[2])
            count += stats[0]
        self._stats[key] = (count, low, high)
        return (count, low, high)

    def _oldest_start(self, size: int) -> int:
        starts = [self._bounds[w.name][0] for w in self._windows if w.slot_us == size and w.name in self._bounds]
        return min(starts) if starts else 0
