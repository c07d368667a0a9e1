"""Open dossiers past their deadline: the latest state of every dossier, and a count per area that time moves.

A dossier's state is its latest event by event time (ties: the later status in the lifecycle,
then the later `due_at`), so an event that arrives late never overrides a newer one. It is
overdue while that state is open (`submitted`, `accepted`, `supplement_requested`) and its
`due_at` has passed. Dossiers whose latest event is older than `horizon` are forgotten, which
bounds memory; the SQL definition in the catalog applies the same horizon.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from streams.catalog import KpiValue
from streams.hierarchy import AreaHierarchy
from streams.records import DossierRecord

OPEN_STATUSES = frozenset({"submitted", "accepted", "supplement_requested"})
STATUS_ORDER = ("submitted", "accepted", "supplement_requested", "resolved", "returned", "rejected", "cancelled")
_RANK = {status: rank for rank, status in enumerate(STATUS_ORDER)}
_NO_DUE = -1


@dataclass(slots=True)
class _Latest:
    order: tuple[int, int, int]  # (occurred, status rank, due or -1): the newest wins
    open: bool
    due_us: int | None
    area: str
    overdue: bool = False


class OverdueDossiers:
    """The `portal.overdue_open` gauge (see `streams.gauges.Gauge`)."""

    kpi_id = "portal.overdue_open"

    def __init__(self, hierarchy: AreaHierarchy, horizon_us: int) -> None:
        self._hierarchy = hierarchy
        self._horizon_us = horizon_us
        self._latest: dict[str, _Latest] = {}
        self._due: list[tuple[int, str]] = []  # open dossiers not yet overdue, by deadline
        self._ageing: list[tuple[int, str]] = []  # every dossier, by the time of its latest event
        self.overdue: dict[str, int] = {}
        self.last_event_us: dict[str, int] = {}
        self.dirty: set[str] = set()
        self.now_us = 0

    def __len__(self) -> int:
        return len(self._latest)

    def value(self, area: str) -> KpiValue:
        return KpiValue(self.overdue.get(area, 0))

    def last_event_at(self, area: str) -> int | None:
        return self.last_event_us.get(area)

    def apply(self, r: DossierRecord) -> None:
        if r.occurred_us < self.now_us - self._horizon_us:
            return  # already beyond the horizon: it can be nobody's latest state
        order = (r.occurred_us, _RANK[r.status], _NO_DUE if r.due_us is None else r.due_us)
        current = self._latest.get(r.dossier_id)
        if current is not None and order <= current.order:
            return
        if current is not None:
            self._set_overdue(current, False)
        latest = _Latest(order, r.status in OPEN_STATUSES, r.due_us, r.area_code)
        self._latest[r.dossier_id] = latest
        self._push(self._ageing, (r.occurred_us, r.dossier_id))
        for area in self._hierarchy.counted_in(r.area_code):
            self.last_event_us[area] = max(self.last_event_us.get(area, 0), r.occurred_us)
            self.dirty.add(area)  # a first dossier in an area is news even at zero overdue
        if latest.open and latest.due_us is not None:
            if latest.due_us < self.now_us:
                self._set_overdue(latest, True)
            else:
                self._push(self._due, (latest.due_us, r.dossier_id))

    def advance(self, now_us: int) -> None:
        if now_us <= self.now_us:
            return
        self.now_us = now_us
        while self._due and self._due[0][0] < now_us:
            due, dossier = heapq.heappop(self._due)
            latest = self._latest.get(dossier)
            if latest is not None and latest.open and latest.due_us == due:
                self._set_overdue(latest, True)
        oldest_kept = now_us - self._horizon_us
        while self._ageing and self._ageing[0][0] < oldest_kept:
            occurred, dossier = heapq.heappop(self._ageing)
            latest = self._latest.get(dossier)
            if latest is not None and latest.order[0] == occurred:
                self._set_overdue(latest, False)
                del self._latest[dossier]

    def _push(self, heap: list[tuple[int, str]], entry: tuple[int, str]) -> None:
        heapq.heappush(heap, entry)
        if len(heap) > 2 * len(self._latest) + 1024:
            # Superseded states leave stale entries behind: rebuild the heaps from the live states.
            self._ageing = [(latest.order[0], d) for d, latest in self._latest.items()]
            self._due = [
                (latest.due_us, d)
                for d, latest in self._latest.items()
                if latest.open and latest.due_us is not None and not latest.overdue
            ]
            heapq.heapify(self._ageing)
            heapq.heapify(self._due)

    def _set_overdue(self, latest: _Latest, overdue: bool) -> None:
        if latest.overdue == overdue:
            return
        latest.overdue = overdue
        for area in self._hierarchy.counted_in(latest.area):
            left = self.overdue.get(area, 0) + (1 if overdue else -1)
            if left:
                self.overdue[area] = left
            else:
                del self.overdue[area]
            self.dirty.add(area)

    def mark_all_dirty(self) -> None:
        self.dirty.update(self.overdue)
        self.dirty.update(self.last_event_us)
