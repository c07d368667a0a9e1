"""When a batch goes to the spool instead of the database, and when it comes back (see ingest.storage.spool).

A database failure is retried for `after_seconds` first, as before: a connection reset around one
COMMIT should not send anything to disk. Past that, every batch goes straight to the spool until a
ping finds the database again; then the spool drains one file per turn of the ingest loop, between
live batches, so that live events are stored at once and the backlog follows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

from ingest.records import RawMessage
from ingest.service.metrics import IngestMetrics
from ingest.service.store import BatchStore
from ingest.settings import IngestSettings
from ingest.storage.spool import Spool, SpooledBatch

log = logging.getLogger(__name__)


def spool_folder(settings: IngestSettings) -> Path:
    """One folder per MQTT account: the account is also the broker session whose messages it holds."""
    return (settings.ingest_spool_dir or settings.resolved_home() / "spool") / settings.mqtt_username


class Spooler:
    def __init__(self, spool: Spool | None, store: BatchStore, metrics: IngestMetrics, after_seconds: float) -> None:
        self._spool = spool
        self._store = store
        self._metrics = metrics
        self._after = after_seconds
        self._announced = False  # the switch to the spool is logged once per outage

    @property
    def waiting(self) -> int:
        """Messages on disk, acknowledged to the broker, not yet in the database."""
        return 0 if self._spool is None else self._spool.messages

    def spill_at(self) -> float | None:
        """When a failing batch stops being retried and goes to the spool; None: there is no spool."""
        if self._spool is None:
            return None
        since = self._store.degraded_since
        return (time.monotonic() if since is None else since) + self._after

    def spooling(self) -> bool:
        """The database has been failing for long enough: send batches to disk without trying it."""
        spill_at = self.spill_at()
        return self._store.state != "ok" and spill_at is not None and time.monotonic() >= spill_at

    def keep(self, batch: Sequence[RawMessage]) -> bool:
        """True when the batch is on disk (fsynced): it may be acknowledged."""
        if self._spool is None or not self._spool.append(batch):
            return False
        self._metrics.spooled.inc(len(batch))
        self.update_gauges()
        if not self._announced:
            self._announced = True
            log.warning(
                "database unavailable for %.1f s: batches go to the spool in %s, acknowledged once on disk",
                self._after, self._spool.directory,
            )  # fmt: skip
        return True

    @property
    def draining(self) -> bool:
        return self.waiting > 0 and self._store.state == "ok"

    def next_to_drain(self, max_messages: int) -> list[SpooledBatch]:
        """The oldest files, up to about one batch of messages; none while the database is away."""
        if self._spool is None or not self.draining:
            return []
        return self._spool.oldest(max_messages)

    def drained(self, files: list[SpooledBatch]) -> None:
        assert self._spool is not None
        for spooled in files:
            self._spool.remove(spooled)
            self._metrics.drained.inc(len(spooled.messages))
        self.update_gauges()
        if self._spool.messages == 0 and self._announced:
            self._announced = False
            log.info("spool drained: everything it held is in the database")

    def update_gauges(self) -> None:
        if self._spool is not None:
            self._metrics.spool_messages.set(self._spool.messages)
            self._metrics.spool_bytes.set(self._spool.bytes)
            self._metrics.spool_set_aside.set(self._spool.set_aside)

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
