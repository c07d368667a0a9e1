"""The ingest service's settings (`ioc ingest`): its broker accounts, batches, retention and spool."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from ingest.intake_settings import IntakeSettings


class IngestSettings(IntakeSettings):
    """Read by each ingest process (`ioc ingest`), with the intake rules."""

    mqtt_username: str = Field(default="ioc-ingest", description="the broker account of the ingest service")
    mqtt_password: SecretStr | None = Field(default=None, description="its password; unset: the local stack's")
    # Under a deep backlog Mosquitto sends PINGRESP behind the queued messages (tens of seconds late
    # while draining a flood: docs/performance.md#design-figures), so a short keepalive makes paho
    # drop healthy connections.
    mqtt_keepalive_seconds: int = Field(
        default=30,
        ge=2,
        le=600,
        description="MQTT keepalive: a dead connection is noticed within 2× (shorter values make paho drop"
        " healthy connections while Mosquitto drains a deep backlog, because it sends PINGRESP behind the"
        " queued messages)",
    )
    mqtt_sweeper_username: str = Field(
        default="ioc-sweeper",
        description="the account with which each `ioc ingest` deletes retained event messages"
        " ([ingest](ingest.md#retained-messages))",
    )
    mqtt_sweeper_password: SecretStr | None = Field(
        default=None, description="its password; unset: the local stack's, and without one, no sweeper"
    )

    ingest_feedback_rate: float = Field(
        default=20.0,
        ge=0,
        le=10_000,
        description="dead letters told to each publisher on its feedback topic `ioc/feedback/v1/<id>`, at most"
        " this many a second per publisher (one second's worth at once); beyond, dropped and counted"
        " (`ioc_ingest_feedback_dropped_total`); 0: no feedback",
    )
    ingest_feedback_queue_max: int = Field(
        default=1000,
        ge=1,
        le=1_000_000,
        description="feedback messages the ingest's broker client holds unacknowledged at most; beyond, dropped"
        " and counted: feedback never holds up the stream",
    )
    # Mosquitto 2.0.11 does not restore shared subscriptions from its persistence after a restart
    # (measured: what publishers sent between the restart and the ingest's reconnect was
    # acknowledged to them and dropped); plain ones it restores. Hence plain by default.
    ingest_shared_group: str = Field(
        default="",
        description="shared-subscription group of the ingest processes; empty subscribes plainly (one process;"
        " survives a Mosquitto restart), `ioc ingest --workers N` uses `ingest`",
    )
    ingest_stream_retain_seconds: float = Field(
        default=60.0,
        ge=1,
        le=3600,
        description="seconds of committed batches the stored-events stream keeps for the engine (further behind,"
        " it rebuilds from the database)",
    )
    ingest_batch_max_rows: int = Field(default=2000, ge=1, le=100_000, description="batch size limit")
    ingest_flush_interval_seconds: float = Field(
        default=0.02,
        gt=0,
        le=10,
        description="batch time limit after its first message (0.05 doubled p50 and quadrupled p99 latency in"
        " the benchmark)",
    )
    ingest_queue_max_messages: int = Field(
        default=20_000, ge=100, description="most messages one process holds while the database is down"
    )
    ingest_resend_horizon_days: int = Field(
        default=7,
        ge=7,
        le=90,
        description="how long (days of arrival) an event id is remembered: a re-send within it is stored once"
        " if its fields are equal, else it is a dead letter `conflicting_duplicate`",
    )
    ingest_resend_check: bool = Field(
        default=True,
        description="false only to measure what the re-send check costs (`ioc bench ingest` does); never in production",
    )
    ingest_retention_check_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="how often ingest applies the retention: drops event chunks and dead letters older than it,"
        " and forgets event ids past the re-send horizon",
    )
    ingest_registry_refresh_seconds: float = Field(
        default=5.0,
        gt=0,
        description="how often ingest reloads its copy of the areas and publishers (and at once on a miss)",
    )
    ingest_retained_sweep_seconds: float = Field(
        default=30.0,
        ge=1,
        le=60,
        description="seconds between two sweeps for retained event messages (one also at start): a retained"
        " event stays on the broker at most about this long",
    )
    # The local spool (ingest.storage.spool): batches the database could not take are fsynced to
    # local disk and then acknowledged, so the broker holds no backlog a crash could lose.
    ingest_spool_dir: Path | None = Field(
        default=None,
        description="where each ingest process keeps, in a folder named after its MQTT account, the batches the"
        " database could not take ([the spool](ingest.md#the-spool)); unset: `$IOC_HOME/spool`; a volume of"
        " its own in containers",
    )
    ingest_spool_max_bytes: int = Field(
        default=2 * 1024**3,
        ge=0,
        description="most bytes one process's spool holds; past it the broker holds the rest unacknowledged, as"
        " without a spool; 0 turns the spool off",
    )
    ingest_spool_after_seconds: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="how long a failing database is retried before batches go to the spool",
    )
    ingest_health_port: int = Field(
        default=18081,
        description="health and metrics of the (first) ingest process (`--workers N`: the next ones count up)",
    )
    # Loopback on a machine, all interfaces in a container: a kubelet or compose probe comes from
    # outside the process's loopback.
    ingest_health_host: str = Field(
        default="127.0.0.1",
        description="where the health and metrics server listens (0.0.0.0 in the container image, for probes)",
    )
