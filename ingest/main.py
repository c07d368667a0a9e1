"""The ingest service's composition root (`ioc ingest`, one process): broker in, TimescaleDB out."""

from __future__ import annotations

import gc
import logging

from ingest.service.retained_sweeper import retained_sweeper
from ingest.service.runner import IngestService
from ingest.service.spooler import spool_folder
from ingest.service.stored_events_publisher import StoredEventsPublisher
from ingest.settings import IngestSettings
from ingest.storage.spool import Spool, SpoolUnavailable
from runtime.database import service_connector
from runtime.health import HealthServer
from runtime.process import stop_on_signals

log = logging.getLogger("ioc.ingest")


def run(settings: IngestSettings) -> int:
    """One ingest process until SIGTERM or SIGINT; `settings` has its connections resolved."""
    connect = service_connector(settings)
    assert settings.redis_url is not None
    stored_events = StoredEventsPublisher(
        settings.redis_url.get_secret_value(),
        producer=settings.mqtt_username,
        retain_seconds=settings.ingest_stream_retain_seconds,
    )
    service = IngestService(settings, connect, stored_events=stored_events, spool=_open_spool(settings))
    health = HealthServer(
        settings.ingest_health_port, service.health, service.metrics.registry, host=settings.ingest_health_host
    )
    # Retained event messages off the broker (its own thread and connections; stopped after intake).
    sweeper = retained_sweeper(settings, connect, service.metrics)

    stop_on_signals(service.stop, log)
    health.start()
    # Start-up objects (modules, models, the registry) never die: keep them out of the collector's
    # full passes, which otherwise cost tens of milliseconds every few seconds under load. (Ingest
    # keeps the default young passes: far fewer of them saved it no collection time, and made each
    # one longer, docs/performance.md#design-figures; see `tune_garbage_collection` for the API and
    # the engine.)
    gc.freeze()
    log.info(
        "ingest %s: broker %s:%d, health and metrics on http://%s:%d/health",
        settings.mqtt_username, settings.mqtt_host, settings.mqtt_port, settings.ingest_health_host, health.port,
    )  # fmt: skip
    if sweeper is not None:
        sweeper.start()
    try:
        service.run()
    finally:
        if sweeper is not None:
            sweeper.stop()
        health.stop()
    return 0


def _open_spool(settings: IngestSettings) -> Spool | None:
    if settings.ingest_spool_max_bytes == 0:
        log.warning("spool off (IOC_INGEST_SPOOL_MAX_BYTES=0): during a database outage the broker holds the backlog")
        return None
    spool = Spool(spool_folder(settings), settings.ingest_spool_max_bytes)
    try:
        spool.open()
    except SpoolUnavailable as exc:
        log.error("running without a spool: %s", exc)
        return None
    return spool
