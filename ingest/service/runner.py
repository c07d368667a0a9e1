"""The ingest loop: read messages, store a batch in one transaction, then acknowledge it.

One thread does everything, in order: poll the broker connection (which hands messages over to
`_pending`), and when a batch is full or its first message is `flush_interval` old, classify it,
write it, commit, acknowledge. `_pending` is bounded twice: the loop stops reading once a batch
is full, and the broker sends no more than its `max_inflight_messages` unacknowledged; while the
database is down we keep the connection alive but read nothing past `queue_max_messages`, and
once it has been down for `spool_after_seconds` batches go to the local spool, are acknowledged,
and come back to the database when it does (ingest.service.spooler).

Stop contract (`stop()`, safe from a signal handler): close intake → commit and acknowledge what
was received → make sure the broker has the acknowledgements → disconnect → close the database
connection. What could not be committed within `shutdown_grace_seconds` stays unacknowledged and
the broker delivers it again later.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import psycopg

from ingest.mqtt.source import MqttSource, MqttSourceConfig
from ingest.records import AcceptedEvent, RawMessage
from ingest.registry.snapshot import RegistryCache, load_snapshot
from ingest.service.classify import IntakeRules, MessageClassifier
from ingest.service.feedback import FeedbackSender
from ingest.service.heard_from import HeardFrom
from ingest.service.metrics import IngestMetrics
from ingest.service.retention import apply_retention_once
from ingest.service.spooler import Spooler
from ingest.service.store import BatchStore
from ingest.service.stored_events_publisher import StoredEventsPublisher
from ingest.settings import IngestSettings
from ingest.storage.batch_writer import BatchOutcome
from ingest.storage.spool import Spool
from runtime.health import HealthState, IngestHealth
from runtime.tls import mqtt_client_context

log = logging.getLogger(__name__)

Connect = Callable[[], psycopg.Connection[tuple[object, ...]]]

DEFAULT_SHARED_GROUP = "ingest"
_EVENTS_FILTER = "ioc/v1/#"


def subscription_filter(shared_group: str) -> str:
    return f"$share/{shared_group}/{_EVENTS_FILTER}" if shared_group else _EVENTS_FILTER


def source_config(settings: IngestSettings) -> MqttSourceConfig:
    password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else ""
    return MqttSourceConfig(
        host=settings.mqtt_host,
        port=settings.mqtt_port,
        username=settings.mqtt_username,
        password=password,
        subscription=subscription_filter(settings.ingest_shared_group),
        max_outgoing=settings.ingest_feedback_queue_max,
        stale_subscription=subscription_filter("" if settings.ingest_shared_group else DEFAULT_SHARED_GROUP),
        keepalive_seconds=settings.mqtt_keepalive_seconds,
        tls=mqtt_client_context(settings),
    )


class IngestService:
    def __init__(
        self,
        settings: IngestSettings,
        connect: Connect,
        *,
        metrics: IngestMetrics | None = None,
        stored_events: StoredEventsPublisher | None = None,
        spool: Spool | None = None,
        clock: Callable[[], float] = time.monotonic,
        shutdown_grace_seconds: float = 10.0,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._grace = shutdown_grace_seconds
        self.metrics = metrics or IngestMetrics()
        self._pending: list[RawMessage] = []
        self._source = MqttSource(source_config(settings), self._receive)
        self._store = BatchStore(connect, self.metrics, wait=self._wait, resend_check=settings.ingest_resend_check)
        self._registry = RegistryCache(
            lambda: load_snapshot(self._store.connection()), clock, settings.ingest_registry_refresh_seconds
        )
        self._classifier = MessageClassifier(self._registry, IntakeRules.from_settings(settings))
        self._heard_from = HeardFrom(clock)
        self._spooler = Spooler(spool, self._store, self.metrics, settings.ingest_spool_after_seconds)
        self._feedback = FeedbackSender(self._source.publish, self.metrics, settings.ingest_feedback_rate)
        # After the acknowledgements, so that Redis never delays them; None: no KPI engine to feed.
        self._stored_events = stored_events
        self._stopping = threading.Event()
        self._connected = threading.Event()
        self._inflight_since: float | None = None
        self._next_retention = clock()
        self._next_ping = clock()

    # --- lifecycle -------------------------------------------------------------------------------

    def run(self) -> None:
        """Blocks until `stop()`; then shuts down in order (see the module docstring)."""
        self._source.start()
        try:
            while not self._stopping.is_set():
                self._poll_until_batch_due()
                batch = self._take_batch()
                if batch:
                    self._commit_and_ack(batch, give_up_at=None)
                self._housekeeping()
                self._drain()
        finally:
            self._shutdown()

    def stop(self) -> None:
        self._stopping.set()

    def wait_connected(self, timeout_seconds: float) -> bool:
        return self._connected.wait(timeout_seconds)

    def health(self) -> IngestHealth:
        reasons: list[str] = []
        database = self._store.state
        if database != "ok":
            reasons.append(f"database: {self._store.last_error}")
        broker: HealthState = "ok" if self._source.connected else "down"
        if broker != "ok":
            reasons.append("broker: not connected, reconnecting")
        if waiting := self._spooler.waiting:
            reasons.append(f"spool: {waiting} acknowledged messages on local disk, not yet in the database")
        status: HealthState = "ok" if not reasons else "degraded"
        return IngestHealth(status=status, database=database, broker=broker, reasons=reasons)

    # --- the loop --------------------------------------------------------------------------------

    def _poll_until_batch_due(self) -> None:
        max_rows = self._settings.ingest_batch_max_rows
        interval = self._settings.ingest_flush_interval_seconds
        while not self._stopping.is_set() and len(self._pending) < max_rows:
            if self._pending:
                remaining = self._pending[0].received_monotonic + interval - time.monotonic()
                if remaining <= 0:
                    return
                self._poll(remaining)
            else:
                self._poll(0.0 if self._spooler.draining else 0.2)  # idle: drain the spool at full speed
                self._note_connection()
                if not self._pending:
                    return  # idle: let housekeeping run

    def _poll(self, timeout_seconds: float) -> None:
        received = self._source.poll(timeout_seconds)
        if received:
            self.metrics.received.inc(received)

    def _receive(self, message: RawMessage) -> None:
        if not message.payload:
            # An empty message deletes a retained one (MQTT's rule): the retained sweeper sends them, a
            # publisher may clear its status so. It is no event and no mistake: acknowledged, counted.
            self.metrics.empty_messages.inc()
            if self._source.ack(message):
                self.metrics.acknowledged.inc()
            return
        self._pending.append(message)

    def _take_batch(self) -> list[RawMessage]:
        max_rows = self._settings.ingest_batch_max_rows
        batch = self._pending[:max_rows]
        del self._pending[:max_rows]
        return batch

    def _wait(self, seconds: float) -> None:
        """How the store sleeps between retries: keep the broker connection alive meanwhile."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            if len(self._pending) < self._settings.ingest_queue_max_messages and not self._stopping.is_set():
                self._poll(min(remaining, 0.5))
            else:
                # Full (or stopping): read nothing more, the broker keeps the rest; keep the session alive.
                time.sleep(min(remaining, 0.5))
                self._source.keep_alive()

    def _commit_and_ack(self, batch: list[RawMessage], give_up_at: float | None) -> bool:
        self._inflight_since = batch[0].received_monotonic
        self._update_gauges()
        try:
            if self._spooler.spooling() and self._spooler.keep(batch):
                self._ack(batch)
                return True
            outcome = self._store_batch(batch, give_up_at, self._spooler.spill_at())
            if outcome is None and (give_up_at is not None or not self._stopping.is_set()):
                if self._spooler.keep(batch):  # the database failed for spool_after_seconds
                    self._ack(batch)
                    return True
                if not self._stopping.is_set():  # no room on disk: the broker holds them, as without a spool
                    outcome = self._store_batch(batch, give_up_at, None)
            if outcome is None and give_up_at is None:
                self._pending[:0] = batch  # interrupted by stop(): the shutdown path tries it again
            if outcome is None:
                return False
            self._ack(batch)
            self._publish(outcome)
            return True
        finally:
            self._inflight_since = None

    def _store_batch(
        self, batch: list[RawMessage], give_up_at: float | None, spill_at: float | None
    ) -> BatchOutcome | None:
        # Classifying reads the registry, which may need the database: retried like the write.
        stopping = self._stopping
        classified = self._store.retry(lambda: self._classifier.classify_batch(batch), stopping, give_up_at, spill_at)
        if classified is None:
            outcome = None
        else:
            outcome = self._store.write_with_retry(classified, stopping, give_up_at, spill_at)
        if outcome is not None and classified is not None:
            heard = self._heard_from.due(i.publisher_id for i in classified if isinstance(i, AcceptedEvent))
            self._heard_from.write(self._store.connection, heard)
        if self._stored_events is not None and self._store.outcome_uncertain:
            self._stored_events.mark_gap()  # a failed attempt may have committed rows we never saw
            self._store.outcome_uncertain = False
        return outcome

    def _ack(self, batch: list[RawMessage]) -> None:
        acked = sum(1 for m in batch if self._source.ack(m))
        self._source.flush()
        self.metrics.acknowledged.inc(acked)
        if acked < len(batch):
            # Stored or spooled, they are safe: the broker's resend (if its last save had them) is a duplicate.
            log.info("%d messages came on an earlier connection; the broker may send them again", len(batch) - acked)

    def _publish(self, outcome: BatchOutcome) -> None:
        # Feedback first: a publisher hears within a second, written by the loop's next flush.
        self._feedback.send(outcome.dead_letters)
        if self._stored_events is not None and outcome.records:
            self._stored_events.publish(outcome.records, outcome.transaction_ids)

    def _drain(self) -> None:
        """Spooled files into the database, about a batch's worth, when it is back; one attempt (on
        failure they stay on disk for the next turn)."""
        files = self._spooler.next_to_drain(self._settings.ingest_batch_max_rows)
        if not files:
            return
        outcome = self._store_batch([m for f in files for m in f.messages], None, spill_at=time.monotonic())
        if outcome is not None:
            self._spooler.drained(files)
            self._publish(outcome)

    def _note_connection(self) -> None:
        if self._source.connected:
            self._connected.set()
        else:
            self._connected.clear()

    def _housekeeping(self) -> None:
        now = self._clock()
        self._note_connection()
        self._update_gauges()
        if now >= self._next_ping:
            self._next_ping = now + 2.0
            self._store.ping()
        if now >= self._next_retention and self._store.state == "ok":
            self._next_retention = now + self._settings.ingest_retention_check_seconds
            apply_retention_once(
                self._store,
                timedelta(days=self._settings.ingest_retention_days),
                timedelta(days=self._settings.ingest_resend_horizon_days),
            )

    def _update_gauges(self) -> None:
        self.metrics.queue_depth.set(len(self._pending))
        self.metrics.broker_connected.set(1 if self._source.connected else 0)
        oldest = self._inflight_since
        if oldest is None and self._pending:
            oldest = self._pending[0].received_monotonic
        self.metrics.oldest_unacked_seconds.set(0 if oldest is None else time.monotonic() - oldest)
        self._spooler.update_gauges()

    def _shutdown(self) -> None:
        self._source.close_intake()
        give_up_at = self._clock() + self._grace
        try:
            while self._pending and self._clock() < give_up_at:
                if not self._commit_and_ack(self._take_batch(), give_up_at):
                    break
        finally:
            self._source.stop()
            self._store.close()
            self._spooler.close()
            if self._stored_events is not None:
                self._stored_events.close()
        log.info("ingest stopped")
