"""A probe process on the reference library that writes down every event it made.

`python -m tests.publisher.ledger_probe --port P --publisher ID --area CODE --queue DIR --ledger FILE
--rate R` (password in `IOC_PROBE_PASSWORD`): publishes coverage samples through the disk queue at
`rate` per second until SIGTERM, appending each `event_id` to the ledger once the library took it
(one `write()` a line, so a SIGKILL leaves at most the last event unwritten: made, not in the
ledger). On SIGTERM it stops the publisher (drains up to `--drain-seconds`) and exits 0.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time
from pathlib import Path

from publisher import Publisher, PublisherConfig

SAMPLE = {
    "operator": "vnpt", "technology": "4g", "download_mbps": 8.5, "upload_mbps": 2.0, "latency_ms": 61.0,
    "packet_loss_pct": 1.5,
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--publisher", required=True)
    parser.add_argument("--area", required=True)
    parser.add_argument("--queue", type=Path, required=True)
    parser.add_argument("--ledger", type=Path, required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--drain-seconds", type=float, default=60.0)
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    config = PublisherConfig(
        args.publisher, os.environ["IOC_PROBE_PASSWORD"], "coverage", host="127.0.0.1", port=args.port,
        queue_dir=args.queue, fsync_interval_ms=100,
    )  # fmt: skip
    probe = Publisher(config).start()
    ledger = os.open(args.ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    started, made = time.monotonic(), 0
    while not stop.is_set():
        event_id = probe.publish("sample", args.area, SAMPLE)
        os.write(ledger, f"{event_id}\n".encode())
        made += 1
        stop.wait(max(0.0, started + made / args.rate - time.monotonic()))
    probe.stop(drain_seconds=args.drain_seconds)
    os.close(ledger)


if __name__ == "__main__":
    main()
