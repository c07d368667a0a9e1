"""Operations of the system itself: publishers online and silent (gauges over the publisher registry)."""

from __future__ import annotations

from streams.catalog.kpi import Gauge, KpiDefinition

EVENT_TYPE = "status"

KPIS: tuple[KpiDefinition, ...] = (
    KpiDefinition(
        id="ops.publishers_online",
        event_type=EVENT_TYPE,
        label_vi="Nguồn dữ liệu đang trực tuyến",
        label_en="Publishers online",
        unit="publishers",
        definition="Enabled publishers registered in the area (or below it) whose latest status (by `at`; on a"
        " tie, `offline` wins) is `online`. A gauge: window `now`.",
        formula=Gauge(),
        sql="SELECT count(*) FROM publishers p JOIN LATERAL (SELECT state FROM publisher_status s"
        " WHERE s.publisher_id = p.id ORDER BY at DESC, state ASC LIMIT 1) latest ON true"
        " WHERE p.disabled_at IS NULL AND latest.state = 'online' AND p.area_code = ANY(%(areas)s)",
    ),
    KpiDefinition(
        id="ops.publishers_silent",
        event_type=EVENT_TYPE,
        label_vi="Nguồn dữ liệu im lặng",
        label_en="Publishers silent",
        unit="publishers",
        definition="Enabled publishers registered in the area (or below it) with no event and no status at or"
        " after now − IOC_STREAMS_SILENT_AFTER_SECONDS (900 s), by event time, or never heard from. A gauge:"
        " window `now`.",
        formula=Gauge(),
        sql="SELECT count(*) FROM publishers p WHERE p.disabled_at IS NULL AND p.area_code = ANY(%(areas)s)"
        " AND NOT EXISTS (SELECT 1 FROM portal_dossier_events e WHERE e.publisher_id = p.id"
        " AND e.occurred_at >= %(now)s - %(silent_after)s)"
        " AND NOT EXISTS (SELECT 1 FROM payment_transactions e WHERE e.publisher_id = p.id"
        " AND e.occurred_at >= %(now)s - %(silent_after)s)"
        " AND NOT EXISTS (SELECT 1 FROM coverage_samples e WHERE e.publisher_id = p.id"
        " AND e.occurred_at >= %(now)s - %(silent_after)s)"
        " AND NOT EXISTS (SELECT 1 FROM publisher_status s WHERE s.publisher_id = p.id"
        " AND s.at >= %(now)s - %(silent_after)s)",
    ),
)
