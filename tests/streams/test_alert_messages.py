"""An alert's text for people: every shipped rule reads in Vietnamese and English, numbers as each language
writes them, areas by name and path; and a flapping condition opens at most once per interval (pure logic,
an event-time clock: no sleeps)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from streams.alerts.evaluator import AlertEvaluator, AlertOpened, AlertResolved
from streams.alerts.messages import (
    LANGUAGES,
    AlertFacts,
    AreaName,
    format_quantity,
    has_templates,
    members_summary,
    render,
)
from streams.alerts.rules import DEFAULT_RULES_FILE, load_rules
from streams.catalog import CATALOG
from tests.streams.test_alerts import COVERAGE_DROP, HIERARCHY, at, frame

RULES = load_rules(DEFAULT_RULES_FILE, [k.id for k in CATALOG.kpis])
PATH = [
    AreaName("67", "province", "Tỉnh", "Đắk Nông", "Dak Nong Province"),
    AreaName("660", "district", "Thành phố", "Gia Nghĩa", "Gia Nghia City"),
    AreaName("24615", "commune", "Phường", "Nghĩa Tân", "Nghia Tan Ward"),
    AreaName("24615-04", "village", "Tổ dân phố", "4", "Residential Group 4"),
]
SINCE = datetime(2026, 12, 7, 15, 3, tzinfo=UTC)  # 22:03 in Đắk Nông


def facts(rule_id: str, value: float | None, threshold: float | None, unit: str, **o: object) -> AlertFacts:
    kpi = CATALOG.by_id(
        next(r.kpi for r in RULES if r.id == rule_id) if rule_id in {r.id for r in RULES} else "ops.completeness"
    )
    fields = {"rule_id": rule_id, "kpi_label": {"vi": kpi.label_vi, "en": kpi.label_en}, "window": "1h",
              "path": PATH, "area_code": "24615-04", "value": value, "threshold": threshold, "unit": unit,
              "since": SINCE} | o  # fmt: skip
    return AlertFacts(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_every_shipped_rule_reads_in_both_languages(rule: object) -> None:
    assert hasattr(rule, "id")
    kpi = CATALOG.by_id(rule.kpi)  # type: ignore[attr-defined]
    assert has_templates(rule.id)  # type: ignore[attr-defined]
    for value in (1, 1264740.0, 70.5):
        f = facts(rule.id, value, 50, kpi.unit, window=rule.window, publishers=("counter-4",))  # type: ignore[attr-defined]
        texts = {lang: render(f, lang) for lang in LANGUAGES}
        for lang, text in texts.items():
            assert not {"{", "}"} & set(text), text  # every placeholder filled
            assert (
                "Phường Nghĩa Tân › Tổ dân phố 4" if lang == "vi" else "Nghia Tan Ward › Residential Group 4"
            ) in text
            assert ("22:03 07/12/2026" if lang == "vi" else "2026-12-07 22:03") in text
        assert texts["vi"] != texts["en"]


def test_the_silent_publisher_alert_as_on_call_reads_it() -> None:
    one = facts("publisher-silent", 1, 0, "publishers", window="now", publishers=("pay-counter-4",))
    assert render(one, "vi") == (
        "1 nguồn phát ở Phường Nghĩa Tân › Tổ dân phố 4 không gửi dữ liệu từ 22:03 07/12/2026: pay-counter-4"
    )
    assert render(one, "en") == (
        "1 publisher in Nghia Tan Ward › Residential Group 4 has sent nothing since 2026-12-07 22:03: pay-counter-4"
    )
    many = facts("publisher-silent", 8, 0, "publishers", window="now", path=PATH[:3], area_code="24615",
                 publishers=tuple(f"c{n}" for n in range(8)))  # fmt: skip
    assert (
        render(many, "en") == "8 publishers in Nghia Tan Ward have sent nothing since 2026-12-07 22:03: c0, c1, c2 (+5)"
    )


def test_numbers_as_each_language_writes_them() -> None:
    assert format_quantity(1264740, "VND", "vi") == "1.264.740 đồng"
    assert format_quantity(1264740, "VND", "en") == "1,264,740 VND"
    assert format_quantity(70.5, "%", "vi") == "70,5 %"
    assert format_quantity(70.5, "%", "en") == "70.5 %"
    assert format_quantity(12345, "transactions", "vi") == "12.345 giao dịch"
    assert format_quantity(1, "dossiers", "en") == "1 dossier"
    assert format_quantity(None, "%", "vi") == "—"
    assert members_summary(["commune", "village", "village"], "vi") == "1 xã, 2 thôn"
    assert members_summary(["village"] * 8, "en") == "8 villages"


def test_a_rule_without_templates_and_an_unknown_area_still_read() -> None:
    added = facts("an-admins-rule", 42, 40, "%", path=[], area_code="99999")
    assert render(
        added, "vi"
    ) == "Độ đầy đủ chuỗi số thứ tự (1 giờ) ở 99999 là 42,0 %, vượt ngưỡng 40,0 % (từ 22:03 07/12/2026)".replace(
        "Độ đầy đủ chuỗi số thứ tự", CATALOG.by_id("ops.completeness").label_vi
    )
    assert re.fullmatch(
        r".* in 99999 is 42\.0 %, past the threshold of 40\.0 % \(since 2026-12-07 22:03\)", render(added, "en")
    )


def test_a_hostile_name_is_text_not_markup_in_the_message() -> None:
    # The message is plain text (the pages escape it); what matters here: it is carried through unchanged.
    hostile = [
        *PATH[:3],
        AreaName("24615-04", "village", "Thôn", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>"),
    ]
    text = render(facts("coverage-drop", 30, 50, "%", path=hostile), "en")
    assert "Nghia Tan Ward › <img src=x onerror=alert(1)>" in text


def test_a_flapping_condition_opens_at_most_once_per_interval() -> None:
    rule = COVERAGE_DROP.model_copy(update={"for_seconds": 0.0})
    evaluator = AlertEvaluator([rule], HIERARCHY, flap_interval_us=at(10) - at(0))
    opened = evaluator.observe([frame("24615", 40)], at(0))
    assert [(type(a), a.area) for a in opened] == [(AlertOpened, "24615")]
    assert isinstance(opened[0], AlertOpened)
    assert (opened[0].threshold, opened[0].unit, opened[0].lineage) == (50, "%", ("24615", "660", "67"))
    # Swinging around 50 every minute: it resolves, but does not open again before ten minutes have passed.
    swings: list[object] = []
    for minute in range(1, 9):  # 60, 40, 60, … 40 at minute 8
        swings += evaluator.observe([frame("24615", 60 if minute % 2 else 40)], at(minute))
        swings += evaluator.tick(at(minute + 0.5))
    assert [type(a) for a in swings] == [AlertResolved]
    again = evaluator.tick(at(10))  # still below 50 at minute 10: now it opens, once
    assert [(type(a), a.area) for a in again] == [(AlertOpened, "24615")]
    assert isinstance(again[0], AlertOpened)
    assert again[0].since_us == at(8)  # held since its last swing down, which it says
    assert evaluator.tick(at(11)) == []
    # A condition that clears before the interval ends raises nothing more.
    evaluator.observe([frame("24615", 60)], at(12))
    evaluator.observe([frame("24615", 40)], at(13))
    evaluator.observe([frame("24615", 60)], at(19))
    assert evaluator.tick(at(25)) == []


def test_without_a_flap_interval_every_swing_opens() -> None:
    rule = COVERAGE_DROP.model_copy(update={"for_seconds": 0.0})
    evaluator = AlertEvaluator([rule], HIERARCHY)
    actions = []
    for minute in range(4):
        actions += evaluator.observe([frame("24615", 40 if minute % 2 == 0 else 60)], at(minute))
    assert [type(a) for a in actions] == [AlertOpened, AlertResolved, AlertOpened, AlertResolved]
