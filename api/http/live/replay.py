"""Resuming a live client: the frames it missed, from the engine's capped replay stream, if it still has them."""

from __future__ import annotations

from typing import Any

import redis

from deploy.redis_names import KPI_EPOCH, KPI_FRAMES_STREAM
from streams.engine.frame_sink import decode_batch
from streams.frames import KpiFrame

_PAGE = 200


def missed_frames(client: redis.Redis, epoch: str, after_seq: int) -> list[KpiFrame] | None:
    """Every frame with `seq` > `after_seq` in `epoch`, oldest first; None when the stream no longer
    reaches back that far or the epoch has changed (the client needs a snapshot instead)."""
    current = client.get(KPI_EPOCH)
    if current is None or current.decode() != epoch:  # type: ignore[union-attr]
        return None
    batches: list[list[KpiFrame]] = []
    upper = "+"
    while True:
        entries: Any = client.xrevrange(KPI_FRAMES_STREAM, max=upper, count=_PAGE)
        if not entries:
            return None  # trimmed past the client's position (or empty): no complete replay
        for entry_id, fields in entries:
            first, last = int(fields[b"first_seq"]), int(fields[b"last_seq"])
            if last <= after_seq:
                return [f for batch in reversed(batches) for f in batch if f.seq > after_seq]
            batches.append(decode_batch(fields[b"frames"]))
            if first <= after_seq + 1:
                return [f for batch in reversed(batches) for f in batch if f.seq > after_seq]
            upper = "(" + entry_id.decode()
