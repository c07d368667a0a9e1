"""Which frame first counted an event, from the frames a benchmark saw arrive (pure logic).

A frame carries `last_event_at`, the latest event time in its window. An event is taken as counted
by the first frame that arrives after the event's commit and whose own `last_event_at` reaches the
event's time: a frame that arrives before the commit cannot count it, however late the events it
does count, and a frame whose window holds nothing as late cannot either. (A frame after the commit
may still have been computed before the engine applied the event, so the time to it is a lower
bound, by at most one flush.)
"""

from __future__ import annotations

import bisect


class FrameArrivals:
    def __init__(self, frames: list[tuple[float, int]]) -> None:
        """`frames`: (arrival, epoch seconds; `last_event_at`, µs) in order of arrival."""
        self._arrivals = [arrived for arrived, _ in frames]
        self._lasts = [last for _, last in frames]
        self._reached: list[int] = []  # the furthest event time any frame so far has reached
        for last in self._lasts:
            self._reached.append(max(last, self._reached[-1]) if self._reached else last)

    def first_counting(self, occurred_us: int, committed: float) -> float | None:
        """The arrival of the first frame that counts an event (None: no frame did)."""
        # No frame before the first that reaches the event's time, nor before the commit, counts it;
        # from there on, the first whose own window reaches it (almost always that very frame).
        at = max(bisect.bisect_left(self._reached, occurred_us), bisect.bisect_left(self._arrivals, committed))
        while at < len(self._lasts) and self._lasts[at] < occurred_us:
            at += 1
        return self._arrivals[at] if at < len(self._arrivals) else None
