"""The benchmarks' load: every line handed over once, in order, at its publisher's rate (real broker)."""

from __future__ import annotations

import json
from datetime import datetime

from deploy.stack.manager import LocalStack
from tests.fixtures.ingest import IngestAccount
from tests.fixtures.mqtt import BlockingClient, open_client, unique_publisher_id
from tools.bench.feeders import PublisherFeeder, feed
from tools.bench.workload import BenchPublisher, EventFactory, templates


def test_paced_and_flooding_feeders_hand_over_every_line_once_in_order_at_their_rate(
    stack: LocalStack, ingest_account: IngestAccount, mqtt_clients: list[BlockingClient]
) -> None:
    watcher = open_client(stack, ingest_account.username, ingest_account.password, unique_publisher_id("w"))
    mqtt_clients.append(watcher)
    watcher.wait_connected()
    watcher.subscribe("ioc/v1/+/+/+")
    factory = EventFactory(["24611"])
    plan = {"payments": (10, 20.0), "coverage": (10, 20.0), "portal": (30, 0.0)}  # lines, rate (0: flood)
    publishers = {
        source: BenchPublisher(unique_publisher_id("feed"), source, event_type)
        for source, event_type in [("payments", "transaction"), ("coverage", "sample"), ("portal", "dossier")]
    }
    feeders = []
    for source, publisher in publishers.items():
        lines, rate = plan[source]
        stack.mosquitto.accounts.set_publisher(publisher.id, source, "pw-" + publisher.id)
        feeders.append(
            PublisherFeeder(
                publisher, "pw-" + publisher.id, stack.settings.mqtt_port, templates(factory, publisher, lines), rate
            )
        )
    try:
        feed(feeders, timeout_seconds=30)
        received = watcher.wait_messages(50, timeout=10)
    finally:
        for publisher in publishers.values():
            stack.mosquitto.accounts.delete(publisher.id)

    for source, publisher in publishers.items():
        events = [json.loads(m.payload) for m in received if m.topic == publisher.topic]
        lines, rate = plan[source]
        assert [e["seq"] for e in events] == list(range(1, lines + 1))
        if rate:
            stamps = [datetime.fromisoformat(e["occurred_at"]).timestamp() for e in events]
            # The n-th line is due (n - 1) / rate seconds after the first, and is stamped when handed over.
            assert stamps == sorted(stamps)
            assert stamps[-1] - stamps[0] >= (lines - 1) / rate - 0.01
    assert len(received) == 50
