"""Prometheus metrics of the KPI engine (a registry per engine, so tests read their own)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class EngineMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events_applied = Counter("ioc_streams_events_applied", "Stored events applied from the stream", registry=r)
        self.entries_in_rebuild = Counter(
            "ioc_streams_entries_in_rebuild", "Stream entries skipped because the rebuild had read them", registry=r
        )
        self.records_refused = Counter(
            "ioc_streams_records_refused", "Stored-events entries refused (a format version not read, or garbage)",
            ["reason"], registry=r,
        )  # fmt: skip
        self.rebuilds = Counter("ioc_streams_rebuilds", "Rebuilds from the database", ["reason"], registry=r)
        self.rebuild_seconds = Histogram(
            "ioc_streams_rebuild_seconds", "Time to rebuild the KPI state from the database", registry=r,
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
        )  # fmt: skip
        self.frames = Counter("ioc_streams_frames", "KPI frames published", registry=r)
        self.flush_seconds = Histogram(
            "ioc_streams_flush_seconds", "Time to evaluate and publish one round of frames", registry=r,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25),
        )  # fmt: skip
        self.window_tallies = Gauge("ioc_streams_window_tallies", "Window tallies held (KPI state size)", registry=r)
        self.slots = Gauge("ioc_streams_slots", "Slots held (KPI state size)", registry=r)
        self.snapshot_rows = Counter("ioc_streams_snapshot_rows", "KPI snapshot rows written", registry=r)
        # What the snapshots would have written had they held every value every minute: the saving.
        self.snapshot_values = Counter(
            "ioc_streams_snapshot_values", "KPI values held at each snapshot written", registry=r
        )
        self.snapshots_skipped = Counter(
            "ioc_streams_snapshots_skipped", "Minute snapshots replaced before the writer got to them", registry=r
        )
        self.rollup_minutes = Counter("ioc_streams_rollup_minutes", "Minutes of rollups computed", registry=r)
        self.history_failures = Counter(
            "ioc_streams_history_failures", "Rounds of the history writer that failed (retried)", registry=r
        )
        self.alert_actions = Counter("ioc_streams_alert_changes", "Alerts opened or resolved", ["change"], registry=r)
        self.alert_actions_dropped = Counter(
            "ioc_streams_alert_changes_dropped", "Alert changes dropped because the writer queue was full", registry=r
        )
        self.takeovers = Counter(
            "ioc_streams_takeovers", "Times this engine took the lease and became the active one", registry=r
        )
        self.active = Gauge("ioc_streams_active", "1 while it holds the lease and works, 0 standby", registry=r)
        self.fencing_token = Gauge("ioc_streams_fencing_token", "The fencing token it writes under", registry=r)
        self.fenced_writes = Counter(
            "ioc_streams_fenced_writes", "Writes refused because another engine holds the lease", ["store"], registry=r
        )
        self.dossiers = Gauge("ioc_streams_dossiers", "Dossiers whose latest state is held (overdue gauge)", registry=r)
