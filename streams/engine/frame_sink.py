"""Writes KPI frames to Redis: the latest per key, the capped replay stream and the live channel, atomically.

One transaction per flush, so a client that reads the current-values hash after seeing a frame
on the channel never finds the hash older than the frame. If a write fails, the frames are gone
from Redis; the runner then starts a new epoch and publishes every value again.
"""

from __future__ import annotations

import json

import redis

from deploy.redis_names import KPI_CURRENT, KPI_EPOCH, KPI_FRAMES_CHANNEL, KPI_FRAMES_STREAM
from streams.frames import KpiFrame


class FrameSink:
    def __init__(self, client: redis.Redis, *, max_stream_entries: int = 10_000) -> None:
        self._redis = client
        self._max_entries = max_stream_entries

    def write(self, frames: list[KpiFrame], *, new_epoch: str | None = None) -> None:
        """Raises redis.RedisError when Redis did not take them."""
        if not frames and new_epoch is None:
            return
        encoded = [f.encode() for f in frames]
        batch = "[" + ",".join(encoded) + "]"
        with self._redis.pipeline(transaction=True) as pipe:
            if new_epoch is not None:
                # Values of the previous epoch are not comparable seq-wise: the hash starts over.
                pipe.delete(KPI_CURRENT)
                pipe.set(KPI_EPOCH, new_epoch)
            if frames:
                pipe.hset(KPI_CURRENT, mapping={f.key: e for f, e in zip(frames, encoded, strict=True)})
                fields = {"first_seq": str(frames[0].seq), "last_seq": str(frames[-1].seq), "frames": batch}
                pipe.xadd(KPI_FRAMES_STREAM, fields, maxlen=self._max_entries, approximate=True)  # type: ignore[arg-type]
                pipe.publish(KPI_FRAMES_CHANNEL, batch)
            pipe.execute()


def decode_batch(data: str | bytes) -> list[KpiFrame]:
    """A channel message or a stream entry's `frames` field, back into frames."""
    return [KpiFrame(**item) for item in json.loads(data)]
