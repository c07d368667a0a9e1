"""The live fan-out of one API process: one Redis subscription, clients grouped by what they selected.

Each engine flush arrives as one message: an index of its frames' keys and seqs, then the frames,
one per line (`streams.live_flush`); the hub reads the index and never parses a frame.
It keeps the latest frame of every key (so a snapshot is a filter in memory, taken in the same step
as the subscription: nothing falls between them), with the engine's own JSON of it, and for each
distinct selection picks the frames it wants and joins their texts once: a `Delta` that every client
of that selection shares. A client's queue holds deltas up to `QUEUE_FRAMES` frames; the listener
never waits on a client — a client whose queue would overflow is marked lagging, its queue dropped,
and it gets a fresh snapshot at its next turn, so a slow client costs only itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from dataclasses import dataclass, field
from operator import itemgetter

import orjson
import redis.asyncio as aioredis
from prometheus_client import Counter

from api.http.live.background import subscription
from runtime.redis_names import KPI_CURRENT, KPI_EPOCH, KPI_FRAMES_CHANNEL
from runtime.wire import RefusedRecord
from streams.frames import frame_key
from streams.live_flush import LiveFlush, decode_live_flush

log = logging.getLogger(__name__)
QUEUE_FRAMES = 2_000


@dataclass(frozen=True)
class Selection:
    """What a client subscribed to; an empty set means every value."""

    kpis: frozenset[str] = frozenset()
    areas: frozenset[str] = frozenset()
    windows: frozenset[str] = frozenset()

    def wants(self, kpi: str, area: str, window: str) -> bool:
        return (
            (not self.kpis or kpi in self.kpis)
            and (not self.areas or area in self.areas)
            and (not self.windows or window in self.windows)
        )


# What outlives a flush is kept in plain tuples of strings and numbers, which the garbage collector
# stops tracking: tens of thousands of named tuples, replaced at every flush, kept the API's full
# collections (each a stop for every wall) frequent and long. See also `tune_garbage_collection`.
HeldFrame = tuple[int, str]  # a key's latest `seq` and text


@dataclass(frozen=True)
class Delta:
    """The frames of one engine flush that one selection wants, in `seq` order."""

    epoch: str
    seqs: tuple[int, ...]
    texts: tuple[str, ...]
    text: str  # the whole `delta` message, for every client of the selection

    @classmethod
    def of(cls, epoch: str, seqs: list[int], texts: list[str]) -> Delta:
        return cls(epoch, tuple(seqs), tuple(texts), frames_message("delta", texts))

    @property
    def last_seq(self) -> int:
        return self.seqs[-1]

    def texts_after(self, seq: int) -> list[str]:
        return [text for s, text in zip(self.seqs, self.texts, strict=True) if s > seq]


def frames_message(kind: str, frames: list[str], **fields: object) -> str:
    """A message with frames already encoded: a delta costs one encoding per frame, not per client."""
    head = json.dumps({"type": kind, **fields})[:-1]
    return f'{head}, "frames": [{",".join(frames)}]}}'


@dataclass(eq=False)
class Subscriber:
    selection: Selection
    queue: deque[Delta] = field(default_factory=deque)
    queued_frames: int = 0
    lagging: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, delta: Delta) -> None:
        if self.lagging:
            return
        # A queue holding nothing takes any one delta (an epoch's first flush carries every value).
        if self.queue and self.queued_frames + len(delta.seqs) > QUEUE_FRAMES:
            self.lagging = True  # its sender will resynchronise it with a snapshot
            self.queue.clear()
            self.queued_frames = 0
        else:
            self.queue.append(delta)
            self.queued_frames += len(delta.seqs)
        self.wake.set()

    def take(self) -> list[Delta]:
        deltas = list(self.queue)
        self.queue.clear()
        self.queued_frames = 0
        return deltas


@dataclass(frozen=True)
class Snapshot:
    epoch: str | None
    seq: int  # the highest seq among its frames
    texts: list[str]  # in `seq` order


class FrameHub:
    def __init__(self, redis_url: str, refused: Counter) -> None:
        self._redis_url = redis_url
        self._refused = refused  # flushes it could not read, by reason
        self._groups: dict[Selection, set[Subscriber]] = {}
        self._current: dict[str, HeldFrame] = {}  # by key (`frame_key`)
        self._key_parts: dict[str, tuple[str, str, str]] = {}  # each key's KPI, area and window
        self._epoch: str | None = None
        self.ready = asyncio.Event()  # the current values are loaded and followed
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="frame-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            except Exception:  # the shutdown goes on: the lifespan still closes the pool and Redis
                log.exception("live frames: the hub had failed")

    @property
    def clients(self) -> int:
        """The websockets subscribed to frames now."""
        return sum(len(members) for members in self._groups.values())

    def subscribe(self, subscriber: Subscriber) -> None:
        self._groups.setdefault(subscriber.selection, set()).add(subscriber)

    def remove(self, subscriber: Subscriber) -> None:
        members = self._groups.get(subscriber.selection)
        if members is not None:
            members.discard(subscriber)
            if not members:
                del self._groups[subscriber.selection]

    def snapshot(self, selection: Selection) -> Snapshot:
        """The current value of every selected key (call it between awaits: it is exact as of now)."""
        held = sorted((h for key, h in self._current.items() if selection.wants(*self._parts(key))), key=itemgetter(0))
        return Snapshot(self._epoch, held[-1][0] if held else 0, [text for _, text in held])

    async def _listen(self) -> None:
        while True:
            try:
                # Every break goes through the resync below.
                async with subscription(self._redis_url, KPI_FRAMES_CHANNEL) as (client, pubsub):
                    await self._load(client)  # after subscribing: what is published meanwhile follows
                    self.ready.set()
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self._fan_out(decode_live_flush(message["data"]))
            except (aioredis.RedisError, ValueError, TypeError, KeyError) as exc:
                # Redis gone, a flush this process does not read (a newer engine during an upgrade done
                # in the wrong order: a `RefusedRecord`) or current values it cannot: what it missed is
                # lost to this process, so start over from the current values in Redis, and every
                # client from a snapshot.
                if isinstance(exc, RefusedRecord):
                    self._refused.labels(exc.reason).inc()
                    log.error("live frames: %s; clients will resynchronise", exc.describe())
                else:
                    log.warning("live frames: %s; clients will resynchronise", type(exc).__name__)
                self.ready.clear()
                for members in self._groups.values():
                    for subscriber in members:
                        subscriber.lagging = True
                        subscriber.wake.set()
                await asyncio.sleep(1)

    async def _load(self, client: aioredis.Redis) -> None:
        async with client.pipeline(transaction=True) as pipe:
            pipe.get(KPI_EPOCH)
            pipe.hgetall(KPI_CURRENT)
            epoch, stored = await pipe.execute()
        self._epoch = None if epoch is None else epoch.decode()
        self._current, self._key_parts = {}, {}
        for data in stored.values():
            text = data.decode()
            fields = orjson.loads(text)
            self._current[frame_key(fields["kpi"], fields["area"], fields["window"])] = (fields["seq"], text)

    def _parts(self, key: str) -> tuple[str, str, str]:
        # Keys are few (every KPI × area × window the engine publishes) and recur at every flush. No
        # part holds a "|": area codes are [0-9A-Za-z._-] (the areas table checks it), and KPI ids and
        # windows are the catalog's.
        parts = self._key_parts.get(key)
        if parts is None:
            kpi, area, window = key.split("|")
            parts = self._key_parts[key] = (kpi, area, window)
        return parts

    def _fan_out(self, flush: LiveFlush) -> None:
        if flush.epoch is None:  # an empty flush
            return
        if flush.epoch != self._epoch:  # the engine started over: it publishes every value again
            self._epoch = flush.epoch
            self._current, self._key_parts = {}, {}
        current, texts = self._current, flush.texts
        fresh: list[int] = []
        for i, (key, seq) in enumerate(zip(flush.keys, flush.seqs, strict=True)):
            held = current.get(key)
            if held is None or held[0] < seq:  # a flush that the load already saw is skipped
                current[key] = (seq, texts[i])
                fresh.append(i)
        for selection, members in self._groups.items():
            chosen = [i for i in fresh if selection.wants(*self._parts(flush.keys[i]))]
            if chosen:
                delta = Delta.of(flush.epoch, [flush.seqs[i] for i in chosen], [texts[i] for i in chosen])
                for subscriber in members:
                    subscriber.offer(delta)
