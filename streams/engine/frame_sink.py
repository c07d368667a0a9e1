"""Writes KPI frames to Redis: the latest per key, the capped replay stream and the live channel, atomically.

One transaction per flush, so a client that reads the current-values hash after seeing a frame
on the channel never finds the hash older than the frame. If a write fails, the frames are gone
from Redis; the runner then starts a new epoch and publishes every value again.

Fenced (two engines, `lease`): the same writes are one Lua script that first checks that the lease
key still holds the writer's lease token, and writes nothing otherwise — so an engine that lost the
lease, whatever it believes, cannot publish a frame, an epoch, an alert notice or a heartbeat.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence

import redis

from runtime.redis_names import (
    ALERTS_CHANNEL,
    KPI_CURRENT,
    KPI_ENGINE_LEASE,
    KPI_EPOCH,
    KPI_FRAMES_CHANNEL,
    KPI_FRAMES_STREAM,
    KPI_HEARTBEAT,
)
from streams.alerts.evaluator import AlertAction, AlertOpened
from streams.frames import KpiFrame, encode_batch
from streams.live_flush import encode_live_flush, encode_replay_entry
from streams.records import from_micros

# KEYS: lease, current values, epoch, replay stream. ARGV: token, new epoch (or ''), oldest replay id
# kept, live message (or '': no frames), the replay entry's four fields as name, value pairs, then the
# frames' key, text pairs. HSET in chunks: Lua's unpack takes some 8,000 values.
_FENCED_FLUSH = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] ~= '' then redis.call('DEL', KEYS[2]); redis.call('SET', KEYS[3], ARGV[2]) end
if ARGV[4] ~= '' then
  local pairs = {}
  for i = 13, #ARGV do
    pairs[#pairs + 1] = ARGV[i]
    if #pairs == 2000 then redis.call('HSET', KEYS[2], unpack(pairs)); pairs = {} end
  end
  if #pairs > 0 then redis.call('HSET', KEYS[2], unpack(pairs)) end
  redis.call('XADD', KEYS[4], 'MINID', '~', ARGV[3], '*', ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10],
    ARGV[11], ARGV[12])
  redis.call('PUBLISH', '@frames@', ARGV[4])
end
return 1
""".replace("@frames@", KPI_FRAMES_CHANNEL)
_FENCED_HEARTBEAT = (
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end redis.call('SET', KEYS[2], ARGV[2], 'EX', 10) return 1"
)
_FENCED_NOTICES = (
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end redis.call('PUBLISH', '@alerts@', ARGV[2]) return 1"
).replace("@alerts@", ALERTS_CHANNEL)


class LeaseNotHeld(redis.RedisError):
    """Redis refused a write: the lease key no longer holds this engine's token."""


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
        self._flush_script = client.register_script(_FENCED_FLUSH)
        self._heartbeat_script = client.register_script(_FENCED_HEARTBEAT)
        self._notices_script = client.register_script(_FENCED_NOTICES)
        # The lease token every write is checked against; None: unfenced (a single engine without a lease).
        self.lease_token: str | None = None

    def heartbeat(self, as_of: str) -> None:
        """Tell the API the engine is alive (expires after 10 s)."""
        if self.lease_token is None:
            self._redis.set(KPI_HEARTBEAT, as_of, ex=10)
        elif not self._heartbeat_script(keys=[KPI_ENGINE_LEASE, KPI_HEARTBEAT], args=[self.lease_token, as_of]):
            raise LeaseNotHeld("the engine lease is not ours: heartbeat refused")

    def announce_alerts(self, actions: Sequence[AlertAction]) -> None:
        """Notices of alert changes on `ALERTS_CHANNEL`, once the history writer has written them (so a
        notice always names an alert the database holds: an engine that dies before writing an alert
        never announces it, and the one that takes over announces it once). Raises redis.RedisError."""
        if not actions:
            return
        notices = json.dumps([alert_notice(a) for a in actions], ensure_ascii=False)
        if self.lease_token is None:
            self._redis.publish(ALERTS_CHANNEL, notices)
        elif not self._notices_script(keys=[KPI_ENGINE_LEASE], args=[self.lease_token, notices]):
            raise LeaseNotHeld("the engine lease is not ours: alert notices refused")

    def write(self, frames: list[KpiFrame], *, new_epoch: str | None = None) -> None:
        """Raises redis.RedisError when Redis did not take them (`LeaseNotHeld` when fenced and the lease is
        not ours)."""
        if not frames and new_epoch is None:
            return
        encoded = [f.encode() for f in frames]
        batch = encode_batch(encoded)
        if self.lease_token is not None:
            self._write_fenced(self.lease_token, frames, encoded, batch, new_epoch)
            return
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
            pipe.execute()

    def _write_fenced(
        self,
        token: str,
        frames: list[KpiFrame],
        encoded: list[str],
        batch: str,
        new_epoch: str | None,
    ) -> None:
        args: list[str] = [token, new_epoch or "", f"{int(self._clock() * 1000) - self._replay_ms}-0"]
        if frames:
            entry = encode_replay_entry(frames, batch)
            args.append(encode_live_flush(frames, batch))
            args += [part for field in entry.items() for part in field]
            args += [part for f, e in zip(frames, encoded, strict=True) for part in (f.key, e)]
        else:
            args.append("")  # no live message: nothing after it is read
        if not self._flush_script(keys=[KPI_ENGINE_LEASE, KPI_CURRENT, KPI_EPOCH, KPI_FRAMES_STREAM], args=args):
            raise LeaseNotHeld("the engine lease is not ours: frames refused")


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
