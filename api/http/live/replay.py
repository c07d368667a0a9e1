"""Resuming a live client: the frames it missed, from the engine's capped replay stream, if it still has them."""

from __future__ import annotations

from typing import Any

import redis

from runtime.redis_names import KPI_EPOCH, KPI_FRAMES_STREAM
from streams.engine.frame_sink import decode_batch
from streams.frames import KpiFrame

_PAGE = 200
_MAX_FRAMES = 20_000


def missed_frames(client: redis.Redis, epoch: str, after_seq: int) -> list[KpiFrame] | None:
    """Every frame with `seq` > `after_seq` in `epoch`, oldest first; None when the stream no longer
    reaches back that far, the epoch has changed, or more than `_MAX_FRAMES` were missed (the client
    needs a snapshot instead: it is cheaper than replaying that much)."""
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
            first, last = int(fields[b"first_seq"]), int(fields[b"last_seq"])
            if last <= after_seq:
                return [f for batch in reversed(batches) for f in batch if f.seq > after_seq]
            batch = decode_batch(fields[b"frames"])
            frames += len(batch)
            # A frame of another epoch: the engine started over while we read (its seqs restart).
            if frames > _MAX_FRAMES or any(f.epoch != epoch for f in batch):
                return None
            batches.append(batch)
            if first <= after_seq + 1:
                return [f for batch in reversed(batches) for f in batch if f.seq > after_seq]
            upper = "(" + entry_id.decode()
