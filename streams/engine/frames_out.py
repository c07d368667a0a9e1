"""From changed KPI state to frames: evaluate what may have changed, keep only real changes, number them.

The runner calls `changed_frames` at most once per coalescing interval (100 ms by default), so a
KPI/area/window gets at most one frame per interval however many events touched it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from streams.catalog import Catalog
from streams.frames import KpiFrame, frame_key
from streams.records import MICROS
from streams.state import DirtyKey, KpiState
from streams.targets import Targets
from streams.windows import LOCAL_TIMEZONE

# What makes a frame news: its numbers and its target. The time of the last event is carried along
# but is not news by itself (it is per source, so it would wake every KPI of that source).
_Signature = tuple[float | None, float | None, float | None, float | None]


def iso_utc(us: int) -> str:
    return datetime.fromtimestamp(us // MICROS, UTC).replace(microsecond=us % MICROS).isoformat()


class FrameBuilder:
    def __init__(self, catalog: Catalog, targets: Targets, epoch: str) -> None:
        self._catalog = catalog
        self._targets = targets
        self.epoch = epoch
        self._seq = 0
        self._published: dict[str, _Signature] = {}
        self._published_keys: set[DirtyKey] = set()

    def new_epoch(self, epoch: str) -> None:
        """Start over: sequence from 1, and every value is news again."""
        self.epoch = epoch
        self._seq = 0
        self._published.clear()
        self._published_keys.clear()

    def published_keys(self) -> set[DirtyKey]:
        """Every (event type, area, window) published in this epoch, so that a rebuild re-checks them all."""
        return set(self._published_keys)

    def changed_frames(self, state: KpiState) -> list[KpiFrame]:
        assert state.now_us is not None
        dirty, state.dirty = state.dirty, set()
        now_us = state.now_us
        as_of = iso_utc(now_us)
        today = datetime.fromtimestamp(now_us / MICROS, LOCAL_TIMEZONE).date()
        frames: list[KpiFrame] = []
        self._published_keys |= dirty
        for event_type, area, window in sorted(dirty):
            wt = state.window_tally(event_type, window, area)
            last_us = None if wt is None else wt.last_event_us()
            for kpi in self._catalog.for_event_type(event_type):
                value = kpi.evaluate(None if wt is None else wt.tally)
                target = self._targets.in_force(kpi.id, today)
                target_value = None if target is None else target.value
                signature = (value.value, value.numerator, value.denominator, target_value)
                key = frame_key(kpi.id, area, window)
                if self._published.get(key) == signature:
                    continue
                self._published[key] = signature
                self._seq += 1
                frames.append(
                    KpiFrame(
                        kpi=kpi.id, area=area, window=window, value=value.value, numerator=value.numerator,
                        denominator=value.denominator, unit=kpi.unit, target=target_value,
                        last_event_at=None if last_us is None else iso_utc(last_us), as_of=as_of,
                        epoch=self.epoch, seq=self._seq,
                    )
                )  # fmt: skip
        return frames
