"""The notifier: sources write the outbox, one dispatcher per receiver delivers it.

Stop contract: `stop()` (safe from a signal handler) ends the source loop after its current read and
each dispatcher after its attempt in flight (bounded by the request timeout); `run()` returns once every
thread has ended. Whatever was not delivered stays in the outbox for the next start, or for a replica.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import psycopg

from notify.dispatcher import Dispatcher
from notify.metrics import NotifyMetrics
from notify.outbox import OutboxRepository
from notify.sources import Connection, NotificationSource
from runtime.health import HealthState

log = logging.getLogger("ioc.notify")


@dataclass(frozen=True, slots=True)
class NotifyHealth:
    status: HealthState
    receivers: dict[str, str] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"status": self.status, "receivers": self.receivers, "reasons": self.reasons}


class Notifier:
    def __init__(
        self,
        connect: Callable[[], Connection],
        sources: Sequence[NotificationSource],
        dispatchers: Callable[[threading.Event], Sequence[Dispatcher]],
        *,
        poll_seconds: float,
        batch_size: int,
        metrics: NotifyMetrics,
    ) -> None:
        self._connect = connect
        self._sources = list(sources)
        self._stopping = threading.Event()
        self._dispatchers = list(dispatchers(self._stopping))
        self._poll = poll_seconds
        self._batch_size = batch_size
        self.metrics = metrics
        self._last_read = 0.0
        self._last_error = ""

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        threads = [threading.Thread(target=d.run, name=f"notify-{d.name}", daemon=True) for d in self._dispatchers]
        for thread in threads:
            thread.start()
        conn: Connection | None = None
        try:
            while not self._stopping.is_set():
                try:
                    if conn is None or conn.closed:
                        conn = self._connect()
                    more = self.read_sources(conn)
                    self._last_read, self._last_error = time.monotonic(), ""
                except psycopg.Error as exc:
                    self._last_error = f"database: {type(exc).__name__}"
                    log.warning("notify: reading the sources failed: %s; retrying", exc)
                    if conn is not None:
                        conn.close()
                    conn = None
                    more = False
                if not more:
                    self._stopping.wait(self._poll)
        finally:
            self._stopping.set()
            for thread in threads:
                thread.join()
            if conn is not None:
                conn.close()
            log.info("notify: stopped")

    def read_sources(self, conn: Connection) -> bool:
        """Writes what each source has new, for every receiver, in one transaction; True when a source
        had a full batch (more may be waiting)."""
        receivers = [d.name for d in self._dispatchers]
        full = False
        with conn.transaction():
            for source in self._sources:
                found = source.pending(conn, self._batch_size)
                self.metrics.written.inc(OutboxRepository(conn).write(found, receivers))
                full = full or len(found) >= self._batch_size
        return full

    def health(self) -> NotifyHealth:
        reasons = []
        if self._last_error:
            reasons.append(self._last_error)
        elif time.monotonic() - self._last_read > 3 * self._poll + 10:
            reasons.append("the sources have not been read lately")
        receivers = {d.name: (d.last_error or "ok") for d in self._dispatchers}
        return NotifyHealth("down" if reasons else "ok", receivers, reasons)
