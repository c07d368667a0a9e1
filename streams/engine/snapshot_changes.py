"""Which rows a minute snapshot writes: what changed since the last one written, or everything.

Most values of a quiet area do not move from one minute to the next, and writing each of them every
minute is the bulk of the history. So a snapshot writes the values that changed or appeared since
the last snapshot *written* (not offered: the writer may skip one when behind), a row with
`held = false` for a value no longer held, and everything at the first snapshot of each full period
(an hour by default) and the first after a start — the anchor a reader carries values forward from
(the `kpi_history` function of migration 0013). The hourly rows rely on that anchor: every hour with
a snapshot starts with a full one, so the last row of a key within an hour is its last value in it.
Pure logic; the history writer commits a plan only once its transaction has.
"""

from __future__ import annotations

from dataclasses import dataclass

from streams.windows import MINUTE_US

SnapshotRow = tuple[str, str, str, float | None, float | None, float | None, float | None]
Key = tuple[str, str, str]
Signature = tuple[float | None, float | None, float | None, float | None]
StoredRow = tuple[str, str, str, float | None, float | None, float | None, float | None, bool]  # ..., held


@dataclass(frozen=True, slots=True)
class SnapshotPlan:
    at_us: int
    full: bool
    rows: list[StoredRow]
    held_values: int  # the values the engine holds: what a full snapshot would write
    _written: dict[Key, Signature]


class SnapshotChanges:
    def __init__(self, full_every_minutes: int = 60) -> None:
        if full_every_minutes < 1 or 60 % full_every_minutes:
            raise ValueError("a full snapshot must come at the start of every hour: use a divisor of 60 minutes")
        self._period_us = full_every_minutes * MINUTE_US
        self._written: dict[Key, Signature] | None = None  # None: nothing written since the start
        self._last_period: int | None = None

    def plan(self, at_us: int, rows: list[SnapshotRow]) -> SnapshotPlan:
        """The rows to write for the values as they stand at `at_us` (a minute's start)."""
        current: dict[Key, Signature] = {(k, a, w): (v, n, d, t) for k, a, w, v, n, d, t in rows}
        full = self._written is None or at_us // self._period_us != self._last_period
        if full or self._written is None:
            stored = [(*key, *signature, True) for key, signature in current.items()]
        else:
            previous = self._written
            stored = [(*key, *sig, True) for key, sig in current.items() if previous.get(key) != sig]
            stored += [(*key, None, None, None, None, False) for key in previous if key not in current]
        return SnapshotPlan(at_us, full, stored, len(current), current)

    def committed(self, plan: SnapshotPlan) -> None:
        """The plan's transaction has committed: the next snapshot is compared with it."""
        self._written = plan._written
        self._last_period = plan.at_us // self._period_us

    def forget(self) -> None:
        """A write failed, perhaps after its commit: the next snapshot is full, whatever was stored."""
        self._written = None
