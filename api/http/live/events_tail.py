"""The live event tail of one API process: stored events from the stored-events stream, new dead letters from
the database, fanned out to on-call clients through bounded queues with a per-client rate limit.

A client that asks for more than it can be sent gets a sample: at most `max_per_second` events a
second, and a count of those it did not get, so the tail never grows without bound.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
import redis.asyncio as aioredis
from prometheus_client import Counter
from psycopg_pool import ConnectionPool

from api.http.live.background import BackgroundTasks
from ingest.dead_letters import DeadLetterRepository
from ingest.stored_events import StoredEventsBatch
from runtime.redis_names import STORED_EVENTS_STREAM
from runtime.wire import RefusedRecord

log = logging.getLogger(__name__)
Pool = ConnectionPool[psycopg.Connection[tuple[object, ...]]]
QUEUE_EVENTS = 1_000
_DEAD_LETTER_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class EventFilter:
    """Empty sets mean every value."""

    types: frozenset[str] = frozenset()  # dossier, transaction, sample, status, dead_letter
    areas: frozenset[str] = frozenset()
    publishers: frozenset[str] = frozenset()

    def wants(self, event: dict[str, Any]) -> bool:
        return (
            (not self.types or event["type"] in self.types)
            and (not self.areas or event.get("area_code") in self.areas)
            and (not self.publishers or event.get("publisher_id") in self.publishers)
        )


@dataclass(eq=False)
class TailSubscriber:
    filter: EventFilter
    max_per_second: int = 50
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(QUEUE_EVENTS))
    dropped: int = 0
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    _second: int = -1
    _sent_this_second: int = 0

    def offer(self, event: dict[str, Any], now_second: int) -> None:
        if not self.filter.wants(event):
            return
        if now_second != self._second:
            self._second, self._sent_this_second = now_second, 0
        if self._sent_this_second >= self.max_per_second or self.queue.full():
            self.dropped += 1
        else:
            self._sent_this_second += 1
            self.queue.put_nowait(event)
        self.wake.set()


class EventTail:
    def __init__(self, redis_url: str, pool: Pool, refused: Counter) -> None:
        self._redis_url = redis_url
        self._pool = pool
        self._refused = refused  # stored-events entries it could not read, by reason
        self._subscribers: set[TailSubscriber] = set()
        self._tailed = asyncio.Event()  # set while at least one client tails
        self._tasks = BackgroundTasks()

    def start(self) -> None:
        self._tasks.start(self._read_stream(), self._poll_dead_letters())

    async def stop(self) -> None:
        await self._tasks.stop()

    @property
    def clients(self) -> int:
        """The websockets tailing events now."""
        return len(self._subscribers)

    def add(self, subscriber: TailSubscriber) -> None:
        self._subscribers.add(subscriber)
        self._tailed.set()

    def remove(self, subscriber: TailSubscriber) -> None:
        self._subscribers.discard(subscriber)
        if not self._subscribers:
            self._tailed.clear()

    def _publish(self, event: dict[str, Any]) -> None:
        second = int(asyncio.get_running_loop().time())
        for subscriber in list(self._subscribers):
            subscriber.offer(event, second)

    async def _read_stream(self) -> None:
        last = "$"
        while True:
            client = aioredis.Redis.from_url(self._redis_url)
            try:
                while True:
                    if not self._subscribers:
                        # Nobody tails: reading and decoding every stored event for nobody costs the
                        # API CPU that the walls need (docs/performance.md#design-figures). A tail
                        # starts from what is stored once it has joined.
                        await self._tailed.wait()
                        last = "$"
                    reply: Any = await client.xread({STORED_EVENTS_STREAM: last}, count=100, block=1000)
                    for _, entries in reply or []:
                        for entry_id, fields in entries:
                            last = entry_id.decode()
                            for event in self._events_of(fields):
                                self._publish(event)
            except aioredis.RedisError as exc:
                log.warning("event tail: Redis unavailable (%s)", type(exc).__name__)
                await asyncio.sleep(1)
            finally:
                await client.aclose()

    def _events_of(self, fields: dict[bytes, bytes]) -> list[dict[str, Any]]:
        try:
            return _events_of(StoredEventsBatch.decode(fields))
        except RefusedRecord as refused:  # the tail is a sample: it goes on without that entry
            self._refused.labels(refused.reason).inc()
            log.error("event tail: %s; its events are not tailed", refused.describe())
            return []

    async def _poll_dead_letters(self) -> None:
        last_id: int | None = None
        while True:
            try:
                if last_id is None:
                    last_id = await asyncio.to_thread(self._latest_dead_letter)
                for letter in await asyncio.to_thread(self._dead_letters_after, last_id):
                    last_id = letter["id"]
                    self._publish(letter)
            except psycopg.Error as exc:
                log.warning("event tail: database unavailable (%s)", type(exc).__name__)
            await asyncio.sleep(_DEAD_LETTER_POLL_SECONDS)

    def _latest_dead_letter(self) -> int:
        with self._pool.connection(timeout=5) as conn:
            return DeadLetterRepository(conn).latest_id()

    def _dead_letters_after(self, last_id: int) -> list[dict[str, Any]]:
        with self._pool.connection(timeout=5) as conn:
            letters = DeadLetterRepository(conn).after(last_id)
        return [
            {"type": "dead_letter", "id": d.id, "received_at": d.received_at.isoformat(), "topic": d.topic,
             "publisher_id": d.publisher_id, "reason": d.reason, "detail": d.detail}
            for d in letters
        ]  # fmt: skip


def _events_of(batch: StoredEventsBatch) -> list[dict[str, Any]]:
    events = []
    for event_type, records in batch.records.items():
        for record in records:
            event: dict[str, Any] = {"type": event_type, **record._asdict()}
            events.append({k: v.isoformat() if isinstance(v, datetime) else v for k, v in event.items()})
    return events
