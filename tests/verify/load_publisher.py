"""A publisher of valid events at a set rate that remembers what the broker acknowledged.

Run as a process (`python -m tests.verify.load_publisher …`, password in `IOC_VERIFY_PASSWORD`) so
that its paho loop never competes with the test for the GIL. It publishes QoS 1 for `--seconds`
or until SIGTERM, waits for the outstanding acknowledgements, and writes its ledger: one CSV line
per message `(publisher_id, seq, event_id, sha256(payload), acknowledged, expected_reason)`, the
accounting's input. Every event's `occurred_at` is the moment it was handed to paho.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import signal
import threading
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tools.bench.workload import BenchPublisher, EventFactory

_TICK_SECONDS = 0.01
_MAX_QUEUED = 50_000  # paho's own queue while the broker is away: bounded, a refusal is recorded
_EVENT_ID_AT = len(b'{"event_id":"')


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--publisher", required=True)
    parser.add_argument("--source", required=True, choices=("payments", "coverage", "portal"))
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--ledger", type=Path, required=True)
    parser.add_argument("--areas", required=True, help="comma-separated area codes")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--drain-seconds", type=float, default=60.0)
    return parser.parse_args()


class LedgerPublisher:
    def __init__(self, args: argparse.Namespace, password: str) -> None:
        event_type = {"payments": "transaction", "coverage": "sample", "portal": "dossier"}[args.source]
        self._publisher = BenchPublisher(args.publisher, args.source, event_type)
        self._factory = EventFactory(args.areas.split(","), seed=args.seed)
        self._args = args
        self._stop = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=args.publisher, protocol=mqtt.MQTTv311)
        self._client.username_pw_set(args.publisher, password)
        self._client.max_inflight_messages_set(200)
        self._client.max_queued_messages_set(_MAX_QUEUED)
        self._client.reconnect_delay_set(0.2, 2)
        self._event_ids: list[str] = []
        self._digests: list[str] = []
        self._acknowledged: list[bool] = []
        # Message ids are 16 bits: paho's queue stays well below 65,535 so that no id is in use twice.
        self._in_flight: dict[int, int] = {}
        self._acked_mids: deque[int] = deque()
        self._client.on_publish = self._on_publish

    def stop(self, *_: object) -> None:
        self._stop.set()

    def run(self) -> None:
        self._client.connect("127.0.0.1", self._args.port, keepalive=10)
        self._client.loop_start()
        try:
            self._publish_for(self._args.seconds)
            self._drain(self._args.drain_seconds)
        finally:
            self._client.disconnect()
            self._client.loop_stop()
        self._write_ledger()

    def _publish_for(self, seconds: float) -> None:
        started = time.monotonic()
        sent = 0
        while not self._stop.is_set() and (elapsed := time.monotonic() - started) < seconds:
            due = int(elapsed * self._args.rate)
            while sent < due:
                sent += 1
                self._publish_one(sent)
            self._settle()
            self._stop.wait(_TICK_SECONDS)

    def _publish_one(self, seq: int) -> None:
        payload = self._factory.payload(self._publisher, seq, datetime.now(UTC))
        self._event_ids.append(payload[_EVENT_ID_AT : _EVENT_ID_AT + 36].decode())
        self._digests.append(hashlib.sha256(payload).hexdigest())
        self._acknowledged.append(False)
        info = self._client.publish(self._publisher.topic, payload, qos=1)
        if info.rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):  # queued: sent once reconnected
            self._in_flight[info.mid] = seq - 1

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, *rest: object) -> None:
        self._acked_mids.append(mid)  # paho's thread: only a thread-safe append here

    def _settle(self) -> None:
        while self._acked_mids:
            index = self._in_flight.pop(self._acked_mids.popleft(), None)
            if index is not None:
                self._acknowledged[index] = True

    def _drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._settle()
            if not self._in_flight:
                return
            time.sleep(_TICK_SECONDS)

    def _write_ledger(self) -> None:
        with self._args.ledger.open("w", newline="") as out:
            writer = csv.writer(out)
            for i, (event_id, digest) in enumerate(zip(self._event_ids, self._digests, strict=True)):
                writer.writerow((self._args.publisher, i + 1, event_id, "\\x" + digest, self._acknowledged[i], ""))


def main() -> None:
    args = _arguments()
    publisher = LedgerPublisher(args, os.environ["IOC_VERIFY_PASSWORD"])
    signal.signal(signal.SIGTERM, publisher.stop)
    publisher.run()


if __name__ == "__main__":
    main()
