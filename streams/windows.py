"""The KPI windows, by event time, and the slots that make them slide.

Events are kept in slots (one minute, or ten minutes for the long windows) and a window is a run
of whole slots ending with the slot that holds `now`:

- ``5m``:    the current minute and the 4 before it;
- ``1h``:    the current minute and the 59 before it;
- ``24h``:   the current ten minutes and the 143 before them;
- ``today``: from local midnight (Asia/Ho_Chi_Minh) to the end of the current ten minutes.

So a window is ``[start, end)`` with ``end`` the end of the current slot: an event stamped a few
seconds ahead of `now` (publishers' clocks drift; ingest accepts up to 5 min) counts once its slot
is current. `bounds` is the only definition of a window: the engine, the rebuild and the
SQL-equivalence tests all call it, and none of them reads the clock here — `now` is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, timezone

MINUTE_US = 60_000_000
TEN_MINUTES_US = 10 * MINUTE_US
# Việt Nam has kept UTC+7 without daylight saving since 1975; a fixed offset makes local
# midnight a whole number of ten-minute slots, so `today` is a run of slots like the others.
LOCAL_TIMEZONE = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")
_LOCAL_OFFSET_US = 7 * 3600 * 1_000_000
_DAY_US = 86_400 * 1_000_000


@dataclass(frozen=True, slots=True)
class Window:
    name: str
    slot_us: int
    slots: int | None  # None: from local midnight

    def bounds(self, now_us: int) -> tuple[int, int]:
        end = (now_us // self.slot_us + 1) * self.slot_us
        if self.slots is None:
            return local_midnight(now_us), end
        return end - self.slots * self.slot_us, end

    @property
    def max_span_us(self) -> int:
        return _DAY_US if self.slots is None else self.slots * self.slot_us


def local_midnight(now_us: int) -> int:
    return (now_us + _LOCAL_OFFSET_US) // _DAY_US * _DAY_US - _LOCAL_OFFSET_US


WINDOWS: tuple[Window, ...] = (
    Window("5m", MINUTE_US, 5),
    Window("1h", MINUTE_US, 60),
    Window("24h", TEN_MINUTES_US, 144),
    Window("today", TEN_MINUTES_US, None),
)
WINDOWS_BY_NAME = {w.name: w for w in WINDOWS}
SLOT_SIZES: tuple[int, ...] = tuple(sorted({w.slot_us for w in WINDOWS}))
