"""The baseline: one paho QoS 1 subscriber that only receives (auto-acknowledged), nothing else.

Run as `python -m tools.bench.receive_only PORT USERNAME TOPIC EXPECTED TIMEOUT` with the password
in `IOC_BENCH_MQTT_PASSWORD`; prints `{"received": n, "seconds": s}` (first to last message).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode


def main(argv: list[str]) -> int:
    port, username, topic, expected, timeout = int(argv[0]), argv[1], argv[2], int(argv[3]), float(argv[4])
    counts = {"n": 0}
    first = [0.0]
    last = [0.0]
    done = threading.Event()
    ready = threading.Event()

    def on_connect(c: mqtt.Client, u: object, f: object, rc: ReasonCode, p: object) -> None:
        c.subscribe(topic, qos=1)

    def on_subscribe(c: mqtt.Client, u: object, mid: int, codes: object, p: object) -> None:
        ready.set()

    def on_message(c: mqtt.Client, u: object, message: mqtt.MQTTMessage) -> None:
        now = time.monotonic()
        if counts["n"] == 0:
            first[0] = now
        counts["n"] += 1
        last[0] = now
        if counts["n"] >= expected:
            done.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=username, protocol=mqtt.MQTTv5)
    client.username_pw_set(username, os.environ["IOC_BENCH_MQTT_PASSWORD"])
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect("127.0.0.1", port, keepalive=60, clean_start=True)
    client.loop_start()
    if ready.wait(10):
        print("subscribed", flush=True)
    done.wait(timeout)
    client.disconnect()
    client.loop_stop()
    print(json.dumps({"received": counts["n"], "seconds": max(last[0] - first[0], 1e-9)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
