"""Everything the engine keeps live, moved together: the windowed KPIs and the gauges.

A gauge is a value at `now` kept by a structure of its own (published with window `now`); it
tells which areas changed through `dirty` like the windowed state does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from streams.catalog import Catalog, KpiValue
from streams.completeness import Completeness
from streams.dead_letters import DeadLetterWindows
from streams.dossiers import OverdueDossiers
from streams.hierarchy import AreaHierarchy
from streams.history import PublisherRegistry
from streams.publishers import PublisherActivity
from streams.records import MICROS, DossierRecord, Record
from streams.state import KpiState

GAUGE_WINDOW = "now"


class Gauge(Protocol):
    kpi_id: str
    dirty: set[str]

    def value(self, area: str) -> KpiValue: ...

    def last_event_at(self, area: str) -> int | None: ...

    def advance(self, now_us: int) -> None: ...

    def mark_all_dirty(self) -> None: ...


class LiveKpis:
    def __init__(
        self,
        catalog: Catalog,
        hierarchy: AreaHierarchy,
        *,
        dossier_horizon_us: int,
        silent_after_us: int,
        onboarding_grace_us: int = 86_400 * MICROS,
    ) -> None:
        self._catalog = catalog
        self.windows = KpiState(catalog, hierarchy)
        self.overdue_dossiers = OverdueDossiers(hierarchy, dossier_horizon_us)
        self.publishers = PublisherActivity(hierarchy, silent_after_us, onboarding_grace_us)
        self.dead_letters = DeadLetterWindows()
        self.completeness = Completeness(hierarchy)
        self.roots = tuple(code for code, lineage in hierarchy.lineage.items() if len(lineage) == 1)
        self.gauges: tuple[Gauge, ...] = (self.overdue_dossiers, self.publishers.online, self.publishers.silent)

    @property
    def now_us(self) -> int | None:
        return self.windows.now_us

    @property
    def unknown_areas(self) -> set[str]:
        return self.windows.unknown_areas

    def last_event_us(self, kpi_id: str, window: str, area: str) -> int | None:
        """The latest event time counted for a KPI's source (staleness rules read it, not the last
        frame: a frame goes out when the numbers change, not when only that time does)."""
        wt = self.windows.window_tally(self._catalog.by_id(kpi_id).event_type, window, area)
        return None if wt is None else wt.last_event_us()

    def set_publishers(self, registry: PublisherRegistry) -> None:
        """The publisher registry, for the operations KPIs."""
        self.publishers.set_publishers(
            registry.areas,
            registry.silent_after_us,
            onboarding_since_us=registry.onboarding_since_us,
            maintenance_until_us=registry.maintenance_until_us,
        )
        self.completeness.set_publishers(registry.areas)

    def advance(self, now_us: int) -> None:
        self.windows.advance(now_us)
        self.completeness.advance(now_us)
        for gauge in self.gauges:
            gauge.advance(now_us)
        self.publishers.advance(now_us)

    def apply(self, records: Iterable[Record]) -> None:
        batch = list(records)
        self.windows.apply(batch)
        self.publishers.apply(batch)
        self.completeness.apply(batch)
        for r in batch:
            if isinstance(r, DossierRecord):
                self.overdue_dossiers.apply(r)

    def mark_all_dirty(self) -> None:
        self.windows.mark_all_dirty()
        self.dead_letters.mark_all_dirty()
        self.completeness.mark_all_dirty()
        for gauge in self.gauges:
            gauge.mark_all_dirty()
