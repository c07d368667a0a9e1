"""The simulator's shapes: seeded, deterministic, and near the province's figures (pure logic)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from tools.simulator import shapes
from tools.simulator.areas import Setting
from tools.simulator.shapes import LOCAL_TIME

N = 20_000
# The tolerance for a share p drawn N times: the standard error is sqrt(p(1-p)/N) ≤ 0.0036 for
# N = 20,000, so 0.015 is more than four standard errors: a seeded run never flakes, and a wrong
# share (a few points off) still fails.
TOLERANCE = 0.015
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=LOCAL_TIME)


def share(values: list[bool]) -> float:
    return sum(values) / len(values)


def test_the_same_seed_draws_the_same_day() -> None:
    def day(seed: int) -> list[object]:
        rng = random.Random(seed)
        return [
            (shapes.draw_dossier(rng, Setting.RURAL), shapes.draw_payment(rng, "health", Setting.BON),
             shapes.draw_coverage(rng, Setting.CITY))
            for _ in range(200)
        ]  # fmt: skip

    assert day(7) == day(7)
    assert day(7) != day(8)


def test_e_certification_is_near_the_70_percent_target() -> None:
    rng = random.Random(1)
    for setting in Setting:
        drawn = share([shapes.draw_dossier(rng, setting).e_certified for _ in range(N)])
        assert drawn == pytest.approx(shapes.E_CERT_SHARE, abs=TOLERANCE)


def test_dossiers_go_online_more_in_town_than_in_the_villages() -> None:
    rng = random.Random(2)
    online = {s: share([shapes.draw_dossier(rng, s).channel == "online" for _ in range(N)]) for s in Setting}
    assert online[Setting.CITY] > online[Setting.TOWN] > online[Setting.RURAL] > online[Setting.BON]
    assert online[Setting.CITY] == pytest.approx(0.55, abs=TOLERANCE)


def test_a_share_of_dossiers_is_resolved_late() -> None:
    rng = random.Random(3)
    late = share([shapes.resolution_fraction(rng) > 1 for _ in range(N)])
    assert late == pytest.approx(shapes.LATE_SHARE, abs=TOLERANCE)


def test_due_dates_follow_the_domain_and_the_speed() -> None:
    assert shapes.due_in("land", 1) == timedelta(days=30)
    assert shapes.due_in("civil_status", 1440) == timedelta(minutes=3)  # a day a minute
    assert shapes.due_in("land", 1) > shapes.due_in("construction", 1) > shapes.due_in("business", 1)


@pytest.mark.parametrize(
    ("sector", "setting", "expected"),
    [("health", Setting.CITY, 0.45), ("health", Setting.BON, 0.75), ("electricity", Setting.TOWN, 0.10)],
)
def test_cash_share_differs_by_sector_and_between_town_and_village(
    sector: str, setting: Setting, expected: float
) -> None:
    rng = random.Random(4)
    cash = share([shapes.draw_payment(rng, sector, setting).method == "cash" for _ in range(N)])
    assert cash == pytest.approx(expected, abs=TOLERANCE)


def test_payments_are_whole_thousands_and_mostly_succeed() -> None:
    rng = random.Random(5)
    drawn = [shapes.draw_payment(rng, "water", Setting.RURAL) for _ in range(N)]
    assert all(d.amount_vnd >= 1000 and d.amount_vnd % 1000 == 0 for d in drawn)
    assert share([d.outcome == "succeeded" for d in drawn]) == pytest.approx(0.96, abs=TOLERANCE)


def test_coverage_is_good_in_gia_nghia_and_poor_in_the_bon() -> None:
    rng = random.Random(6)
    usable = {s: [shapes.draw_coverage(rng, s) for _ in range(N)] for s in Setting}
    for setting, samples in usable.items():
        # The flag is the KPI's own definition, computed from the numbers sent.
        assert all(
            s.usable == (s.download_mbps >= 5 and s.latency_ms <= 150 and s.packet_loss_pct <= 2) for s in samples
        )
        assert share([s.usable for s in samples]) == pytest.approx(shapes.USABLE_SHARE[setting], abs=TOLERANCE)
    # About 40 % of ethnic-minority households had no mobile internet in 2022.
    assert 1 - share([s.usable for s in usable[Setting.BON]]) == pytest.approx(0.40, abs=TOLERANCE)


def test_desks_keep_office_hours_and_probes_never_sleep() -> None:
    at = MONDAY_10
    assert shapes.activity("portal", at) == 1.0
    assert shapes.activity("portal", at.replace(hour=12)) < 0.1  # lunch: online submissions only
    assert shapes.activity("portal", at.replace(hour=3)) < shapes.activity("portal", at.replace(hour=20))
    assert shapes.activity("portal", at + timedelta(days=6)) < 0.1  # Sunday
    assert shapes.activity("payments", at) == 1.0
    assert shapes.activity("payments", at + timedelta(days=5)) == 0.5  # Saturday
    assert shapes.activity("payments", at.replace(hour=19)) > shapes.activity("payments", at.replace(hour=2))
    for hour in range(24):
        assert shapes.activity("coverage", at.replace(hour=hour)) == 1.0
