"""One receiver's delivery loop: claim due outbox rows, post them in order, record each outcome.

Stop contract: `stop` (any thread) ends the loop after the attempt in flight, which the request timeout
bounds; rows claimed but not attempted are released at once for the next notifier. A receiver that is
down (refused, timed out, 5xx) costs one attempt per backoff step, not one per row: the rest of the
batch waits as long as the row that failed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import httpx
import psycopg

from notify.backoff import RetryPolicy
from notify.metrics import NotifyMetrics
from notify.outbox import OutboxRepository
from notify.receivers import Receiver
from notify.sources import Connection, NotificationSource

log = logging.getLogger("ioc.notify")


class Dispatcher:
    def __init__(
        self,
        connect: Callable[[], Connection],
        receiver: Receiver,
        *,
        retry: RetryPolicy,
        batch_size: int,
        poll_seconds: float,
        request_timeout_seconds: float,
        metrics: NotifyMetrics,
        stopping: threading.Event,
        refresh_from: list[NotificationSource] | None = None,
        refresh_seconds: float = 60.0,
    ) -> None:
        self._connect = connect
        self._receiver = receiver
        self._retry = retry
        self._batch_size = batch_size
        self._poll = poll_seconds
        # A claim outlives the batch's worst case (every request timing out), so no replica takes a row
        # this one is still attempting.
        self._lease = batch_size * (request_timeout_seconds + 1) + 30
        self._metrics = metrics
        self._stopping = stopping
        self._refresh_from = refresh_from or []
        self._refresh_seconds = refresh_seconds
        self._next_refresh = 0.0
        self._refresh_failures = 0
        self._conn: Connection | None = None
        self.last_error = ""

    @property
    def name(self) -> str:
        return self._receiver.name

    def run(self) -> None:
        try:
            while not self._stopping.is_set():
                busy = False
                try:
                    busy = self.deliver_due()
                    self._refresh_if_due()
                except psycopg.Error as exc:
                    self.last_error = f"database: {type(exc).__name__}"
                    log.warning("notify %s: %s; retrying", self.name, exc)
                    self._close()
                except Exception as exc:  # a bug must not silently end this receiver's deliveries
                    self.last_error = f"{type(exc).__name__}: {exc}"[:200]
                    log.exception("notify %s: delivering failed; retrying", self.name)
                    self._close()
                if not busy:
                    self._stopping.wait(self._poll)
        finally:
            self._close()

    def deliver_due(self) -> bool:
        """Delivers one batch; True when it was full (more may be due at once)."""
        outbox = OutboxRepository(self._connection())
        claimed = outbox.claim(self._receiver.name, self._batch_size, self._lease)
        if self.last_error.startswith("database:"):
            self.last_error = ""  # the database answers again
        for index, row in enumerate(claimed):
            if self._stopping.is_set():
                outbox.postpone([r.id for r in claimed[index:]], 0)
                return False
            outcome = self._receiver.deliver(row)
            self._metrics.attempts.labels(self._receiver.name, outcome.kind).inc()
            if outcome.kind == "delivered":
                outbox.delivered(row.id)
                self.last_error = ""
                continue
            self.last_error = f"{row.key}: {outcome.detail}"[:200]
            delay = None if outcome.kind == "refused" else self._retry.delay(row.attempts + 1)
            state = outbox.failed_attempt(row.id, outcome.detail, delay, self._retry.retry_for_seconds)
            log.warning("notify %s: %s %s: %s (now %s)", self.name, row.key, outcome.kind, outcome.detail, state)
            if state == "failed":
                self._metrics.failed.labels(self._receiver.name).inc()
            if outcome.receiver_down:
                outbox.postpone([r.id for r in claimed[index + 1 :]], delay or 0)
                return False
        return len(claimed) == self._batch_size

    def _refresh_if_due(self) -> None:
        if not self._refresh_from or time.monotonic() < self._next_refresh:
            return
        conn = self._connection()
        firing = [n for source in self._refresh_from for n in source.firing(conn)]
        try:
            for start in range(0, len(firing), self._batch_size):
                self._receiver.refresh(firing[start : start + self._batch_size])
        except httpx.HTTPError as exc:
            log.warning("notify %s: re-posting %d open alerts failed: %s", self.name, len(firing), exc)
            self.last_error = f"re-post: {exc}"[:200]
            # Again sooner than the interval (its alerts are expiring), backing off as deliveries do.
            self._refresh_failures += 1
            delay = min(self._retry.delay(self._refresh_failures), self._refresh_seconds)
            self._next_refresh = time.monotonic() + delay
            return
        if self._refresh_failures:
            self._refresh_failures, self.last_error = 0, ""
        self._metrics.reposted.labels(self._receiver.name).inc(len(firing))
        self._next_refresh = time.monotonic() + self._refresh_seconds

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
        return self._conn

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
