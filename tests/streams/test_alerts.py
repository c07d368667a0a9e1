"""Alert rules and their lifecycle: for-durations, clearing, staleness, one alert per rule and area (pure logic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.alerts.evaluator import AlertEvaluator, AlertOpened, AlertResolved
from streams.alerts.rules import DEFAULT_RULES_FILE, AlertRule, InvalidRules, load_rules
from streams.catalog import CATALOG
from streams.engine.frames_out import iso_utc
from streams.frames import KpiFrame
from streams.hierarchy import AreaHierarchy
from streams.records import MICROS
from tests.streams.kpi_data import NOW_US, PARENTS

LEVELS = {"67": "province", "660": "district", "663": "district", "24611": "commune", "24615": "commune",
          "24667": "commune", "24615-01": "village", "24667-03": "village"}  # fmt: skip
HIERARCHY = AreaHierarchy.from_parents(PARENTS.items(), LEVELS)
COVERAGE_DROP = AlertRule(
    id="coverage-drop", kpi="coverage.usable_share", window="1h", levels=("commune",), below=50,
    min_denominator=20, for_seconds=600, severity="major",
)  # fmt: skip


def frame(area: str, value: float | None, denominator: float = 100, *, kpi: str = "coverage.usable_share",
          window: str = "1h", target: float | None = None, last_event_us: int | None = NOW_US) -> KpiFrame:  # fmt: skip
    return KpiFrame(
        kpi=kpi, area=area, window=window, value=value, numerator=None, denominator=denominator, unit="%",
        target=target, last_event_at=None if last_event_us is None else iso_utc(last_event_us), as_of=iso_utc(NOW_US),
        epoch="e", seq=1,
    )  # fmt: skip


def at(minutes: float) -> int:
    return NOW_US + int(minutes * 60 * MICROS)


def test_an_alert_opens_after_its_for_duration_once_and_resolves_when_clear() -> None:
    evaluator = AlertEvaluator([COVERAGE_DROP], HIERARCHY)
    assert evaluator.observe([frame("24615", 40)], at(0)) == []
    assert evaluator.tick(at(9)) == []  # not yet ten minutes
    opened = evaluator.tick(at(10))
    assert [(type(a), a.area) for a in opened] == [(AlertOpened, "24615")]
    assert isinstance(opened[0], AlertOpened)
    assert opened[0].message == "coverage.usable_share (1h) in 24615 is 40, below 50"
    assert evaluator.observe([frame("24615", 30)], at(11)) == []  # still the same alert
    assert evaluator.tick(at(20)) == []
    resolved = evaluator.observe([frame("24615", 60)], at(21))
    assert resolved == [AlertResolved("coverage-drop", "24615", "coverage.usable_share (1h) is 60", at(21))]


def test_out_of_scope_thin_or_interrupted_conditions_raise_nothing() -> None:
    evaluator = AlertEvaluator([COVERAGE_DROP], HIERARCHY)
    evaluator.observe([frame("660", 10), frame("24615-01", 10)], at(0))  # a district and a village: not in scope
    evaluator.observe([frame("24611", 10, denominator=5)], at(0))  # five samples prove nothing
    evaluator.observe([frame("24667", 10)], at(0))
    evaluator.observe([frame("24667", 70)], at(5))  # recovered before the ten minutes
    evaluator.observe([frame("24667", 10)], at(6))
    assert evaluator.tick(at(15)) == []  # the clock started again at 6
    assert [a.area for a in evaluator.tick(at(16))] == ["24667"]


def test_staleness_and_target_rules() -> None:
    silent = AlertRule(id="probe-silent", kpi="coverage.usable_share", window="24h", levels=("village",),
                       stale_after_seconds=7200)  # fmt: skip
    below_target = AlertRule(id="cashless", kpi="payments.cashless_share", window="today", levels=("province",),
                             below_target=True)  # fmt: skip
    evaluator = AlertEvaluator([silent, below_target], HIERARCHY)
    evaluator.observe([frame("24615-01", 80, window="24h", last_event_us=at(-60))], at(0))
    assert evaluator.tick(at(59)) == []
    assert [a.area for a in evaluator.tick(at(60))] == ["24615-01"]
    evaluator.observe([frame("24615-01", 80, window="24h", last_event_us=at(61))], at(61))
    assert [type(a) for a in evaluator.tick(at(62))] == [AlertResolved]
    # The live latest event time wins over the frame's (which only moves with the numbers).
    evaluator.observe([frame("24615-01", 80, window="24h", last_event_us=at(-200))], at(63))
    assert evaluator.tick(at(64), lambda kpi, window, area: at(63)) == []
    cashless = frame("67", 45, kpi="payments.cashless_share", window="today", target=50)
    assert [a.area for a in evaluator.observe([cashless], at(0))] == ["67"]
    assert evaluator.observe([frame("67", 45, kpi="payments.cashless_share", window="today")], at(1)) == []


def test_restored_alerts_resolve_without_opening_twice() -> None:
    evaluator = AlertEvaluator([COVERAGE_DROP], HIERARCHY)
    orphans = evaluator.restore_open([("coverage-drop", "24615"), ("gone", "24611")], at(0))
    assert orphans == [AlertResolved("gone", "24611", "the rule was removed", at(0))]
    assert evaluator.tick(at(30)) == []
    assert evaluator.observe([frame("24615", 10)], at(31)) == []
    assert [type(a) for a in evaluator.observe([frame("24615", 90)], at(32))] == [AlertResolved]


def test_new_rules_resolve_what_no_rule_keeps_and_judge_afresh() -> None:
    evaluator = AlertEvaluator([COVERAGE_DROP], HIERARCHY)
    evaluator.observe([frame("24615", 40), frame("24611", 40), frame("24667", 40)], at(0))
    assert {a.area for a in evaluator.tick(at(10))} == {"24611", "24615", "24667"}
    evaluator.observe([frame("24615", 45)], at(11))  # 24615 still below 50: stays open below
    narrowed = COVERAGE_DROP.model_copy(update={"areas": ("24615", "24667"), "below": 30})
    resolved = evaluator.replace_rules([narrowed], at(12))
    assert resolved == [AlertResolved("coverage-drop", "24611", "the rule no longer covers this area", at(12))]
    # The engine publishes every value again: 24615 at 40 no longer breaks the rule (below 30).
    cleared = evaluator.observe([frame("24615", 40), frame("24667", 20)], at(13))
    assert cleared == [AlertResolved("coverage-drop", "24615", "coverage.usable_share (1h) is 40", at(13))]
    assert evaluator.replace_rules([narrowed], at(14)) == []  # the same rule again changes nothing
    gone = evaluator.replace_rules([], at(15))
    assert gone == [AlertResolved("coverage-drop", "24667", "the rule was removed", at(15))]
    assert evaluator.observe([frame("24667", 10)], at(16)) == []
    assert evaluator.tick(at(60)) == []


def test_after_a_restart_alerts_that_the_rules_no_longer_keep_resolve() -> None:
    narrowed = COVERAGE_DROP.model_copy(update={"areas": ("24615",)})
    evaluator = AlertEvaluator([narrowed], HIERARCHY)
    keys = [("coverage-drop", "24615"), ("coverage-drop", "24611"), ("gone", "24611")]
    assert evaluator.restore_open(keys, at(0)) == [
        AlertResolved("coverage-drop", "24611", "the rule no longer covers this area", at(0)),
        AlertResolved("gone", "24611", "the rule was removed", at(0)),
    ]
    assert evaluator.observe([frame("24615", 70)], at(1)) == [
        AlertResolved("coverage-drop", "24615", "coverage.usable_share (1h) is 70", at(1))
    ]


def test_a_changed_rule_counts_its_for_duration_afresh() -> None:
    evaluator = AlertEvaluator([COVERAGE_DROP], HIERARCHY)
    evaluator.observe([frame("24615", 40)], at(0))
    evaluator.replace_rules([COVERAGE_DROP.model_copy(update={"for_seconds": 300})], at(8))
    assert evaluator.tick(at(12)) == []  # the old condition's start is forgotten
    evaluator.observe([frame("24615", 40)], at(12))
    assert evaluator.tick(at(16)) == []
    assert [(type(a), a.area) for a in evaluator.tick(at(17))] == [(AlertOpened, "24615")]


def test_the_shipped_rules_load_and_bad_rules_are_refused(tmp_path: Path) -> None:
    rules = load_rules(DEFAULT_RULES_FILE, [k.id for k in CATALOG.kpis])
    assert {r.id for r in rules} >= {"coverage-drop", "cashless-below-target", "coverage-probes-silent"}
    two = tmp_path / "two.yaml"
    two.write_text("rules:\n  - {id: x, kpi: coverage.usable_share, window: 1h, below: 5, above: 9}\n")
    with pytest.raises(InvalidRules, match="exactly one of"):
        load_rules(two, [k.id for k in CATALOG.kpis])
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("rules:\n  - {id: x, kpi: portal.nope, window: 1h, below: 5}\n")
    with pytest.raises(InvalidRules, match="do not exist"):
        load_rules(unknown, [k.id for k in CATALOG.kpis])


@pytest.mark.parametrize("flap_minutes", [0, 10])
def test_a_standby_taking_over_keeps_the_databases_alerts_and_opens_what_the_dead_engine_did_not_write(
    flap_minutes: int,
) -> None:
    # With a flap limit too: the standby's judgement wrote nothing, so it is no opening to wait after.
    standby = AlertEvaluator([COVERAGE_DROP], HIERARCHY, flap_interval_us=flap_minutes * 60 * 1_000_000)
    standby.observe([frame("24615", 40), frame("24611", 40), frame("24667", 40)], at(0))
    # The standby judged all three open (and wrote nothing); the active engine wrote 24615 and 24611,
    # then died before writing 24667.
    assert {a.area for a in standby.tick(at(10))} == {"24611", "24615", "24667"}
    orphans = standby.take_over([("coverage-drop", "24615"), ("coverage-drop", "24611"), ("gone", "24611")], at(11))
    assert orphans == [AlertResolved("gone", "24611", "the rule was removed", at(11))]
    # The new epoch republishes every value: the written ones are not raised again; the one lost
    # with the dead engine opens at once, without waiting its ten minutes again.
    actions = standby.observe([frame("24615", 40), frame("24611", 40), frame("24667", 40)], at(11))
    assert [(type(a), a.area) for a in actions] == [(AlertOpened, "24667")]
    assert standby.tick(at(30)) == []
    # An alert the standby had judged open but the database resolved meanwhile, now clear: nothing.
    assert standby.take_over([("coverage-drop", "24615")], at(31)) == []
    assert standby.observe([frame("24611", 70), frame("24667", 70)], at(31)) == []
    assert [type(a) for a in standby.observe([frame("24615", 70)], at(32))] == [AlertResolved]
