"""Which frame first counted an event, from the frames a benchmark saw arrive (pure logic).

A frame carries `last_event_at`, the latest event time it counts. An event is counted by the first
frame that arrives after the event's commit and whose `last_event_at` (or an earlier frame's) reaches
the event's time: a frame that arrives before the commit cannot count it, however late the events
that it does count.
"""

from __future__ import annotations

import bisect


class FrameArrivals:
    def __init__(self, frames: list[tuple[float, int]]) -> None:
        """`frames`: (arrival, epoch seconds; `last_event_at`, µs) in order of arrival."""
        self._arrivals = [arrived for arrived, _ in frames]
        self._reached: list[int] = []  # the furthest event time any frame so far has reached
        for _, last in frames:
            self._reached.append(max(last, self._reached[-1]) if self._reached else last)

    def first_counting(self, occurred_us: int, committed: float) -> float | None:
        """The arrival of the first frame that counts an event (None: no frame did)."""
        at = max(bisect.bisect_left(self._reached, occurred_us), bisect.bisect_left(self._arrivals, committed))
        return self._arrivals[at] if at < len(self._arrivals) else None
