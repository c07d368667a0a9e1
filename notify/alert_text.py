"""The Vietnamese line of an alert notification: the alert's own text for people (the templates of
`streams/alerts/messages.yaml`, the same the wall and the console show), with its severity and what
happened to it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from streams.alerts.area_book import AreaBook
from streams.alerts.messages import AlertFacts, render
from streams.catalog import CATALOG

_SEVERITY_VI = {"info": "Thông tin", "warning": "Cảnh báo", "major": "Nghiêm trọng", "critical": "Khẩn cấp"}
_EVENT_VI = {"opened": "đang mở", "acknowledged": "đã tiếp nhận", "resolved": "đã hết", "escalated": "đang mở"}
_LABELS = {k.id: {"vi": k.label_vi, "en": k.label_en} for k in CATALOG.kpis}
_UNITS = {k.id: k.unit for k in CATALOG.kpis}  # for an alert stored without its unit


def alert_text_vi(alert: Mapping[str, Any], event: str, areas: AreaBook) -> str:
    """One line (no control characters: chat clients and pagers show the first line only), e.g.
    `[Nghiêm trọng] 1 nguồn phát ở Xã Đắk Lao › Thôn 4 không gửi dữ liệu từ 22:03 07/12/2026: pay-0412
    — đang mở`."""
    severity = _SEVERITY_VI.get(str(alert["severity"]), str(alert["severity"]))
    code, kpi = str(alert["area_code"]), str(alert["kpi"])
    facts = AlertFacts(
        rule_id=str(alert["rule_id"]), kpi_label=_LABELS.get(kpi, {}), window=str(alert["window"]),
        path=areas.path(code), area_code=code, value=_number(alert.get("value")),
        threshold=_number(alert.get("threshold")), unit=str(alert.get("unit") or _UNITS.get(kpi, "")),
        since=_moment(alert), publishers=tuple(alert.get("publishers") or ()),
    )  # fmt: skip
    line = f"[{severity}] {render(facts, 'vi')} — {_EVENT_VI.get(event, event)}"
    return " ".join("".join(ch if ch.isprintable() else " " for ch in line).split())


def _number(value: object) -> float | None:
    if not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _moment(alert: Mapping[str, Any]) -> datetime:
    since = alert.get("since") or alert["opened_at"]
    return since if isinstance(since, datetime) else datetime.fromisoformat(str(since))
