"""The ingest loop: take raw messages off a bounded queue, store a batch in one transaction, then ack.

Threads: paho's network thread only enqueues (`MqttSource` → `_enqueue`); this loop, on the
thread that calls `run()`, does everything else. The queue is bounded, and the broker never has
more unacknowledged messages in flight to us than the queue holds (MQTT 5 Receive Maximum), so
intake pauses by itself while the database is down: nothing is acknowledged until it committed.

Stop contract (`stop()`, called from a SIGTERM handler): close intake → drain the queue → final
commit → acknowledge → disconnect → close the database connection. What could not be committed
within `shutdown_grace_seconds` stays unacknowledged and the broker delivers it again later.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import psycopg

from deploy.settings import Settings
from ingest.mqtt.source import MqttSource, MqttSourceConfig
from ingest.records import RawMessage
from ingest.registry.snapshot import RegistryCache, load_snapshot
from ingest.service.classify import MessageClassifier
from ingest.service.health import HealthState, IngestHealth
from ingest.service.metrics import IngestMetrics
from ingest.service.retention import apply_retention
from ingest.service.store import BatchStore

log = logging.getLogger(__name__)

Connect = Callable[[], psycopg.Connection[tuple[object, ...]]]


def source_config(settings: Settings) -> MqttSourceConfig:
    password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else ""
    return MqttSourceConfig(
        host=settings.mqtt_host,
        port=settings.mqtt_port,
        username=settings.mqtt_username,
        password=password,
        subscription=f"$share/{settings.ingest_shared_group}/ioc/v1/#",
        keepalive_seconds=settings.mqtt_keepalive_seconds,
        session_expiry_seconds=settings.ingest_session_expiry_seconds,
        receive_maximum=min(65_535, settings.ingest_queue_max_messages),
    )


class IngestService:
    def __init__(
        self,
        settings: Settings,
        connect: Connect,
        *,
        metrics: IngestMetrics | None = None,
        clock: Callable[[], float] = time.monotonic,
        shutdown_grace_seconds: float = 10.0,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._grace = shutdown_grace_seconds
        self.metrics = metrics or IngestMetrics()
        self._queue: queue.Queue[RawMessage] = queue.Queue(maxsize=settings.ingest_queue_max_messages)
        self._source = MqttSource(source_config(settings), self._enqueue)
        self._store = BatchStore(connect, self.metrics)
        self._registry = RegistryCache(
            lambda: load_snapshot(self._store.connection()), clock, settings.ingest_registry_refresh_seconds
        )
        self._classifier = MessageClassifier(
            self._registry,
            timedelta(seconds=settings.ingest_max_future_skew_seconds),
            settings.ingest_max_payload_bytes,
        )
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._inflight_since: float | None = None
        self._next_retention = clock()
        self._next_ping = clock()

    # --- lifecycle -------------------------------------------------------------------------------

    def run(self) -> None:
        """Blocks until `stop()`; then shuts down in order (see the module docstring)."""
        self._source.start()
        try:
            while not self._stopping.is_set():
                batch = self._collect_batch(self._settings.ingest_batch_max_rows)
                if batch:
                    self._commit_and_ack(batch, give_up_at=None)
                self._housekeeping()
        finally:
            self._shutdown()
            self._stopped.set()

    def stop(self) -> None:
        self._stopping.set()

    def wait_stopped(self, timeout_seconds: float) -> bool:
        return self._stopped.wait(timeout_seconds)

    def wait_connected(self, timeout_seconds: float) -> bool:
        return self._source.wait_connected(timeout_seconds)

    def health(self) -> IngestHealth:
        reasons: list[str] = []
        database = self._store.state
        if database != "ok":
            reasons.append(f"database: {self._store.last_error}")
        broker: HealthState = "ok" if self._source.connected else "down"
        if broker != "ok":
            reasons.append("broker: not connected, reconnecting")
        status: HealthState = "ok" if not reasons else "degraded"
        return IngestHealth(status=status, database=database, broker=broker, reasons=reasons)

    # --- the loop --------------------------------------------------------------------------------

    def _enqueue(self, message: RawMessage) -> None:
        self.metrics.received.inc()
        # Blocks only if the broker ignored our Receive Maximum; the back-pressure then reaches TCP.
        self._queue.put(message)

    def _collect_batch(self, max_rows: int) -> list[RawMessage]:
        """Up to `max_rows` messages, waiting at most the flush interval after the first one."""
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = first.received_monotonic + self._settings.ingest_flush_interval_seconds
        while len(batch) < max_rows:
            try:
                batch.append(self._queue.get_nowait())
                continue
            except queue.Empty:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                break
        return batch

    def _commit_and_ack(self, batch: list[RawMessage], give_up_at: float | None) -> bool:
        self._inflight_since = batch[0].received_monotonic
        self._update_gauges()
        # Classifying reads the registry, which may need the database: retried like the write.
        classified = self._store.retry(lambda: self._classifier.classify_batch(batch), self._stopping, give_up_at)
        committed = classified is not None and self._store.write_with_retry(classified, self._stopping, give_up_at)
        if committed:
            acked = sum(1 for m in batch if self._source.ack(m))
            self.metrics.acknowledged.inc(acked)
            if acked < len(batch):
                log.info(
                    "%d stored messages arrived on an earlier connection; the broker resends them",
                    len(batch) - acked,
                )
        self._inflight_since = None
        return committed

    def _housekeeping(self) -> None:
        now = self._clock()
        self._update_gauges()
        if now >= self._next_ping:
            self._next_ping = now + 2.0
            self._store.ping()
        if now >= self._next_retention and self._store.state == "ok":
            self._next_retention = now + self._settings.ingest_retention_check_seconds
            keep = timedelta(days=self._settings.ingest_retention_days)
            self._store.retry(lambda: apply_retention(self._store.connection(), keep), self._stopping, None)

    def _update_gauges(self) -> None:
        self.metrics.queue_depth.set(self._queue.qsize())
        self.metrics.broker_connected.set(1 if self._source.connected else 0)
        oldest = self._inflight_since
        if oldest is None:
            with self._queue.mutex:
                oldest = self._queue.queue[0].received_monotonic if self._queue.queue else None
        self.metrics.oldest_unacked_seconds.set(0 if oldest is None else time.monotonic() - oldest)

    def _shutdown(self) -> None:
        self._source.close_intake()
        give_up_at = self._clock() + self._grace
        while not self._queue.empty() and self._clock() < give_up_at:
            batch = self._collect_batch(self._settings.ingest_batch_max_rows)
            if batch and not self._commit_and_ack(batch, give_up_at):
                break
        self._source.stop()
        self._store.close()
        log.info("ingest stopped")
