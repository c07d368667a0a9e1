"""Publishers online and publishers silent, per registered area: two gauges kept against the clock.

A publisher is quiet when nothing of it — no event, no status — is at or after `now − silent_after`
(by event time; its own threshold when the registry gives one) or it never sent anything. It is
online when its latest status (by `at`; on a tie, `offline` wins) is `online` and it is not quiet: a
quiet publisher is never online. It counts as silent when it is quiet and expected to send: not in
maintenance (until its `maintenance_until`), not onboarding within its grace period (never heard
from — neither in the registry's `first_message_at` nor here — and registered less than
`onboarding_grace` ago). Both ends are judged on the engine's clock, so a maintenance or a grace
period that ends makes a quiet publisher silent at the next recount. Only enabled publishers count,
in the area they are registered in (and every area above it). Counts are recomputed at most once a
second: these are operations gauges, and a recount over every publisher is cheap and cannot drift.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from streams.catalog import KpiValue
from streams.hierarchy import AreaHierarchy
from streams.records import MICROS, Record, StatusRecord

_RECOUNT_EVERY_US = 1 * MICROS


@dataclass
class CountGauge:
    """One gauge's counts per area, as the frame builder reads gauges (see `streams.live.Gauge`)."""

    kpi_id: str
    counts: dict[str, int] = field(default_factory=dict)
    last: dict[str, int] = field(default_factory=dict)
    areas: set[str] = field(default_factory=set)  # every area with an enabled publisher in it or below
    dirty: set[str] = field(default_factory=set)

    def value(self, area: str) -> KpiValue:
        return KpiValue(self.counts.get(area, 0))

    def last_event_at(self, area: str) -> int | None:
        return self.last.get(area)

    def advance(self, now_us: int) -> None:
        pass  # moved by PublisherActivity

    def mark_all_dirty(self) -> None:
        self.dirty.update(self.areas)

    def replace(self, counts: dict[str, int], last: dict[str, int], areas: set[str]) -> None:
        for area in areas | self.areas:
            if counts.get(area, 0) != self.counts.get(area, 0) or area not in self.areas:
                self.dirty.add(area)
        self.counts, self.last, self.areas = counts, last, areas


class PublisherActivity:
    def __init__(
        self, hierarchy: AreaHierarchy, silent_after_us: int, onboarding_grace_us: int = 86_400 * MICROS
    ) -> None:
        self._hierarchy = hierarchy
        self._silent_after_us = silent_after_us
        self._onboarding_grace_us = onboarding_grace_us
        self._area: dict[str, str] = {}  # enabled publisher -> registered area
        self._own_silent_after: dict[str, int] = {}
        self._onboarding_since: dict[str, int] = {}  # never heard from, per the registry -> registered at
        self._maintenance_until: dict[str, int] = {}
        self._last_seen: dict[str, int] = {}
        self._status: dict[str, tuple[int, bool]] = {}  # publisher -> (at, offline?) of its latest status
        self.online = CountGauge("ops.publishers_online")
        self.silent = CountGauge("ops.publishers_silent")
        self.unknown: set[str] = set()  # publishers seen but not in the registry the engine loaded
        self._now_us = 0
        self._next_recount = 0

    def set_publishers(
        self,
        enabled: dict[str, str],
        silent_after_us: dict[str, int] | None = None,
        *,
        onboarding_since_us: dict[str, int] | None = None,
        maintenance_until_us: dict[str, int] | None = None,
    ) -> None:
        """The registry: every enabled publisher, the area it is registered in, the silence
        thresholds of the publishers that have their own, when those never heard from were
        registered, and the maintenance end of those that have one."""
        self._area = dict(enabled)
        self._own_silent_after = dict(silent_after_us or {})
        self._onboarding_since = dict(onboarding_since_us or {})
        self._maintenance_until = dict(maintenance_until_us or {})
        self.unknown.clear()  # a publisher still unknown shows up again with its next event
        self._next_recount = 0

    def seen(self, latest_events: dict[str, int]) -> None:
        """Publishers' latest event times, read from the database by a rebuild."""
        for publisher, at_us in latest_events.items():
            if at_us > self._last_seen.get(publisher, -1):
                self._last_seen[publisher] = at_us

    def apply(self, records: Iterable[Record]) -> None:
        for r in records:
            if isinstance(r, StatusRecord):
                seen = r.at_us
                latest = self._status.get(r.publisher_id)
                candidate = (r.at_us, r.state == "offline")
                if latest is None or candidate > latest:
                    self._status[r.publisher_id] = candidate
            else:
                seen = r.occurred_us
            if seen > self._last_seen.get(r.publisher_id, -1):
                self._last_seen[r.publisher_id] = seen
            if r.publisher_id not in self._area:
                self.unknown.add(r.publisher_id)

    def advance(self, now_us: int) -> None:
        if now_us <= self._now_us:
            return
        self._now_us = now_us
        if now_us >= self._next_recount:
            self._next_recount = now_us + _RECOUNT_EVERY_US
            self.recount()

    def recount(self) -> None:
        online: dict[str, int] = {}
        silent: dict[str, int] = {}
        last: dict[str, int] = {}
        areas: set[str] = set()
        for publisher, area in self._area.items():
            lineage = self._hierarchy.counted_in(area)
            areas.update(lineage)
            seen = self._last_seen.get(publisher)
            status = self._status.get(publisher)
            quiet = self._is_quiet(publisher)
            counted_silent = quiet and self._expected_to_send(publisher, seen)
            for a in lineage:
                if seen is not None and seen > last.get(a, -1):
                    last[a] = seen
                if status is not None and not status[1] and not quiet:
                    online[a] = online.get(a, 0) + 1
                if counted_silent:
                    silent[a] = silent.get(a, 0) + 1
        self.online.replace(online, last, areas)
        self.silent.replace(silent, last, areas)

    def _expected_to_send(self, publisher: str, seen: int | None) -> bool:
        """Not in maintenance, and not onboarding within its grace period."""
        if self._maintenance_until.get(publisher, -1) > self._now_us:
            return False
        registered = self._onboarding_since.get(publisher)
        if registered is None or seen is not None:
            return True  # heard from: not onboarding
        return self._now_us >= registered + self._onboarding_grace_us

    def silent_in(self, area: str) -> tuple[str, ...]:
        """The enabled publishers registered in `area` or under it that are silent now (an alert's cause)."""
        return tuple(
            sorted(
                publisher
                for publisher, registered in self._area.items()
                if area in self._hierarchy.counted_in(registered) and self._is_silent(publisher)
            )
        )

    def _is_quiet(self, publisher: str) -> bool:
        seen = self._last_seen.get(publisher)
        cutoff = self._now_us - self._own_silent_after.get(publisher, self._silent_after_us)
        return seen is None or seen < cutoff

    def _is_silent(self, publisher: str) -> bool:
        """Quiet, and expected to send (not in maintenance, not onboarding within its grace period)."""
        return self._is_quiet(publisher) and self._expected_to_send(publisher, self._last_seen.get(publisher))
