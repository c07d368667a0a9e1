"""Resuming a live client: the frames it missed, from the engine's capped replay stream, if it still has them."""

from __future__ import annotations

import logging
from typing import Any

import redis
from prometheus_client import Counter

from runtime.redis_names import KPI_EPOCH, KPI_FRAMES_STREAM
from runtime.wire import RefusedRecord
from streams.frames import KpiFrame
from streams.live_flush import decode_replay_entry

log = logging.getLogger(__name__)
_PAGE = 200
_MAX_FRAMES = 20_000


def missed_frames(client: redis.Redis, epoch: str, after_seq: int, refused: Counter) -> list[KpiFrame] | None:
    """Every frame with `seq` > `after_seq` in `epoch`, oldest first; None when the stream no longer
    reaches back that far, the epoch has changed, more than `_MAX_FRAMES` were missed (the client
    needs a snapshot instead: it is cheaper than replaying that much), or an entry on the way is one
    this process does not read (counted in `refused`)."""
    current = client.get(KPI_EPOCH)
    if current is None or current.decode() != epoch:  # type: ignore[union-attr]
        return None
    batches: list[list[KpiFrame]] = []
    frames = 0
    upper = "+"
    while True:
        entries: Any = client.xrevrange(KPI_FRAMES_STREAM, max=upper, count=_PAGE)
        if not entries:
            return None  # trimmed past the client's position (or empty): no complete replay
        for entry_id, fields in entries:
            try:
                first, last, batch = decode_replay_entry(fields)
            except RefusedRecord as exc:
                refused.labels(exc.reason).inc()
                log.error("live frames: %s; the client gets a snapshot instead", exc.describe())
                return None
            if last <= after_seq:
                return [f for batch in reversed(batches) for f in batch if f.seq > after_seq]
            frames += len(batch)
            # A frame of another epoch: the engine started over while we read (its seqs restart).
            if frames > _MAX_FRAMES or any(f.epoch != epoch for f in batch):
                return None
            batches.append(batch)
            if first <= after_seq + 1:
                return [f for batch in reversed(batches) for f in batch if f.seq > after_seq]
            upper = "(" + entry_id.decode()
