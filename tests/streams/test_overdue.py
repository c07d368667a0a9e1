"""The overdue-dossiers gauge against a from-scratch recount, as late events arrive and deadlines pass (pure logic)."""

from __future__ import annotations

import random

import pytest

from streams.dossiers import OPEN_STATUSES, STATUS_ORDER, OverdueDossiers
from streams.hierarchy import AreaHierarchy
from streams.records import MICROS, DossierRecord
from streams.windows import MINUTE_US
from tests.streams.kpi_data import LEAVES, NOW_US, PARENTS

HIERARCHY = AreaHierarchy.from_parents(PARENTS.items())
HORIZON_US = 120 * MINUTE_US


def recount(records: list[DossierRecord], now_us: int) -> dict[str, int]:
    """Per area: dossiers whose latest event within the horizon is open and past its deadline."""
    latest: dict[str, DossierRecord] = {}

    def order(r: DossierRecord) -> tuple[int, int, int]:
        return (r.occurred_us, STATUS_ORDER.index(r.status), -1 if r.due_us is None else r.due_us)

    for r in records:
        if r.occurred_us >= now_us - HORIZON_US and (
            r.dossier_id not in latest or order(r) > order(latest[r.dossier_id])
        ):
            latest[r.dossier_id] = r
    counts: dict[str, int] = {}
    for r in latest.values():
        if r.status in OPEN_STATUSES and r.due_us is not None and r.due_us < now_us:
            for area in HIERARCHY.counted_in(r.area_code):
                counts[area] = counts.get(area, 0) + 1
    return counts


def dossier_events(rng: random.Random, count: int) -> list[DossierRecord]:
    events = []
    for _ in range(count):
        occurred = NOW_US - rng.randrange(-5 * MINUTE_US, 200 * MINUTE_US)
        due = rng.choice((None, occurred + rng.randrange(-30, 90) * MINUTE_US, occurred))
        events.append(
            DossierRecord(
                "portal-1",
                rng.choice(LEAVES),
                occurred,
                None,
                f"D-{rng.randrange(60)}",
                rng.choice(STATUS_ORDER),
                "online",
                True,
                due,
            )
        )
    return events


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_gauge_equals_a_recount_while_deadlines_pass_and_dossiers_age_out(seed: int) -> None:
    rng = random.Random(seed)
    events = dossier_events(rng, 1_500)
    gauge = OverdueDossiers(HIERARCHY, HORIZON_US)
    now = NOW_US - 10 * MINUTE_US
    gauge.advance(now)
    seen: list[DossierRecord] = []
    for start in range(0, len(events), 100):
        for r in events[start : start + 100]:
            gauge.apply(r)
            # Events older than the horizon at arrival are nobody's state, now or later.
            if r.occurred_us >= now - HORIZON_US:
                seen.append(r)
        now += rng.randrange(0, 20) * MINUTE_US
        gauge.advance(now)
        assert gauge.overdue == recount(seen, now)
    gauge.advance(now + 400 * MINUTE_US)  # past the horizon of everything
    assert gauge.overdue == {}
    assert len(gauge) == 0


def test_a_late_event_never_reopens_a_newer_state_and_dirty_names_the_areas() -> None:
    gauge = OverdueDossiers(HIERARCHY, HORIZON_US)
    gauge.advance(NOW_US)
    due = NOW_US - MINUTE_US
    submitted = DossierRecord("p", "24615-01", NOW_US - 30 * MINUTE_US, None, "D-1", "submitted", "online", True, due)
    gauge.apply(submitted)
    assert gauge.overdue == {"24615-01": 1, "24615": 1, "660": 1, "67": 1}
    assert gauge.dirty == {"24615-01", "24615", "660", "67"}
    gauge.dirty.clear()
    resolved = submitted._replace(occurred_us=NOW_US - 5 * MICROS, status="resolved")
    gauge.apply(resolved)
    gauge.apply(submitted._replace(status="accepted"))  # older than the resolution: ignored
    assert gauge.overdue == {}
    assert gauge.value("67").value == 0
    assert gauge.dirty == {"24615-01", "24615", "660", "67"}
