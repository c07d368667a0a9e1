"""Writes KPI frames to Redis: the latest per key, the capped replay stream and the live channel, atomically.

One transaction per flush, so a client that reads the current-values hash after seeing a frame
on the channel never finds the hash older than the frame. If a write fails, the frames are gone
from Redis; the runner then starts a new epoch and publishes every value again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence

import redis

from runtime.redis_names import (
    ALERTS_CHANNEL,
    KPI_CURRENT,
    KPI_EPOCH,
    KPI_FRAMES_CHANNEL,
    KPI_FRAMES_STREAM,
    KPI_HEARTBEAT,
)
from streams.alerts.evaluator import AlertAction, AlertOpened
from streams.frames import KpiFrame, encode_batch
from streams.live_flush import encode_live_flush, encode_replay_entry
from streams.records import from_micros


class FrameSink:
    def __init__(
        self, client: redis.Redis, *, replay_seconds: float = 60.0, clock: Callable[[], float] = time.time
    ) -> None:
        self._redis = client
        # The replay stream keeps the last `replay_seconds` of flushes. A cap in entries does not
        # bound its memory: an entry is one flush, and a flush at 5,000 events/s carries hundreds
        # of frames (measured in `make verify`'s soak: docs/performance.md#design-figures).
        self._replay_ms = int(replay_seconds * 1000)
        self._clock = clock

    def heartbeat(self, as_of: str) -> None:
        """Tell the API the engine is alive (expires after 10 s)."""
        self._redis.set(KPI_HEARTBEAT, as_of, ex=10)

    def write(
        self, frames: list[KpiFrame], *, new_epoch: str | None = None, alerts: Sequence[AlertAction] = ()
    ) -> None:
        """Raises redis.RedisError when Redis did not take them. Alert changes go out as notices on
        `ALERTS_CHANNEL` (the alerts themselves, with their ids, are in the database)."""
        if not frames and new_epoch is None and not alerts:
            return
        encoded = [f.encode() for f in frames]
        batch = encode_batch(encoded)
        with self._redis.pipeline(transaction=True) as pipe:
            if new_epoch is not None:
                # Values of the previous epoch are not comparable seq-wise: the hash starts over.
                pipe.delete(KPI_CURRENT)
                pipe.set(KPI_EPOCH, new_epoch)
            if frames:
                pipe.hset(KPI_CURRENT, mapping={f.key: e for f, e in zip(frames, encoded, strict=True)})
                oldest_kept = f"{int(self._clock() * 1000) - self._replay_ms}-0"
                entry = encode_replay_entry(frames, batch)
                pipe.xadd(KPI_FRAMES_STREAM, entry, minid=oldest_kept, approximate=True)  # type: ignore[arg-type]
                pipe.publish(KPI_FRAMES_CHANNEL, encode_live_flush(frames, batch))
            if alerts:
                pipe.publish(ALERTS_CHANNEL, json.dumps([alert_notice(a) for a in alerts], ensure_ascii=False))
            pipe.execute()


def alert_notice(action: AlertAction) -> dict[str, object]:
    if isinstance(action, AlertOpened):
        return {
            "change": "opened", "rule": action.rule.id, "area": action.area, "kpi": action.rule.kpi,
            "window": action.rule.window, "severity": action.rule.severity, "message": action.message,
            "value": action.value, "at": from_micros(action.at_us).isoformat(),
        }  # fmt: skip
    return {
        "change": "resolved", "rule": action.rule_id, "area": action.area, "message": action.detail,
        "at": from_micros(action.at_us).isoformat(),
    }  # fmt: skip
