"""The KPI engine's composition root (`ioc streams`): stored events in, KPI frames out."""

from __future__ import annotations

import logging
import os
import socket

import redis

from runtime.database import service_connector
from runtime.health import HealthServer
from runtime.process import stop_on_signals, tune_garbage_collection
from streams.alerts.incidents import IncidentPolicy
from streams.catalog import CATALOG
from streams.engine.config import EngineConfig
from streams.engine.frame_sink import FrameSink
from streams.engine.history_writer import HistoryWriter
from streams.engine.lease import Lease, LeaseKeeper, RedisLeaseStore
from streams.engine.runner import KpiEngine
from streams.engine.source import StoredEventsSource
from streams.rulebook import RulebookWatch
from streams.settings import StreamsSettings

log = logging.getLogger("ioc.streams")


def run(settings: StreamsSettings) -> int:
    """Runs until SIGTERM or SIGINT; `settings` has its connections resolved."""
    assert settings.redis_url is not None
    connect = service_connector(settings)
    rulebook_watch = RulebookWatch(k.id for k in CATALOG.kpis)
    with connect() as conn:
        rulebook = rulebook_watch.read(conn)
    # Reads block for at most the coalescing interval; a longer socket timeout means Redis is gone.
    # No retries inside the client: a read or a frame transaction sent twice would lose or repeat
    # entries, while an error makes the engine rebuild and start a new epoch.
    client = redis.Redis.from_url(
        settings.redis_url.get_secret_value(), socket_timeout=5, socket_connect_timeout=2, retry=None
    )
    # Two engines run, one active (docs/kpi-engine.md#active-and-standby); its own client, so that a
    # renewal never waits behind the engine's blocking reads.
    lease_client = redis.Redis.from_url(
        settings.redis_url.get_secret_value(),
        socket_timeout=settings.streams_lease_ttl_seconds,
        socket_connect_timeout=settings.streams_lease_ttl_seconds,
        retry=None,
    )
    keeper = LeaseKeeper(
        Lease(
            RedisLeaseStore(lease_client),
            f"{socket.gethostname()}-{os.getpid()}",
            ttl_seconds=settings.streams_lease_ttl_seconds,
            renew_seconds=settings.streams_lease_renew_seconds,
        )
    )
    sink = FrameSink(client, replay_seconds=settings.streams_replay_seconds)
    engine = KpiEngine(
        connect,
        StoredEventsSource(client, settings.streams_consumer),
        sink,
        CATALOG,
        rulebook.targets,
        config=EngineConfig(
            coalesce_seconds=settings.streams_coalesce_seconds,
            long_window_coalesce_seconds=settings.streams_long_window_coalesce_seconds,
            read_count=settings.streams_read_count,
            dossier_horizon_days=settings.streams_dossier_horizon_days,
            silent_after_seconds=settings.streams_silent_after_seconds,
            onboarding_grace_seconds=settings.streams_onboarding_grace_seconds,
            alert_flap_seconds=settings.streams_alert_flap_seconds,
        ),
        history=lambda metrics: HistoryWriter(
            connect,
            metrics,
            interval_seconds=settings.streams_history_seconds,
            snapshot_retention_days=settings.streams_snapshot_retention_days,
            full_snapshot_minutes=settings.streams_full_snapshot_minutes,
            rulebook=rulebook_watch,
            incidents=IncidentPolicy(
                window_seconds=settings.streams_incident_window_seconds,
                escalate_after_seconds=settings.streams_incident_escalate_seconds,
            ),
            announce=sink.announce_alerts,
        ),
        alert_rules=rulebook.rules,
        lease=keeper.lease,
    )
    health = HealthServer(
        settings.streams_health_port,
        engine.health,
        engine.metrics.registry,
        host=settings.streams_health_host,
        name="streams-health",
    )

    stop_on_signals(engine.stop, log)
    health.start()
    keeper.start()
    tune_garbage_collection()
    log.info("streams engine: health and metrics on http://127.0.0.1:%d/health", health.port)
    try:
        engine.run()
    finally:
        keeper.stop()  # after the last writes: the standby takes over at once, not a time to live later
        health.stop()
        client.close()
        lease_client.close()
    return 0
