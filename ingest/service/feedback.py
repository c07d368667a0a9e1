"""Each publisher hears about its own dead letters on `ioc/feedback/v1/<id>` (ingest.contract.feedback).

Sent after the batch committed, on the ingest's own broker connection, QoS 1, not retained. Never at the
cost of the stream: a publisher spraying garbage gets at most `rate` messages a second (a token bucket
each, one second's worth of burst), and the client's outgoing queue is bounded; beyond either, the
message is dropped and counted (`ioc_ingest_feedback_dropped_total`), never waited for. The dead letter
itself is stored either way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from ingest.contract.errors import RejectReason
from ingest.contract.feedback import DeadLetterFeedback, event_id_of, feedback_topic
from ingest.records import DeadLetter
from ingest.service.metrics import IngestMetrics

# A publish that the client takes (True) or refuses because its queue is full or it is offline (False).
Publish = Callable[[str, bytes], bool]
_MAX_BUCKETS: Final = 10_000  # publishers tracked at once; beyond, the buckets start afresh


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class FeedbackSender:
    def __init__(
        self,
        publish: Publish,
        metrics: IngestMetrics,
        rate_per_second: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._publish = publish
        self._metrics = metrics
        self._rate = rate_per_second
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def send(self, letters: Iterable[DeadLetter]) -> None:
        if self._rate <= 0:
            return
        for letter in letters:
            if letter.publisher_id is None:
                continue  # a topic that names no sender: nobody to tell
            if not self._take(letter.publisher_id):
                self._metrics.feedback_dropped.labels("rate").inc()
                continue
            if self._publish(feedback_topic(letter.publisher_id), _message(letter)):
                self._metrics.feedback_sent.inc()
            else:
                self._metrics.feedback_dropped.labels("queue").inc()

    def _take(self, publisher_id: str) -> bool:
        now = self._clock()
        bucket = self._buckets.get(publisher_id)
        if bucket is None:
            if len(self._buckets) >= _MAX_BUCKETS:
                self._buckets.clear()
            bucket = self._buckets[publisher_id] = _Bucket(self._rate, now)
        bucket.tokens = min(self._rate, bucket.tokens + (now - bucket.at) * self._rate)
        bucket.at = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True


def _message(letter: DeadLetter) -> bytes:
    body = DeadLetterFeedback(
        event_id=event_id_of(letter.payload),
        reason=RejectReason(letter.reason),
        detail=letter.detail,
        topic=letter.topic,
        received_at=letter.received_at,
    )
    return body.model_dump_json().encode()
