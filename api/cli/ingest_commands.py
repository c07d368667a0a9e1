"""`ioc ingest [--workers N]`: the MQTT → TimescaleDB ingest service."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import subprocess
import sys
from types import FrameType
from typing import Any

from api.cli._context import service_connector, stop_on_signals, with_connections
from deploy.settings import Settings
from deploy.stack.mosquitto import INGEST_USERNAMES
from ingest.service.health import HealthServer
from ingest.service.retained_sweeper import retained_sweeper
from ingest.service.runner import DEFAULT_SHARED_GROUP, IngestService
from ingest.service.spooler import spool_folder
from ingest.service.stored_events_publisher import StoredEventsPublisher
from ingest.storage.spool import Spool, SpoolUnavailable

log = logging.getLogger("ioc.ingest")


def register(commands: Any) -> None:
    ingest = commands.add_parser("ingest", help="run the ingest service (SIGTERM stops it cleanly)")
    ingest.add_argument(
        "--workers", type=int, default=1,
        help="processes sharing the stream through the MQTT shared subscription (each its own account)",
    )  # fmt: skip
    ingest.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.workers > 1:
        return _run_workers(args.workers, settings)
    return run_one(with_connections(settings))


def run_one(settings: Settings) -> int:
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


def _open_spool(settings: Settings) -> Spool | None:
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


def _run_workers(count: int, settings: Settings) -> int:
    """Start `count` single-process ingesters, forward SIGTERM/SIGINT to them, wait for all."""
    if count > len(INGEST_USERNAMES):
        print(f"ioc ingest: at most {len(INGEST_USERNAMES)} workers (one broker account each)", file=sys.stderr)
        return 2
    children: list[subprocess.Popen[bytes]] = []
    for index in range(count):
        env = {
            **os.environ,
            "IOC_MQTT_USERNAME": INGEST_USERNAMES[index],
            "IOC_INGEST_HEALTH_PORT": str(settings.ingest_health_port + index),
            "IOC_INGEST_SHARED_GROUP": settings.ingest_shared_group or DEFAULT_SHARED_GROUP,
        }
        children.append(subprocess.Popen([sys.executable, "-m", "api.cli", "ingest"], env=env))

    def forward(signum: int, frame: FrameType | None) -> None:
        for child in children:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    codes = [child.wait() for child in children]
    # A child killed by a signal reports a negative code: that is a failure too.
    return 0 if all(code == 0 for code in codes) else 1
