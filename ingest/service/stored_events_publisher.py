"""Appends each committed batch's stored events to the Redis stream, without ever holding ingest up.

Redis only fans out; the database is the truth. So a slow or absent Redis costs at most one short
timeout, after which publishing pauses for `pause_seconds`; the batches it skipped still advance
`pseq`, and the KPI engine, seeing the jump, rebuilds from the database.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence

import redis

from ingest.stored_events import StoredEventsBatch, StoredRecord
from runtime.redis_names import STORED_EVENTS_PRODUCERS, STORED_EVENTS_STREAM

log = logging.getLogger(__name__)


class StoredEventsPublisher:
    def __init__(
        self,
        redis_url: str,
        producer: str,
        *,
        # The stream keeps the last `retain_seconds` of batches. A cap in entries does not bound its
        # memory: an entry is one committed batch of up to IOC_INGEST_BATCH_MAX_ROWS events, so its
        # size follows the load (measured in `make verify`'s soak: docs/performance.md#design-figures).
        # The engine needs only what it has not read; further behind than this, it rebuilds from the
        # database.
        retain_seconds: float = 60.0,
        timeout_seconds: float = 0.2,
        pause_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis.Redis.from_url(
            redis_url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds, retry=None
        )
        self._producer = producer
        self._session = uuid.uuid4().hex
        self._pseq = 0
        self._retain_ms = int(retain_seconds * 1000)
        # Redis stamps entry ids with its own clock: trimming relative to the last id it gave keeps
        # the window right whatever this host's clock says.
        self._last_id_ms: int | None = None
        self._pause_seconds = pause_seconds
        self._clock = clock
        self._paused_until = 0.0
        self.skipped = 0
        self.reached_at_close = False

    def publish(self, records: Mapping[str, Sequence[StoredRecord]], transaction_ids: tuple[int, ...]) -> bool:
        """True when the batch reached the stream."""
        self._pseq += 1
        return self._append(StoredEventsBatch(self._producer, self._session, self._pseq, records, transaction_ids))

    def _append(self, batch: StoredEventsBatch, *, even_if_paused: bool = False) -> bool:
        if self._clock() < self._paused_until and not even_if_paused:
            self.skipped += 1
            return False
        try:
            # One transaction: a reader that takes the stream's last id and the producers hash
            # together sees, for every producer, exactly the entries up to that id.
            with self._redis.pipeline(transaction=True) as pipe:
                oldest_kept = None if self._last_id_ms is None else f"{self._last_id_ms - self._retain_ms}-0"
                pipe.xadd(STORED_EVENTS_STREAM, batch.encode(), minid=oldest_kept, approximate=True)  # type: ignore[arg-type]
                pipe.hset(STORED_EVENTS_PRODUCERS, self._producer, batch.position)
                entry_id, _ = pipe.execute()
        except redis.RedisError as exc:
            self.skipped += 1
            self._paused_until = self._clock() + self._pause_seconds
            log.warning("stored-events stream unavailable (%s); the KPI engine will rebuild", type(exc).__name__)
            return False
        self._last_id_ms = int(_text(entry_id).partition("-")[0])
        return True

    def mark_gap(self) -> None:
        """Something may have been stored without reaching the stream: make the consumer rebuild."""
        self._pseq += 1
        self.skipped += 1

    def close(self) -> None:
        """Tell the consumer this session ended (one attempt even while paused: without this entry, or
        with a jump before it, the consumer rebuilds when the producer's next session starts)."""
        self._pseq += 1
        self.reached_at_close = self._append(
            StoredEventsBatch(self._producer, self._session, self._pseq, {}, final=True), even_if_paused=True
        )
        self._redis.close()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
