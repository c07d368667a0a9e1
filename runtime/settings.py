"""The one settings object, read from ``IOC_*`` environment variables at an entry point and passed down.

Defaults describe the local stack that ``ioc stack up`` runs (its own ports, never the machine's
standard ones); every value can be overridden to point the services at production systems.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IOC_", frozen=True, extra="ignore")

    # Local stack: data directory and ports.
    home: Path = Path(".ioc")
    pg_port: int = 15432
    mqtt_port: int = 11883
    redis_port: int = 16379
    api_port: int = 18080
    api_host: str = "127.0.0.1"  # where `ioc api` listens; put a TLS reverse proxy in front in production
    # Pages allowed to open the live websockets (the Origin header; JSON list in the environment).
    # Unset: the API's own origin, whatever its host, port and scheme (see `allowed_origins`), and
    # the public URL's when one is set; a wall served by this API is never refused its websocket.
    api_allowed_origins: list[str] | None = None
    # The address people and other systems use to reach the API (behind a proxy: its https URL).
    api_public_url: str | None = None
    # The API's operations listener: `/health` (every dependency, with reasons) and `/metrics`, for the
    # probes and Prometheus only; never routed by the proxy or the ingress. Loopback on a machine, all
    # interfaces in a container (a kubelet probe or a scrape comes from outside the process's loopback).
    api_ops_port: int = 18083
    api_ops_host: str = "127.0.0.1"
    # Kernel send buffer of each client connection (bytes; 0: the kernel's autotuning, up to 4 MB).
    # Small enough that a live client which stops reading shows as lagging within a few hundred
    # frames, and that 500 walls cannot pin gigabytes of kernel memory.
    api_send_buffer_bytes: int = Field(default=131_072, ge=0)
    # A connection that has not sent a complete request (head and body) within this long of opening, or
    # of starting its next request, is closed; at most 10 s, as the proxies do.
    api_request_read_timeout_seconds: float = Field(default=10.0, gt=0, le=10)
    # Connections `ioc api` holds at most, websockets included (unset: its open-file limit, raised to
    # the hard limit at start, less 2,560 for the listen backlog and its own files). At the bound, the
    # oldest connection still waiting for a complete request is closed to let a new one in.
    api_max_connections: int | None = Field(default=None, ge=16)
    # How often each API process asks the database whether the keys of its live websockets are still
    # current (a revocation announced through Redis closes them at once; this is for one that was not).
    api_key_recheck_seconds: float = Field(default=5.0, gt=0, le=10)

    # Connections. Empty means "the local stack in `home`" (resolved by deploy.stack.local_settings).
    database_url: SecretStr | None = None
    redis_url: SecretStr | None = None
    mqtt_host: str = "127.0.0.1"
    mqtt_username: str = "ioc-ingest"
    mqtt_password: SecretStr | None = None
    # Under a deep backlog Mosquitto sends PINGRESP behind the queued messages (tens of seconds late
    # while draining a flood: docs/performance.md#design-figures), so a short keepalive makes paho
    # drop healthy connections.
    mqtt_keepalive_seconds: int = Field(default=30, ge=2, le=600)
    # The account that manages broker accounts (`ioc publishers`, the API's admin routes) over the
    # dynamic-security plugin's control topic; only those processes need its password.
    mqtt_admin_username: str = "ioc-admin"
    mqtt_admin_password: SecretStr | None = None
    mqtt_admin_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # The account that deletes retained event messages from the broker (run by `ioc ingest`);
    # without its password ingest runs no sweeper and says so.
    mqtt_sweeper_username: str = "ioc-sweeper"
    mqtt_sweeper_password: SecretStr | None = None
    # MQTT over TLS: set the CA to turn it on for every MQTT client of the system (the certificate
    # and host name are always verified); a client certificate where the broker asks for one.
    mqtt_tls_ca_file: Path | None = None
    mqtt_tls_cert_file: Path | None = None
    mqtt_tls_key_file: Path | None = None
    # HTTPS (and WSS) served by `ioc api` itself, when both are set.
    api_tls_cert_file: Path | None = None
    api_tls_key_file: Path | None = None
    # The local stack in TLS mode (`ioc stack up --tls`): its own CA, Mosquitto and the API over TLS.
    tls: bool = False

    # Ingest.
    # Empty: one plain subscription. Mosquitto 2.0.11 does not restore shared subscriptions from
    # its persistence after a restart (measured: what publishers sent between the restart and the
    # ingest's reconnect was acknowledged to them and dropped); plain ones it restores. A group
    # spreads the stream over several processes (`ioc ingest --workers N` uses "ingest").
    ingest_shared_group: str = ""
    # Seconds of committed batches the stored-events stream keeps for the engine (further behind,
    # it rebuilds from the database).
    ingest_stream_retain_seconds: float = Field(default=60.0, ge=1, le=3600)
    ingest_batch_max_rows: int = Field(default=2000, ge=1, le=100_000)
    ingest_flush_interval_seconds: float = Field(default=0.02, gt=0, le=10)
    ingest_queue_max_messages: int = Field(default=20_000, ge=100)
    ingest_max_payload_bytes: int = Field(default=65_536, ge=1024)
    ingest_max_future_skew_seconds: float = Field(default=300.0, ge=0)
    # At least a month: an event must outlive its chunk (7 days for dossiers) plus a day, or too_old
    # would refuse everything (see `IntakeRules.oldest_kept`).
    ingest_retention_days: int = Field(default=400, ge=30)
    # An event time before this date (00:00 UTC) is a dead letter `too_old`: a clock reset to 1970 shows.
    ingest_earliest_event_date: date = Field(default=date(2020, 1, 1), ge=date(1970, 1, 1))
    # How long (days of arrival) a stored event id is remembered: a re-send within it is stored once
    # if its fields are equal, else a dead letter `conflicting_duplicate`.
    ingest_resend_horizon_days: int = Field(default=7, ge=7, le=90)
    # Off only to measure what the re-send check costs (`ioc bench ingest` does); never in production.
    ingest_resend_check: bool = True
    ingest_retention_check_seconds: float = Field(default=3600.0, gt=0)
    ingest_registry_refresh_seconds: float = Field(default=5.0, gt=0)
    # Seconds between two sweeps for retained event messages (one also at start): a retained event
    # stays on the broker at most about this long.
    ingest_retained_sweep_seconds: float = Field(default=30.0, ge=1, le=60)
    # The local spool (ingest.storage.spool): batches the database could not take for
    # `spool_after_seconds` go to files under `spool_dir/<MQTT username>` (default: `home/spool`),
    # fsynced, and are then acknowledged, so the broker holds no backlog a crash could lose. At
    # `spool_max_bytes` the spool takes no more and the broker holds the rest; 0 turns the spool off.
    ingest_spool_dir: Path | None = None
    ingest_spool_max_bytes: int = Field(default=2 * 1024**3, ge=0)
    ingest_spool_after_seconds: float = Field(default=1.0, ge=0, le=60)
    ingest_health_port: int = 18081
    # Where the health and metrics servers listen: loopback on a machine, all interfaces in a
    # container (a kubelet or compose probe comes from outside the process's loopback).
    ingest_health_host: str = "127.0.0.1"
    # Native compression of event chunks older than this (days; 0: off). Only the community edition
    # of TimescaleDB (license 'timescale') has it; on the Apache edition `ioc db migrate` skips it.
    compress_after_days: float = Field(default=7, ge=0)

    # Streams (the KPI engine).
    streams_consumer: str = "engine"
    # At most one frame per KPI, area and window per interval, however many events change it:
    # 5m, 1h and the gauges at the first, 24h and today at the second.
    streams_coalesce_seconds: float = Field(default=0.1, gt=0, le=10)
    streams_long_window_coalesce_seconds: float = Field(default=1.0, gt=0, le=60)
    streams_read_count: int = Field(default=200, ge=1, le=10_000)
    streams_replay_seconds: float = Field(default=60.0, gt=0, le=3600)
    # The first targets and alert rules, copied into the database by `ioc db migrate` while it holds
    # none (then edited through the API). None: the files shipped in streams/.
    streams_targets_file: Path | None = None
    streams_alert_rules_file: Path | None = None
    streams_health_port: int = 18082
    streams_health_host: str = "127.0.0.1"
    # How often the history writer stores the minute snapshot and re-rolls the minutes that changed.
    streams_history_seconds: float = Field(default=10.0, gt=0, le=600)
    # Minute snapshots (every value, every minute) are kept this long; rollups follow ingest's retention.
    streams_snapshot_retention_days: float = Field(default=90, gt=0)
    # portal.overdue_open counts dossiers with an event this recent (bounds the engine's memory).
    streams_dossier_horizon_days: float = Field(default=90, gt=0, le=400)
    # ops.publishers_silent: a publisher with no event nor status for this long (event time) is silent.
    streams_silent_after_seconds: float = Field(default=900, gt=0)

    def resolved_home(self) -> Path:
        return self.home.expanduser().resolve()

    def allowed_origins(self) -> list[str]:
        """The Origins allowed to open the live websockets: the setting when given, else the API's own."""
        if self.api_allowed_origins is not None:
            return list(self.api_allowed_origins)
        scheme = "https" if self.api_tls_cert_file and self.api_tls_key_file else "http"
        # Listening on every interface or on loopback, the API is reached at both loopback names.
        hosts = ["127.0.0.1", "localhost"] if self.api_host in _LOOPBACK_OR_ANY else [self.api_host]
        origins = [f"{scheme}://{_bracketed(host)}:{self.api_port}" for host in hosts]
        if self.api_public_url:
            public = urlsplit(self.api_public_url)
            origins.append(f"{public.scheme}://{public.netloc}")
        return origins


_LOOPBACK_OR_ANY = frozenset({"127.0.0.1", "localhost", "0.0.0.0", "::", "::1", ""})  # noqa: S104


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host
