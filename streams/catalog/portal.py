"""Public-service dossiers (portal and one-stop desks): online share, e-certification, on-time resolution."""

from __future__ import annotations

from streams.catalog.kpi import Gauge, KpiDefinition, Ratio
from streams.measures import DistinctCount, Measure
from streams.records import DossierRecord

EVENT_TYPE = "dossier"


def _submitted(r: DossierRecord) -> bool:
    return r.status == "submitted"


def _resolved_with_due(r: DossierRecord) -> bool:
    return r.status == "resolved" and r.due_us is not None


def _dossier(r: DossierRecord) -> str:
    return r.dossier_id


# A dossier counts once per window however many events it has there; it counts in a numerator
# when at least one of its events in the window qualifies.
MEASURES: tuple[Measure, ...] = (
    DistinctCount("dossiers_submitted", _dossier, _submitted),
    DistinctCount("dossiers_submitted_online", _dossier, lambda r: _submitted(r) and r.channel == "online"),
    DistinctCount("dossiers_submitted_e_certified", _dossier, lambda r: _submitted(r) and r.e_certified),
    DistinctCount("dossiers_resolved_with_due", _dossier, _resolved_with_due),
    DistinctCount(
        "dossiers_resolved_on_time",
        _dossier,
        lambda r: _resolved_with_due(r) and r.occurred_us <= r.due_us,
    ),
)


KPIS: tuple[KpiDefinition, ...] = (
    KpiDefinition(
        id="portal.online_share",
        event_type=EVENT_TYPE,
        label_vi="Tỷ lệ hồ sơ nộp trực tuyến",
        label_en="Dossiers submitted online",
        unit="%",
        definition="Of the dossiers with a `submitted` event in the window, the share with a `submitted` event"
        " whose channel is `online`.",
        formula=Ratio("dossiers_submitted_online", "dossiers_submitted"),
        sql="SELECT 100.0 * n / NULLIF(d, 0), n, d FROM (SELECT"
        " count(DISTINCT dossier_id) FILTER (WHERE status = 'submitted' AND channel = 'online') AS n,"
        " count(DISTINCT dossier_id) FILTER (WHERE status = 'submitted') AS d"
        " FROM portal_dossier_events"
        " WHERE occurred_at >= %(start)s AND occurred_at < %(end)s AND area_code = ANY(%(areas)s)) AS t",
    ),
    KpiDefinition(
        id="portal.e_cert_rate",
        event_type=EVENT_TYPE,
        label_vi="Tỷ lệ hồ sơ chứng thực điện tử",
        label_en="Dossiers e-certified",
        unit="%",
        definition="Of the dossiers with a `submitted` event in the window, the share with a `submitted` event"
        " marked `e_certified`.",
        formula=Ratio("dossiers_submitted_e_certified", "dossiers_submitted"),
        sql="SELECT 100.0 * n / NULLIF(d, 0), n, d FROM (SELECT"
        " count(DISTINCT dossier_id) FILTER (WHERE status = 'submitted' AND e_certified) AS n,"
        " count(DISTINCT dossier_id) FILTER (WHERE status = 'submitted') AS d"
        " FROM portal_dossier_events"
        " WHERE occurred_at >= %(start)s AND occurred_at < %(end)s AND area_code = ANY(%(areas)s)) AS t",
    ),
    KpiDefinition(
        id="portal.ontime_rate",
        event_type=EVENT_TYPE,
        label_vi="Tỷ lệ hồ sơ giải quyết đúng hạn",
        label_en="Dossiers resolved on time",
        unit="%",
        definition="Of the dossiers with a `resolved` event in the window that carries a `due_at`, the share with"
        " such an event at or before its `due_at`.",
        formula=Ratio("dossiers_resolved_on_time", "dossiers_resolved_with_due"),
        sql="SELECT 100.0 * n / NULLIF(d, 0), n, d FROM (SELECT"
        " count(DISTINCT dossier_id) FILTER (WHERE occurred_at <= due_at) AS n,"
        " count(DISTINCT dossier_id) AS d"
        " FROM portal_dossier_events WHERE status = 'resolved' AND due_at IS NOT NULL"
        " AND occurred_at >= %(start)s AND occurred_at < %(end)s AND area_code = ANY(%(areas)s)) AS t",
    ),
    KpiDefinition(
        id="portal.overdue_open",
        event_type=EVENT_TYPE,
        label_vi="Hồ sơ quá hạn chưa giải quyết",
        label_en="Open dossiers past their deadline",
        unit="dossiers",
        definition="Dossiers whose latest event (by event time; ties: the later status in the lifecycle, then the"
        " later due_at) is `submitted`, `accepted` or `supplement_requested` and whose `due_at` has passed. Only"
        " dossiers with an event in the last IOC_STREAMS_DOSSIER_HORIZON_DAYS (90) days count. A gauge: window `now`.",
        formula=Gauge(),
        sql="SELECT count(*) FROM (SELECT DISTINCT ON (dossier_id) status, due_at, area_code"
        " FROM portal_dossier_events WHERE occurred_at >= %(now)s - %(horizon)s"
        " ORDER BY dossier_id, occurred_at DESC, array_position(ARRAY['submitted', 'accepted',"
        " 'supplement_requested', 'resolved', 'returned', 'rejected', 'cancelled'], status) DESC,"
        " coalesce(due_at, '-infinity') DESC) AS latest"
        " WHERE status IN ('submitted', 'accepted', 'supplement_requested') AND due_at < %(now)s"
        " AND area_code = ANY(%(areas)s)",
    ),
)
