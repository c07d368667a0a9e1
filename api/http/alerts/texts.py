"""Alerts and incidents as people read them: areas by name and path, KPIs by label, messages in vi and en."""

from __future__ import annotations

from collections.abc import Sequence

from api.http.alerts.schemas import AlertOut, AreaOut, IncidentOut, Texts
from streams.alerts.area_book import AreaBook
from streams.alerts.incidents import Incident
from streams.alerts.messages import LANGUAGES, AlertFacts, AreaName, members_summary, render_all
from streams.alerts.store import Alert
from streams.catalog import CATALOG

_LABELS = {k.id: {"vi": k.label_vi, "en": k.label_en} for k in CATALOG.kpis}
# An alert stored without its unit (opened before migration 0015) takes its KPI's.
_UNITS = {k.id: k.unit for k in CATALOG.kpis}


def _area(a: AreaName) -> AreaOut:
    return AreaOut(code=a.code, level=a.level, name_vi=a.name_vi, name_en=a.name_en, full_vi=a.full("vi"))


def _label(kpi: str) -> Texts:
    return Texts(**_LABELS.get(kpi, {"vi": kpi, "en": kpi}))


def alert_out(a: Alert, areas: AreaBook) -> AlertOut:
    path = areas.path(a.area_code)
    since = a.since or a.opened_at
    unit = a.unit or _UNITS.get(a.kpi, "")
    facts = AlertFacts(
        rule_id=a.rule_id, kpi_label=_LABELS.get(a.kpi, {}), window=a.window, path=path, area_code=a.area_code,
        value=a.value, threshold=a.threshold, unit=unit, since=since, publishers=a.publishers,
    )  # fmt: skip
    return AlertOut(
        id=a.id, rule_id=a.rule_id, kpi=a.kpi, kpi_label=_label(a.kpi), area_code=a.area_code,
        area=_area(path[-1]) if path else None, area_path=[_area(p) for p in path], window=a.window,
        severity=a.severity, state=a.state, message=a.message, messages=Texts(**render_all(facts)), value=a.value,
        threshold=a.threshold, unit=unit, since=since,
        publisher_id=a.publishers[0] if len(a.publishers) == 1 else None, publishers=list(a.publishers),
        opened_at=a.opened_at, acknowledged_at=a.acknowledged_at, acknowledged_by=a.acknowledged_by,
        ack_comment=a.ack_comment, resolved_at=a.resolved_at, incident_id=a.incident_id, muted_by=a.muted_by,
        muted=a.muted_by is not None,
    )  # fmt: skip


def incident_out(i: Incident, members: Sequence[AlertOut], areas: AreaBook) -> IncidentOut:
    unresolved = [m for m in members if m.state != "resolved"] or list(members)
    lead = next((m for m in unresolved if m.area_code == i.area_code), unresolved[0] if unresolved else None)
    levels = [m.area.level if m.area else "" for m in unresolved]
    count = {"vi": f"{len(unresolved)} cảnh báo", "en": f"{len(unresolved)} alert{'s' * (len(unresolved) != 1)}"}
    summary = {lang: f"{count[lang]}: {members_summary(levels, lang)}" if levels else count[lang] for lang in LANGUAGES}
    path = areas.path(i.area_code)
    return IncidentOut(
        id=i.id, rule_id=i.rule_id, kpi=i.kpi, kpi_label=_label(i.kpi), area_code=i.area_code,
        area=_area(path[-1]) if path else None, area_path=[_area(p) for p in path], severity=i.severity,
        state=i.state, messages=lead.messages if lead else Texts(vi=i.rule_id, en=i.rule_id),
        summary=Texts(**summary), members=i.members, open_members=i.open_members, opened_at=i.opened_at,
        changed_at=i.changed_at, acknowledged_at=i.acknowledged_at, acknowledged_by=i.acknowledged_by,
        ack_comment=i.ack_comment, resolved_at=i.resolved_at, escalate_after=i.escalate_after,
        escalated_at=i.escalated_at, escalations=i.escalations,
        muted=_all_open_muted(members),
    )  # fmt: skip


def _all_open_muted(members: Sequence[AlertOut]) -> bool:
    """Every alert of it not resolved is muted (a resolved incident, with none open, is not muted)."""
    still_open = [m for m in members if m.state != "resolved"]
    return bool(still_open) and all(m.muted for m in still_open)
