"""A coverage probe on a flaky village link: samples wait on disk until the broker acknowledges them."""

import os
import signal
import threading

from publisher import Publisher, PublisherConfig

config = PublisherConfig(
    publisher_id=os.environ["PROBE_ID"], password=os.environ["PROBE_PASSWORD"], source="coverage",
    host=os.environ.get("BROKER_HOST", "localhost"), port=int(os.environ.get("BROKER_PORT", "8883")),
    ca_file=os.environ.get("BROKER_CA"),  # the broker's CA, for TLS: leave it unset only on a test broker
    queue_dir=os.environ.get("PROBE_QUEUE", "/var/lib/probe/queue"),  # survives reboots; 100 MB at most
)  # fmt: skip
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
with Publisher(config) as probe:  # connects; `online` now, `offline` as its last will and on stop
    while not stop.is_set():
        sample = {"operator": "viettel", "technology": "4g", "download_mbps": 12.5, "upload_mbps": 3.1,
                  "latency_ms": 48.0, "packet_loss_pct": 0.4}  # fmt: skip  # your measurement here
        probe.publish("sample", area_code=os.environ["PROBE_AREA"], fields=sample)  # event_id, seq, time
        stop.wait(float(os.environ.get("PROBE_INTERVAL_SECONDS", "60")))
