"""The KPI engine's settings (`ioc streams`): coalescing, reading, history and the engine's horizons."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator

from streams.silence_settings import SilenceSettings


class StreamsSettings(SilenceSettings):
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
    # Snapshots write what changed; a full one anchors the reads (and the hourly rows) every period.
    streams_full_snapshot_minutes: int = Field(
        default=60,
        ge=1,
        le=60,
        description="a full minute snapshot (every value) every this many minutes, a divisor of 60; the"
        " others write only the values that changed (1: every value every minute, as before 0013)",
    )
    # Bounds the engine's memory: older dossiers are not held.
    streams_dossier_horizon_days: float = Field(
        default=90,
        gt=0,
        le=400,
        description="dossiers with an event this recent count in `portal.overdue_open`",
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

    # Failover (docs/kpi-engine.md#active-and-standby): the standby takes over at most a time to live plus
    # a renewal interval after the active engine died, then needs well under a second to publish.
    streams_lease_ttl_seconds: float = Field(
        default=2.0,
        ge=0.5,
        le=30,
        description="the active engine's lease lapses this long after its last renewal; a standby then takes over",
    )
    streams_lease_renew_seconds: float = Field(
        default=0.5,
        gt=0,
        le=15,
        description="how often the active engine renews its lease and a standby tries to take it (at most half the"
        " time to live)",
    )

    @model_validator(mode="after")
    def _renewed_within_ttl(self) -> StreamsSettings:
        if self.streams_lease_renew_seconds * 2 > self.streams_lease_ttl_seconds:
            raise ValueError("IOC_STREAMS_LEASE_RENEW_SECONDS must be at most half of IOC_STREAMS_LEASE_TTL_SECONDS")
        return self

    @field_validator("streams_full_snapshot_minutes")
    @classmethod
    def _divides_the_hour(cls, minutes: int) -> int:
        # Every hour with a snapshot must start with a full one: the hourly rows are read from it.
        if 60 % minutes:
            raise ValueError("must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60)")
        return minutes
