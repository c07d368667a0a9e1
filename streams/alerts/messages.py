"""An alert's text for people, in Vietnamese and English, rendered from its structured fields (pure logic).

The templates are data (messages.yaml, next to the rules); numbers are written as each language
writes them (vi: 1.264.740 and 70,5 %; en: 1,264,740 and 70.5 %), moments in the province's local
time (UTC+7, no daylight saving), areas by their full name with their path (commune › village).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Literal

import yaml

Language = Literal["vi", "en"]
LANGUAGES: tuple[Language, ...] = ("vi", "en")
MESSAGES_FILE = Path(__file__).with_name("messages.yaml")
LOCAL_TIME = timezone(timedelta(hours=7))
_SEPARATORS = {"vi": (".", ","), "en": (",", ".")}  # (thousands, decimal)
_UNITS_VI = {
    "transactions": "giao dịch", "dossiers": "hồ sơ", "publishers": "nguồn phát", "dead letters": "thư lỗi",
    "events/s": "sự kiện/giây", "VND": "đồng",
}  # fmt: skip
_SINGULAR_EN = {"transactions": "transaction", "dossiers": "dossier", "publishers": "publisher",
                "dead letters": "dead letter"}  # fmt: skip
_WINDOWS = {
    "vi": {"5m": "5 phút", "1h": "1 giờ", "24h": "24 giờ", "today": "hôm nay", "now": "hiện tại"},
    "en": {"5m": "5 min", "1h": "1 hour", "24h": "24 hours", "today": "today", "now": "now"},
}
_LEVELS = {
    "vi": {"province": ("tỉnh", "tỉnh"), "district": ("huyện", "huyện"), "commune": ("xã", "xã"),
           "village": ("thôn", "thôn")},
    "en": {"province": ("province", "provinces"), "district": ("district", "districts"),
           "commune": ("commune", "communes"), "village": ("village", "villages")},
}  # fmt: skip
_MAX_PUBLISHERS_NAMED = 3


@dataclass(frozen=True, slots=True)
class AreaName:
    code: str
    level: str
    unit_type: str  # Tỉnh, Xã, Phường, Thôn, Tổ dân phố, Bon…
    name_vi: str
    name_en: str

    def full(self, lang: Language) -> str:
        # The Vietnamese names of villages are often bare numbers ("4"): the unit type makes them readable.
        return f"{self.unit_type} {self.name_vi}" if lang == "vi" else self.name_en


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """What an alert's text is made of (the API's structured fields)."""

    rule_id: str
    kpi_label: Mapping[str, str]  # vi, en
    window: str
    path: Sequence[AreaName]  # from the province down to the alert's area; empty for an unknown area
    area_code: str
    value: float | None
    threshold: float | None
    unit: str
    since: datetime
    publishers: Sequence[str] = ()


def area_path(path: Sequence[AreaName], area_code: str, lang: Language) -> str:
    """The area as people name it: a commune or village with the communes and villages above it
    (commune › village); a district or the province by itself."""
    if not path:
        return area_code
    shown = [a for a in path if a.level in ("commune", "village")] or [path[-1]]
    return " › ".join(a.full(lang) for a in shown)


def format_number(value: float, lang: Language, digits: int) -> str:
    thousands, decimal = _SEPARATORS[lang]
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)


def format_quantity(value: float | None, unit: str, lang: Language) -> str:
    """A value with its unit: percentages with one decimal, rates and speeds with one, counts and money whole."""
    if value is None or not math.isfinite(value):
        return "—"
    if unit == "%":
        return f"{format_number(value, lang, 1)} %"
    whole = float(value).is_integer() or unit == "VND"
    digits = 1 if unit in ("Mbit/s", "events/s") or not whole else 0
    number = format_number(value, lang, digits)
    if not unit:
        return number
    if lang == "vi":
        return f"{number} {_UNITS_VI.get(unit, unit)}"
    return f"{number} {_SINGULAR_EN.get(unit, unit) if value == 1 else unit}"


def format_moment(at: datetime, lang: Language) -> str:
    local = at.astimezone(LOCAL_TIME)
    return f"{local:%H:%M %d/%m/%Y}" if lang == "vi" else f"{local:%Y-%m-%d %H:%M}"


def format_duration(seconds: float, lang: Language) -> str:
    hours, minutes = divmod(round(seconds / 60), 60)
    if lang == "vi":
        return " ".join(p for p in (f"{hours} giờ" if hours else "", f"{minutes} phút" if minutes else "") if p)
    parts = (f"{hours} hour{'s' * (hours != 1)}" if hours else "", f"{minutes} min" if minutes else "")
    return " ".join(p for p in parts if p) or "0 min"


def members_summary(levels: Sequence[str], lang: Language) -> str:
    """What an incident covers besides its own area, e.g. "8 thôn" / "8 villages", "1 xã, 3 thôn"."""
    counts = {level: levels.count(level) for level in ("province", "district", "commune", "village")}
    words = _LEVELS[lang]
    return ", ".join(f"{n} {words[level][n != 1]}" for level, n in counts.items() if n)


@cache
def _templates(path: Path = MESSAGES_FILE) -> dict[str, dict[str, object]]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict) or "default" not in loaded:
        raise ValueError(f"{path}: needs a default template")
    return loaded


def has_templates(rule_id: str) -> bool:
    return rule_id in _templates()


def render(facts: AlertFacts, lang: Language) -> str:
    entry = _templates().get(facts.rule_id) or _templates()["default"]
    singular = entry.get("one")
    if facts.value == 1 and isinstance(singular, dict):
        entry = singular
    template = str(entry[lang])
    named = list(facts.publishers[:_MAX_PUBLISHERS_NAMED])
    more = len(facts.publishers) - len(named)
    listed = ", ".join(named) + (f" (+{more})" if more else "")
    return template.format(
        kpi=facts.kpi_label.get(lang, facts.rule_id),
        area=area_path(facts.path, facts.area_code, lang),
        value=format_quantity(facts.value, facts.unit, lang),
        threshold=format_quantity(facts.threshold, facts.unit, lang),
        window=_WINDOWS[lang].get(facts.window, facts.window),
        since=format_moment(facts.since, lang),
        duration=format_duration(facts.threshold or 0, lang),
        publishers=f": {listed}" if named else "",
    )


def render_all(facts: AlertFacts) -> dict[str, str]:
    return {lang: render(facts, lang) for lang in LANGUAGES}
