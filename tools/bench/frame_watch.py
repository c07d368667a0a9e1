"""Receives KPI frames for `ioc bench streams` in a process of its own, so that its clock readings wait
for nothing of the benchmark's (the publishers' feeder threads share the parent's interpreter).

Run as `python -m tools.bench.frame_watch` with the Redis URL in `IOC_BENCH_REDIS_URL`; prints
`subscribed`, records the arrival time of every batch until its stdin closes, then prints one JSON
line: the number of frames and, per watched key, `[arrival, last_event_at µs]` of its frames.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

import redis

from runtime.redis_names import KPI_FRAMES_CHANNEL
from streams.live_flush import decode_live_flush
from streams.records import to_micros

# Province frames whose numbers change with every succeeded payment or every sample.
WATCHED = ("payments.tx_count|67|5m", "coverage.usable_share|67|5m", "payments.tx_count|67|today")


def main() -> int:
    client = redis.Redis.from_url(os.environ["IOC_BENCH_REDIS_URL"])
    pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
    pubsub.subscribe(KPI_FRAMES_CHANNEL)
    print("subscribed", flush=True)
    stopping = threading.Event()

    def wait_for_eof() -> None:
        sys.stdin.read()
        stopping.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    arrivals: list[tuple[float, bytes]] = []
    while not stopping.is_set():
        message = pubsub.get_message(timeout=0.2)
        if message is not None:
            arrivals.append((time.time(), message["data"]))
    frames = 0
    seen: dict[str, list[tuple[float, int]]] = {key: [] for key in WATCHED}
    for arrived, data in arrivals:
        flush = decode_live_flush(data)
        frames += len(flush.texts)
        for key, text in zip(flush.keys, flush.texts, strict=True):
            last_event_at = json.loads(text)["last_event_at"] if key in seen else None
            if last_event_at is not None:
                seen[key].append((arrived, to_micros(last_event_at)))
    print(json.dumps({"frames": frames, "seen": seen}), flush=True)
    pubsub.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
