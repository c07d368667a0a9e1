"""The KPI engine's settings (`ioc streams`): coalescing, reading, history and the engine's horizons."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from runtime.settings import SharedSettings


class StreamsSettings(SharedSettings):
    """Read by the KPI engine (`ioc streams`); the targets and rules files by `ioc db migrate`."""

    streams_consumer: str = Field(default="engine", description="consumer name in the `streams` group")
    # Coalescing bounds the frames, however many events change a value; the long windows move slowly.
    streams_coalesce_seconds: float = Field(
        default=0.1,
        gt=0,
        le=10,
        description="at most one frame per KPI, area and window per interval (`5m`, `1h`, gauges)",
    )
    streams_long_window_coalesce_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="the same for `24h`, `today`, `ops.events_per_s` and `ops.completeness`",
    )
    streams_read_count: int = Field(default=200, ge=1, le=10_000, description="stream entries read per round")
    streams_replay_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="how long the frames replay stream keeps flushes (a resume further back gets a snapshot)",
    )
    # Copied while the database holds none; from then on edited through the API.
    streams_targets_file: Path | None = Field(
        default=None,
        description="the first targets, copied into an empty `kpi_targets` table by `ioc db migrate`; unset:"
        " `streams/targets.yaml`",
    )
    streams_alert_rules_file: Path | None = Field(
        default=None,
        description="the first alert rules, copied into an empty `alert_rules` table by `ioc db migrate`; unset:"
        " `streams/alerts/rules.yaml`",
    )
    streams_health_port: int = Field(default=18082, description="health and metrics of the KPI engine")
    streams_health_host: str = Field(
        default="127.0.0.1",
        description="where the health and metrics server listens (0.0.0.0 in the container image, for probes)",
    )
    streams_history_seconds: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="how often alerts, snapshots and rollups are written (the minute snapshot stored, the"
        " minutes that changed re-rolled), the publisher registry and the rulebook read again",
    )
    # Rollups follow ingest's retention; the minute snapshots (every value, every minute) are bulkier.
    streams_snapshot_retention_days: float = Field(
        default=90, gt=0, description="how long minute snapshots are kept (whole chunks dropped)"
    )
    # Bounds the engine's memory: older dossiers are not held.
    streams_dossier_horizon_days: float = Field(
        default=90,
        gt=0,
        le=400,
        description="dossiers with an event this recent count in `portal.overdue_open`",
    )
    streams_silent_after_seconds: float = Field(
        default=900,
        gt=0,
        description="a publisher with no event nor status for this long (event time) counts in"
        " `ops.publishers_silent`, unless it has a time of its own (`ioc publishers silent-after`)",
    )
    # Alerts people act on: one cause, one incident; no storm of re-openings; nobody forgotten.
    streams_incident_window_seconds: float = Field(
        default=120,
        ge=0,
        le=86_400,
        description="alerts of one rule opened this close together, one area above the other, are one incident"
        " (the incident takes the higher area)",
    )
    streams_alert_flap_seconds: float = Field(
        default=600,
        ge=0,
        le=86_400,
        description="an alert of a rule and area opens at most once per interval (a flapping condition waits);"
        " 0: no limit",
    )
    streams_incident_escalate_seconds: float = Field(
        default=900,
        ge=0,
        description="an open incident nobody acknowledged is due for notification again after this long, and"
        " again each time (recorded in `incidents.escalated_at`); 0: never",
    )
