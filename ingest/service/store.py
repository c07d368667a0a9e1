"""The ingest process's database side: one connection, batches written with retry and backoff.

Only `DataError` (22xxx) and `IntegrityError` (23xxx) mean that the data itself was refused: the
rows are then written one by one and the ones refused become `storage_rejected` dead letters, so
one bad row can never wedge the stream. Every other database error — the server down, restarting,
read-only, slow past the statement timeout, a connection broken around COMMIT, a missing table or
privilege after a bad deployment — means "not stored, outcome perhaps unknown": the batch is
retried as a whole with backoff, nothing is acknowledged meanwhile, health says `degraded`, and
the unique keys absorb a batch that had in fact committed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Literal, TypeVar

import psycopg

from ingest.contract import RejectReason
from ingest.records import AcceptedEvent, DeadLetter
from ingest.service.classify import dead_letter_of
from ingest.service.metrics import IngestMetrics
from ingest.storage.batch_writer import BatchOutcome, BatchWriter

log = logging.getLogger(__name__)
T = TypeVar("T")
_ROW_ERRORS = (psycopg.DataError, psycopg.IntegrityError)
_SLOW_BATCH_SECONDS = 1.0


class BatchStore:
    def __init__(
        self,
        connect: Callable[[], psycopg.Connection[tuple[object, ...]]],
        metrics: IngestMetrics,
        *,
        wait: Callable[[float], None] = time.sleep,
        max_backoff_seconds: float = 5.0,
        resend_check: bool = True,
    ) -> None:
        self._connect = connect
        self._resend_check = resend_check
        self._metrics = metrics
        self._wait = wait
        self._max_backoff = max_backoff_seconds
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._writer: BatchWriter | None = None
        self.state: Literal["ok", "degraded"] = "ok"
        self.degraded_since: float | None = None  # monotonic; when the current outage was first seen
        self.last_error = ""
        # Set when an attempt failed in a way that may have committed: whoever consumes the stored
        # events must then assume it missed some (see StoredEventsPublisher.mark_gap).
        self.outcome_uncertain = False

    def connection(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
            self._writer = BatchWriter(self._conn, resend_check=self._resend_check)
        return self._conn

    def retry(
        self,
        operation: Callable[[], T],
        stopping: threading.Event,
        give_up_at: float | None,
        spill_at: float | None = None,
    ) -> T | None:
        """Run `operation` until it gets through the connection; None if we had to give up.

        While running we give up only at `spill_at` (when the caller has somewhere else to put the
        batch: the spool), else never (the broker holds the messages); once stopping, we give up at
        `give_up_at`, or at once when there is none (the shutdown path retries on its own).
        """
        backoff = 0.2
        while True:
            try:
                result = operation()
            except _ROW_ERRORS:
                raise  # the caller isolates the rows; retrying the same data would fail the same way
            except psycopg.Error as exc:
                self._failed(exc)
            else:
                self._recovered()
                return result
            if stopping.is_set() and (give_up_at is None or time.monotonic() >= give_up_at):
                return None
            if spill_at is not None and time.monotonic() >= spill_at:
                return None
            self._wait(backoff)
            backoff = min(backoff * 2, self._max_backoff)

    def write_with_retry(
        self,
        items: Sequence[AcceptedEvent | DeadLetter],
        stopping: threading.Event,
        give_up_at: float | None,
        spill_at: float | None = None,
    ) -> BatchOutcome | None:
        """The committed batch's outcome; None when we gave up (see `retry`)."""
        accepted = [i for i in items if isinstance(i, AcceptedEvent)]
        letters = [i for i in items if isinstance(i, DeadLetter)]
        started = time.perf_counter()
        outcome = self.retry(lambda: self._write(accepted, letters), stopping, give_up_at, spill_at)
        if outcome is None:
            return None
        m = self._metrics
        took = time.perf_counter() - started
        if took > _SLOW_BATCH_SECONDS:
            log.warning("a batch of %d messages took %.1f s to store", len(items), took)
        m.commit_seconds.observe(took)
        m.batch_size.observe(len(items))
        for event_type, count in outcome.stored.items():
            m.stored.labels(event_type.value).inc(count)
        for event_type, count in outcome.duplicates.items():
            m.duplicates.labels(event_type.value).inc(count)
        # From the outcome, not from `letters`: the writer adds conflicting duplicates, the isolation
        # of refused rows adds `storage_rejected` letters.
        for reason, count in outcome.dead_letter_reasons.items():
            m.dead_letters.labels(reason).inc(count)
        return outcome

    def ping(self) -> None:
        """Notice an outage (or its end) while no messages flow."""
        try:
            self.connection().execute("SELECT 1")
        except psycopg.Error as exc:
            self._failed(exc)
        else:
            self._recovered()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None

    def _write(self, accepted: list[AcceptedEvent], letters: list[DeadLetter]) -> BatchOutcome:
        self.connection()
        assert self._writer is not None
        try:
            return self._writer.write(accepted, letters)
        except _ROW_ERRORS as exc:
            log.warning("the database refused a batch (%s); isolating the rows it refuses", type(exc).__name__)
            return self._write_isolating(accepted, letters)

    def _write_isolating(self, accepted: list[AcceptedEvent], letters: list[DeadLetter]) -> BatchOutcome:
        assert self._writer is not None
        total = BatchOutcome()
        xids: list[int] = []
        refused = list(letters)
        conflicts: list[DeadLetter] = []
        stored_letters = repeated_letters = 0
        for item in accepted:
            try:
                one = self._writer.write([item], [])
            except _ROW_ERRORS as exc:
                refused.append(storage_rejected(item, exc))
                continue
            total.stored.update(one.stored)
            total.duplicates.update(one.duplicates)
            total.dead_letter_reasons.update(one.dead_letter_reasons)  # an item's conflicting duplicate
            conflicts.extend(one.dead_letters)
            stored_letters += one.dead_letters_stored
            repeated_letters += one.dead_letters_repeated
            xids.extend(one.transaction_ids)
            for event_type, rows in one.records.items():
                total.records.setdefault(event_type, []).extend(rows)
        letters_outcome = self._writer.write([], refused)
        total.dead_letter_reasons.update(letters_outcome.dead_letter_reasons)
        return BatchOutcome(
            stored=total.stored,
            duplicates=total.duplicates,
            dead_letters_stored=stored_letters + letters_outcome.dead_letters_stored,
            dead_letters_repeated=repeated_letters + letters_outcome.dead_letters_repeated,
            dead_letter_reasons=total.dead_letter_reasons,
            dead_letters=(*conflicts, *letters_outcome.dead_letters),
            records=total.records,
            transaction_ids=tuple(xids),
        )

    def _failed(self, exc: Exception) -> None:
        self.outcome_uncertain = True
        first = self.state == "ok"
        self.state = "degraded"
        if first:
            self.degraded_since = time.monotonic()
        self.last_error = f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0]}"
        self._metrics.storage_failures.inc()
        if first:
            # Unacknowledged meanwhile; the runner may then send batches to the spool (it says so).
            log.error("database unavailable (%s); retrying, nothing acknowledged until stored", self.last_error)
        self.close()

    def _recovered(self) -> None:
        if self.state != "ok":
            log.info("database available again; catching up")
        self.state = "ok"
        self.degraded_since = None
        self.last_error = ""


def storage_rejected(item: AcceptedEvent, exc: psycopg.Error) -> DeadLetter:
    """The `storage_rejected` dead letter of an event the database refused, naming the error."""
    first_line = (str(exc).strip().splitlines() or [""])[0][:300]
    detail = f"{type(exc).__name__} (SQLSTATE {exc.sqlstate}): {first_line}"
    return dead_letter_of(item.raw, RejectReason.STORAGE_REJECTED, detail)
