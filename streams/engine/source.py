"""The stored-events stream as the engine reads it: a consumer group, a checkpoint for rebuilds, acks after apply.

Only this module talks to Redis about stored events. Every Redis failure surfaces as
`redis.RedisError` (a `ResponseError` when the group or the stream is gone): the runner treats
any of them as "position lost" and rebuilds. An entry it cannot read (a format version it does not
take, or garbage) comes out as a `RefusedRecord` in its place: the runner rebuilds from the database
then, as after a gap, so the entry's events are counted all the same.

A standby engine (`lease`) must not take entries away from the active one: it `follow`s the stream
with plain XREAD from its own position, and `join_group` moves the group to that position when it
takes over (its state holds every entry up to there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis

from ingest.stored_events import StoredEventsBatch
from runtime.redis_names import STORED_EVENTS_PRODUCERS, STORED_EVENTS_STREAM, STREAMS_CONSUMER_GROUP
from runtime.wire import RefusedRecord
from streams.engine.positions import ProducerPositions

_START = "0-0"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The stream's last entry id, every producer's position as of that entry, and which Redis it was."""

    last_id: str
    positions: ProducerPositions
    redis_run_id: str


class StoredEventsSource:
    def __init__(self, client: redis.Redis, consumer: str, group: str = STREAMS_CONSUMER_GROUP) -> None:
        self._redis = client
        self._consumer = consumer
        self._group = group
        self._applied: list[bytes] = []
        self._following = False  # plain XREAD from `_last_id` (standby), not the group
        self._last_id = _START

    def follow(self) -> None:
        """Read on from the last entry read without the group: the group is the active engine's."""
        self._following = True
        self._applied = []

    def join_group(self) -> None:
        """Read through the group from the last entry read: entries after it come next."""
        self._following = False
        self.start_after(self._last_id)

    def checkpoint(self) -> Checkpoint:
        run_id = str(self._redis.info("server")["run_id"])
        # One transaction: ingest writes an entry and its producer position in one transaction too.
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.xrevrange(STORED_EVENTS_STREAM, count=1)
            pipe.hgetall(STORED_EVENTS_PRODUCERS)
            last, producers = pipe.execute()
        last_id = last[0][0].decode() if last else _START
        return Checkpoint(last_id, ProducerPositions.from_hash(producers), run_id)

    def start_after(self, entry_id: str) -> None:
        """Make the group deliver the entries after `entry_id` next (creating the group and stream if needed);
        when following, read from there."""
        self._last_id = entry_id
        if self._following:
            return
        try:
            self._redis.xgroup_create(STORED_EVENTS_STREAM, self._group, id=entry_id, mkstream=True)
        except redis.ResponseError:  # it exists already
            self._redis.xgroup_setid(STORED_EVENTS_STREAM, self._group, id=entry_id)
        # Entries delivered before the rebuild are in the rebuild: nothing stays pending.
        self._applied = []
        # Any consumer's: an engine that took over finds those of the one before it.
        pending = self._redis.xpending_range(STORED_EVENTS_STREAM, self._group, "-", "+", 10_000)
        if pending:
            self._redis.xack(STORED_EVENTS_STREAM, self._group, *[p["message_id"] for p in pending])

    def read(self, count: int, block_ms: int) -> list[tuple[bytes, StoredEventsBatch | RefusedRecord]]:
        """The next entries, waiting up to `block_ms` for one. The entries marked `applied` since the
        last read are acknowledged in the same round trip: on a busy host each round trip to Redis
        waits for a core, and a separate XACK after every read was a large share of the engine's time
        (measured with `ioc bench streams`: docs/performance.md#design-figures)."""
        acknowledged, self._applied = self._applied, []
        reply: Any
        if self._following:
            reply = self._redis.xread({STORED_EVENTS_STREAM: self._last_id}, count=count, block=block_ms)
        elif acknowledged:
            with self._redis.pipeline(transaction=False) as pipe:
                pipe.xack(STORED_EVENTS_STREAM, self._group, *acknowledged)
                pipe.xreadgroup(self._group, self._consumer, {STORED_EVENTS_STREAM: ">"}, count=count, block=block_ms)
                _, reply = pipe.execute()
        else:
            reply = self._redis.xreadgroup(
                self._group, self._consumer, {STORED_EVENTS_STREAM: ">"}, count=count, block=block_ms
            )
        if not reply:
            return []
        [(_, entries)] = reply
        if entries:
            self._last_id = entries[-1][0].decode()
        return [(entry_id, _decoded(fields)) for entry_id, fields in entries]

    def applied(self, entry_ids: list[bytes]) -> None:
        """Entries accounted for in the state: acknowledged with the next read. One that never is
        (the engine stopped, or Redis failed first) is in the next rebuild, which acknowledges it."""
        self._applied.extend(entry_ids)

    def redis_run_id(self) -> str:
        return str(self._redis.info("server")["run_id"])


def _decoded(fields: dict[bytes, bytes]) -> StoredEventsBatch | RefusedRecord:
    try:
        return StoredEventsBatch.decode(fields)
    except RefusedRecord as refused:
        return refused
