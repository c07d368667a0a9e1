"""Operations of the system itself: event rate, publishers online and silent."""

from __future__ import annotations

from streams.catalog.kpi import EventRate, Gauge, KpiDefinition, Tracked

EVENT_TYPE = "status"
# Nothing of publisher `p` — no event, no status — at or after now − its silence threshold.
_SINCE = "%(now)s - coalesce(p.silent_after_seconds * interval '1 second', %(silent_after)s)"
_QUIET = " AND ".join(
    f"NOT EXISTS (SELECT 1 FROM {table} e WHERE e.publisher_id = p.id AND e.{column} >= {_SINCE})"  # noqa: S608 -- constants
    for table, column in (
        ("portal_dossier_events", "occurred_at"),
        ("payment_transactions", "occurred_at"),
        ("coverage_samples", "occurred_at"),
        ("publisher_status", "at"),
    )
)

KPIS: tuple[KpiDefinition, ...] = (
    KpiDefinition(
        id="ops.events_per_s",
        event_type="all",
        label_vi="Sự kiện mỗi giây",
        label_en="Events per second",
        unit="events/s",
        definition="Stored dossier events, payments and coverage samples in the window ÷ the window's length in"
        " seconds (5m: 300, 1h: 3600, 24h: 86400, today: from midnight to the end of the current ten minutes).",
        formula=EventRate(),
        sql="SELECT n / d, n, d FROM (SELECT"
        " (SELECT count(*) FROM portal_dossier_events WHERE occurred_at >= %(start)s AND occurred_at < %(end)s"
        " AND area_code = ANY(%(areas)s))"
        " + (SELECT count(*) FROM payment_transactions WHERE occurred_at >= %(start)s AND occurred_at < %(end)s"
        " AND area_code = ANY(%(areas)s))"
        " + (SELECT count(*) FROM coverage_samples WHERE occurred_at >= %(start)s AND occurred_at < %(end)s"
        " AND area_code = ANY(%(areas)s)) AS n,"
        " extract(epoch FROM %(end)s::timestamptz - %(start)s::timestamptz) AS d) AS t",
    ),
    KpiDefinition(
        id="ops.publishers_online",
        event_type=EVENT_TYPE,
        label_vi="Nguồn dữ liệu đang trực tuyến",
        label_en="Publishers online",
        unit="publishers",
        definition="Enabled publishers registered in the area (or below it) whose latest status (by `at`; on a"
        " tie, `offline` wins) is `online` and that are not quiet (see ops.publishers_silent): a publisher"
        " silent for its threshold is never counted online. A gauge: window `now`.",
        formula=Gauge(),
        sql="SELECT count(*) FROM publishers p JOIN LATERAL (SELECT state FROM publisher_status s"  # noqa: S608 -- constants
        " WHERE s.publisher_id = p.id ORDER BY at DESC, state ASC LIMIT 1) latest ON true"
        " WHERE p.disabled_at IS NULL AND latest.state = 'online' AND p.area_code = ANY(%(areas)s)"
        f" AND NOT ({_QUIET})",
    ),
    KpiDefinition(
        id="ops.publishers_silent",
        event_type=EVENT_TYPE,
        label_vi="Nguồn dữ liệu im lặng",
        label_en="Publishers silent",
        unit="publishers",
        definition="Enabled publishers registered in the area (or below it) that are quiet — no event and no"
        " status at or after now − their silence threshold (the publisher's own `silent_after_seconds`, else"
        " IOC_STREAMS_SILENT_AFTER_SECONDS, 900 s), by event time, or never heard from — and expected to send:"
        " not in maintenance (`maintenance_until` ahead), not onboarding within its grace period (no"
        " `first_message_at` and registered less than IOC_STREAMS_ONBOARDING_GRACE_SECONDS ago, 24 h)."
        " A gauge: window `now`.",
        formula=Gauge(),
        sql="SELECT count(*) FROM publishers p WHERE p.disabled_at IS NULL AND p.area_code = ANY(%(areas)s)"  # noqa: S608 -- constants
        f" AND {_QUIET}"
        " AND NOT coalesce(p.maintenance_until > %(now)s, false)"
        " AND NOT (p.first_message_at IS NULL AND p.created_at > %(now)s - %(onboarding_grace)s)",
    ),
    KpiDefinition(
        id="ops.dead_letters",
        event_type="dead_letter",
        label_vi="Bản tin lỗi",
        label_en="Dead letters",
        unit="dead letters",
        definition="Invalid messages kept as dead letters, by arrival time (received_at) in the window's bounds;"
        " for the province only (invalid input often has no valid area). Counted every"
        " IOC_STREAMS_HISTORY_SECONDS (10 s).",
        formula=Tracked(),
        sql="SELECT count(*) FROM dead_letters WHERE received_at >= %(start)s AND received_at < %(end)s",
    ),
    KpiDefinition(
        id="ops.completeness",
        event_type="all",
        label_vi="Độ đầy đủ dữ liệu",
        label_en="Completeness",
        unit="%",
        definition="Per enabled publisher registered in the area (or below it): its stored events with a `seq` in"
        " the window (received) and max seq − min seq + 1 over them (expected); the value is Σ received ÷"
        " Σ expected. A `seq` re-sent under a new event id counts twice.",
        formula=Tracked(),
        sql="SELECT 100.0 * sum(n) / NULLIF(sum(e), 0), coalesce(sum(n), 0), coalesce(sum(e), 0) FROM ("
        "SELECT count(*) AS n, max(seq) - min(seq) + 1 AS e FROM ("
        "SELECT publisher_id, seq FROM portal_dossier_events WHERE seq IS NOT NULL"
        " AND occurred_at >= %(start)s AND occurred_at < %(end)s"
        " UNION ALL SELECT publisher_id, seq FROM payment_transactions WHERE seq IS NOT NULL"
        " AND occurred_at >= %(start)s AND occurred_at < %(end)s"
        " UNION ALL SELECT publisher_id, seq FROM coverage_samples WHERE seq IS NOT NULL"
        " AND occurred_at >= %(start)s AND occurred_at < %(end)s) AS x"
        " JOIN publishers p ON p.id = x.publisher_id"
        " WHERE p.disabled_at IS NULL AND p.area_code = ANY(%(areas)s) GROUP BY x.publisher_id) AS t",
    ),
)
