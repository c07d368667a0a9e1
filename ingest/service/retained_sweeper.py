"""Deletes retained event messages from the broker within a minute, counting each for its publisher.

The broker keeps the last retained message of every topic and hands it to every new subscription.
Mosquitto cannot refuse the retain flag per topic (`retain_available` is global, and the status
topics need it), so a publisher could leave retained events behind: 200 of 200 KB made the broker
grow from 13 to 47 MB for good and re-deliver all of them at every ingest restart. A retained event
is processed once like any other message (the ingest's subscription receives it live, retain=0 on
MQTT 3.1.1), and its retained copy is deleted here; only status topics keep a retained message, one
per publisher, as the contract says. Each deletion counts in `ioc_ingest_retained_cleared` and in the
publisher's record (`retained_cleared`, `retained_cleared_at`).

Every ingest process runs one (one sweep at start, then every `ingest_retained_sweep_seconds`).
A sweep holds a PostgreSQL advisory lock in the transaction that records it, so with several replicas
one sweeps at a time (the sweeper account's connection is never taken over by another) and each
deletion is counted once; the others skip that turn.

Stop contract: `stop()` (safe from any thread) sets the stop flag and waits for the thread; a sweep
in progress gives up at its next step, and what it already deleted is recorded before it returns.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable

import psycopg

from ingest.broker.control import BrokerEndpoint
from ingest.contract.topics import is_status_topic, sender_of
from ingest.mqtt.retained import SweepFailed, SweepResult, sweep_retained
from ingest.registry.publishers import PublisherRepository
from ingest.service.metrics import IngestMetrics
from ingest.settings import IngestSettings

log = logging.getLogger(__name__)

Connect = Callable[[], psycopg.Connection[tuple[object, ...]]]

EVENTS_FILTER = "ioc/v1/#"
# Shared by every ingest process of a deployment: the one that takes it sweeps.
SWEEP_LOCK_KEY = 0x10C_D0_0003


class RetainedSweeper:
    def __init__(
        self,
        endpoint: BrokerEndpoint,
        connect: Connect,
        metrics: IngestMetrics,
        interval_seconds: float,
        sweep_timeout_seconds: float = 20.0,
    ) -> None:
        self._endpoint = endpoint
        self._connect = connect
        self._metrics = metrics
        self._interval = interval_seconds
        self._timeout = sweep_timeout_seconds
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retained-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_seconds: float = 10.0) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout_seconds)

    def sweep_once(self) -> SweepResult | None:
        """One sweep; None when another process holds the turn. Raises SweepFailed or psycopg.Error."""
        with self._connect() as conn, conn.transaction():
            locked = conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (SWEEP_LOCK_KEY,)).fetchone()
            if not locked or not locked[0]:
                return None
            result = sweep_retained(self._endpoint, EVENTS_FILTER, _is_event, self._timeout, self._stopping)
            per_publisher = Counter(p for p in map(sender_of, result.cleared) if p is not None)
            PublisherRepository(conn).count_retained_cleared(dict(per_publisher))
        self._metrics.retained_cleared.inc(len(result.cleared))
        if result.cleared or result.refused:
            most = ", ".join(f"{p} {n}" for p, n in per_publisher.most_common(5))
            log.info("retained events deleted: %d (%s); refused: %d", len(result.cleared), most, len(result.refused))
        return result

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.sweep_once()
            except (SweepFailed, psycopg.Error) as exc:
                if not self._stopping.is_set():
                    self._metrics.retained_sweep_failures.inc()
                    log.warning("retained sweep skipped (%s); next in %.0f s", exc, self._interval)
            self._stopping.wait(self._interval)


def _is_event(topic: str) -> bool:
    return not is_status_topic(topic)


def retained_sweeper(settings: IngestSettings, connect: Connect, metrics: IngestMetrics) -> RetainedSweeper | None:
    """The sweeper of an ingest process; None (and a warning) without the sweeper account's password."""
    if settings.mqtt_sweeper_password is None or not settings.mqtt_sweeper_password.get_secret_value():
        log.warning("no retained sweeper: IOC_MQTT_SWEEPER_PASSWORD is not set; retained events stay on the broker")
        return None
    endpoint = BrokerEndpoint.of(settings, settings.mqtt_sweeper_username, settings.mqtt_sweeper_password)
    return RetainedSweeper(endpoint, connect, metrics, settings.ingest_retained_sweep_seconds)
