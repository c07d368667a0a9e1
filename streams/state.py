"""The engine's live state: every KPI measure, per window and per area, kept exact as events arrive and time passes.

Each record's contribution goes into one slot per slot size (keyed by its own area) and into the
tally of every window that holds its event time, once per area it counts in (its area and all
the areas above it). When `advance` moves `now`, slots that leave a window are taken away from
its tallies and slots that enter it (events stamped ahead of the clock) are added. The state
never reads the clock: `now` is always given.

Events older than every window are dropped here (they are still stored, and the rollups and
history count them); `dirty` collects the (event type, area, window) whose values may have
changed, for the publisher to evaluate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from streams.catalog import Catalog
from streams.hierarchy import AreaHierarchy
from streams.measures import Contribution, Tally, contribution_of
from streams.records import DossierRecord, PaymentRecord, Record, SampleRecord, StatusRecord
from streams.windows import SLOT_SIZES, WINDOWS, Window

DirtyKey = tuple[str, str, str]  # (event type, area, window)
# What one slot (an area's minute or ten minutes of one event type) adds to the state at most, for
# an area as busy as the soak's (1,220 coverage samples a minute, the widest histograms): tested.
# The state holds at most one slot per area, event type and slot of its windows (60 minutes and
# 144 ten-minutes), so its size is bounded by that count × this.
SLOT_BYTES_BOUND = 8 * 1024
_EVENT_TYPE_OF: dict[type, str] = {DossierRecord: "dossier", PaymentRecord: "transaction", SampleRecord: "sample"}


@dataclass
class WindowTally:
    tally: Tally = field(default_factory=Tally)
    # Latest event time per slot in the window, so that it stays right when slots leave.
    last_by_slot: dict[int, int] = field(default_factory=dict)
    _last: int | None = None  # max of last_by_slot, kept as events arrive, recomputed when a slot leaves

    def last_event_us(self) -> int | None:
        return self._last

    def note_event(self, slot: int, occurred_us: int) -> None:
        if self.last_by_slot.get(slot, -1) < occurred_us:
            self.last_by_slot[slot] = occurred_us
            if self._last is None or occurred_us > self._last:
                self._last = occurred_us

    def forget_slot(self, slot: int) -> None:
        if self.last_by_slot.pop(slot, None) is not None:
            self._last = max(self.last_by_slot.values(), default=None)


@dataclass
class _Slot:
    tally: Tally = field(default_factory=Tally)
    last_us: int = 0


class KpiState:
    def __init__(self, catalog: Catalog, hierarchy: AreaHierarchy, windows: tuple[Window, ...] = WINDOWS) -> None:
        self._catalog = catalog
        self.hierarchy = hierarchy
        self._windows = windows
        self._slot_sizes = tuple(s for s in SLOT_SIZES if any(w.slot_us == s for w in windows))
        # slot size -> slot index -> (event type, area of the event) -> slot
        self._slots: dict[int, dict[int, dict[tuple[str, str], _Slot]]] = {s: {} for s in self._slot_sizes}
        # (event type, window, area) -> tally
        self._tallies: dict[tuple[str, str, str], WindowTally] = {}
        self._bounds: dict[str, tuple[int, int]] = {}
        self.now_us: int | None = None
        self.dirty: set[DirtyKey] = set()
        self.unknown_areas: set[str] = set()

    def window_tally(self, event_type: str, window: str, area: str) -> WindowTally | None:
        return self._tallies.get((event_type, window, area))

    def bounds(self, window: str) -> tuple[int, int]:
        return self._bounds[window]

    @property
    def window_names(self) -> tuple[str, ...]:
        return tuple(w.name for w in self._windows)

    def mark_all_dirty(self) -> None:
        """Every value is to be published again (a new epoch)."""
        self.dirty.update((event_type, area, window) for event_type, window, area in self._tallies)

    def apply(self, records: Iterable[Record]) -> None:
        if self.now_us is None:
            raise RuntimeError("advance() the state to a time before applying records")
        for record in records:
            if isinstance(record, StatusRecord):
                continue  # publisher status feeds the operations KPIs, not the windows
            self._apply_one(record)

    def _apply_one(self, record: DossierRecord | PaymentRecord | SampleRecord) -> None:
        event_type = _EVENT_TYPE_OF[type(record)]
        lineage = self.hierarchy.counted_in(record.area_code)
        if not lineage:
            self.unknown_areas.add(record.area_code)
            return
        occurred = record.occurred_us
        contribution = contribution_of(self._catalog.measures.get(event_type, ()), record, occurred)
        kept = False
        for size in self._slot_sizes:
            index = occurred // size
            if index * size < self._oldest_start(size):
                continue
            slot = self._slots[size].setdefault(index, {}).setdefault((event_type, record.area_code), _Slot())
            slot.tally.add(contribution)
            slot.last_us = max(slot.last_us, occurred)
            kept = True
        if not kept:
            return
        for window in self._windows:
            start, end = self._bounds[window.name]
            if start <= occurred < end:
                self._add_to_window(event_type, window, lineage, contribution)

    def _add_to_window(
        self, event_type: str, window: Window, lineage: tuple[str, ...], contribution: Contribution
    ) -> None:
        slot = contribution.occurred_us // window.slot_us
        for area in lineage:
            wt = self._tallies.get((event_type, window.name, area))
            if wt is None:
                wt = self._tallies[(event_type, window.name, area)] = WindowTally()
            wt.tally.add(contribution)
            wt.note_event(slot, contribution.occurred_us)
            self.dirty.add((event_type, area, window.name))

    def advance(self, now_us: int) -> None:
        """Move the windows to `now_us` (never backwards)."""
        if self.now_us is not None and now_us <= self.now_us:
            return
        self.now_us = now_us
        for window in self._windows:
            new = window.bounds(now_us)
            old = self._bounds.get(window.name)
            if old == new:
                continue
            if old is None:
                self._move_slots(window, new[0], new[1], sign=1)
            else:
                self._move_slots(window, old[0], min(new[0], old[1]), sign=-1)
                self._move_slots(window, max(old[1], new[0]), new[1], sign=1)
            self._bounds[window.name] = new
        for size in self._slot_sizes:
            oldest = self._oldest_start(size)
            for index in [i for i in self._slots[size] if i * size < oldest]:
                del self._slots[size][index]

    def _move_slots(self, window: Window, start: int, end: int, sign: int) -> None:
        """Add (sign 1) or take away (sign -1) the slots in [start, end) to or from the window's tallies."""
        if start >= end:
            return
        size = window.slot_us
        slots = self._slots[size]
        for index in [i for i in slots if start <= i * size < end]:
            for (event_type, area_code), slot in slots[index].items():
                for area in self.hierarchy.counted_in(area_code):
                    key = (event_type, window.name, area)
                    wt = self._tallies.get(key)
                    if wt is None:
                        wt = self._tallies[key] = WindowTally()
                    wt.tally.merge(slot.tally, sign)
                    if sign > 0:
                        wt.note_event(index, slot.last_us)
                    else:
                        wt.forget_slot(index)
                    if wt.tally.events == 0:
                        del self._tallies[key]
                    self.dirty.add((event_type, area, window.name))

    def _oldest_start(self, size: int) -> int:
        starts = [self._bounds[w.name][0] for w in self._windows if w.slot_us == size and w.name in self._bounds]
        return min(starts) if starts else 0

    def tally_count(self) -> int:
        return len(self._tallies)

    def tallied_slots(self) -> int:
        return sum(len(by_area) for slots in self._slots.values() for by_area in slots.values())
