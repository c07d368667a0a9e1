"""Trust under hostile and careless publishers, replayed against the real stack and `ioc ingest`.

1. A registered publisher subscribes to the ingest's shared subscription. Under the plain ACL file the
   broker granted it, put it in the group's round robin, refused it every delivery and threw its share
   away (1,000 events acknowledged to their publisher: 500 stored, 500 lost with `--workers 2`). Now the
   SUBSCRIBE is refused at SUBACK and every event is stored once.
2. A publisher leaves retained messages of 200 KB under its own id. Each is processed once (a dead letter
   with its reason), its retained copy is deleted within a minute (counted for the publisher and in the
   ingest's metrics), an ingest restart receives none of them again, and the broker's memory comes back.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from deploy.stack.manager import LocalStack
from deploy.stack.mosquitto import INGEST_USERNAMES, MONITOR_USERNAME, clear_session
from deploy.stack.service import read_pid
from ingest.broker.control import BrokerEndpoint
from ingest.broker.roles import ServiceRole
from ingest.mqtt.retained import sweep_retained
from runtime.health import is_healthy
from tests import factories
from tests.fixtures.ingest import (
    EventStream,
    IngestAccount,
    Publisher,
    count_rows,
    free_port,
    spawn_ingest,
    stored_event_ids,
    wait_for,
)
from tests.fixtures.mqtt import BlockingClient, open_client, unique_publisher_id
from tests.fixtures.stack import IsolatedDatabase, cli_environment
from tests.fixtures.verify import VerifyProfile
from tests.verify.report import ScenarioResult

pytestmark = pytest.mark.integration
SHARED_FILTER = "$share/ingest/ioc/v1/#"
RETAINED_BYTES = 200 * 1024


@pytest.fixture
def ingest_workers(stack: LocalStack, database: IsolatedDatabase) -> Iterator[Callable[[int], None]]:
    """`ioc ingest --workers N` as a process (the stack's ingest accounts, shared group `ingest`)."""
    started: list[tuple[subprocess.Popen[bytes], int]] = []

    def start(count: int) -> None:
        base = free_port()
        env = cli_environment(stack, IOC_DATABASE_URL=database.url, IOC_INGEST_HEALTH_PORT=str(base))
        argv = [sys.executable, "-m", "cli", "ingest", "--workers", str(count)]
        started.append((subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL), count))
        ready = wait_for(lambda: all(is_healthy(base + i) for i in range(count)), timeout=30)
        assert ready, "the workers did not become ready"

    yield start
    for process, count in started:
        process.terminate()
        assert process.wait(60) == 0
        # Their sessions in the group would otherwise collect every later test's messages.
        for username in INGEST_USERNAMES[:count]:
            clear_session(stack.settings.mqtt_port, username, stack.secrets.mqtt_service_password)


def test_a_publisher_cannot_take_a_share_of_the_ingest_group(
    stack: LocalStack,
    database: IsolatedDatabase,
    ingest_workers: Callable[[int], None],
    register_publisher: Callable[..., Publisher],
    mqtt_clients: list[BlockingClient],
    scenario: ScenarioResult,
    profile: VerifyProfile,
) -> None:
    count, rate = profile.pick(fast=(1_000, 1_000.0), full=(10_000, 2_000.0))
    scenario.scenario = (
        "Trust: a publisher's SUBSCRIBE to the ingest's shared subscription is refused at SUBACK;"
        f" {count:,} events with `ioc ingest --workers 2` all stored"
    )
    scenario.load = f"{count:,} transactions at {rate:,.0f}/s; thieves on MQTT 5 and 3.1.1 subscribed meanwhile"
    ingest_workers(2)
    suback = {}
    for protocol, name in ((mqtt.MQTTv5, "MQTT 5"), (mqtt.MQTTv311, "MQTT 3.1.1")):
        thief = register_publisher("portal")
        client = open_client(stack, thief.id, thief.client.password, protocol=protocol)
        thief.client.close()  # the same account connects again, now with this protocol
        mqtt_clients.append(client)
        assert not client.wait_connected().is_failure
        client.subscribe(SHARED_FILTER)
        suback[name] = client.subscribe_codes[-1][0].value

    payments = register_publisher("payments")
    stream = EventStream(payments, count=count, rate=rate).start()
    stream.join()
    wait_for(lambda: count_rows(database, "payment_transactions") >= count, timeout=60)
    time.sleep(1.0)  # what a late redelivery would add
    stored = stored_event_ids(database)
    scenario.lost = len(set(stream.event_ids) - set(stored))
    scenario.duplicated = len(stored) - len(set(stored))
    scenario.measure("SUBACK to $share/ingest/ioc/v1/#", " / ".join(f"{n} {c:#04x}" for n, c in suback.items()))
    scenario.measure("stored once", f"{len(set(stored)):,} of {count:,}")
    assert (scenario.lost, scenario.duplicated) == (0, 0)
    assert suback == {"MQTT 5": 0x87, "MQTT 3.1.1": 0x80}


def test_retained_events_are_processed_once_and_cleared_within_a_minute(
    stack: LocalStack,
    database: IsolatedDatabase,
    ingest_account: IngestAccount,
    register_publisher: Callable[..., Publisher],
    retained_on_broker: Callable[[], list[str]],
    scenario: ScenarioResult,
    profile: VerifyProfile,
) -> None:
    retained, neighbour_events, sweep_seconds = profile.pick(fast=(20, 100, 10), full=(200, 1_000, 30))
    scenario.scenario = (
        f"Trust: {retained} retained 200 KB events processed once and cleared from the broker within a minute"
        " (broker size before/after)"
    )
    scenario.load = (
        f"{retained} retained messages of 200 KB on topics under the publisher's own id, 1 retained valid event"
        f" and its retained status; a neighbour's {neighbour_events:,} events; sweeps every {sweep_seconds} s"
    )
    sweeps = {"IOC_INGEST_RETAINED_SWEEP_SECONDS": str(sweep_seconds)}
    ingest = spawn_ingest(stack, database, ingest_account, shared=False, **sweeps)
    before = _broker_figures(stack)
    careless, neighbour = register_publisher("portal"), register_publisher("payments")
    mine = f"ioc/v1/portal/{careless.id}"
    valid = factories.dossier()
    publishes = [(f"{mine}/dossier/{n}", f"{n:08d}".encode() * (RETAINED_BYTES // 8)) for n in range(retained)]
    publishes += [
        (f"{mine}/dossier", factories.encode(valid)),
        (f"{mine}/status", factories.encode(factories.status())),
    ]
    infos = [careless.client.client.publish(topic, payload, qos=1, retain=True) for topic, payload in publishes]
    for info in infos:
        info.wait_for_publish(30)
    published_at = time.monotonic()
    holding = _broker_rss(stack)
    acknowledged = sum(careless.client.publish_codes[i.mid].value in (0, 0x10) for i in infos)
    stream = EventStream(neighbour, count=neighbour_events, rate=500).start()
    stream.join()

    def dead_letters() -> int:
        return count_rows(database, "dead_letters", f"publisher_id = '{careless.id}'")

    wait_for(lambda: dead_letters() >= retained, timeout=60)

    def left() -> list[str]:
        return [topic for topic in retained_on_broker() if topic.startswith(mine + "/")]

    wait_for(lambda: left() == [f"{mine}/status"], timeout=75, interval=1.0)
    cleared_after = time.monotonic() - published_at
    left_at_end = left()
    wait_for(lambda: count_rows(database, "payment_transactions") >= neighbour_events, timeout=60)
    with database.connect() as conn:
        row = conn.execute(
            "SELECT retained_cleared, retained_cleared_at IS NOT NULL FROM publishers WHERE id = %s", (careless.id,)
        ).fetchone()
        reasons = dict(conn.execute(
            "SELECT reason, count(*) FROM dead_letters WHERE publisher_id = %s GROUP BY reason", (careless.id,)
        ).fetchall())  # fmt: skip
    metric = _metric(ingest.health_port, "ioc_ingest_retained_cleared_total")
    assert ingest.terminate() == 0

    # A restart subscribes again: of the careless publisher's messages only its status comes back (a
    # duplicate). Counted by the process's metrics: a repeated dead letter adds no row.
    restarted = spawn_ingest(stack, database, ingest_account, shared=False)
    neighbour.client.publish(neighbour.topic("transaction"), factories.encode(factories.transaction()))
    wait_for(lambda: count_rows(database, "payment_transactions") >= neighbour_events + 1, timeout=30)
    redelivered = sum(
        _metric(restarted.health_port, name)
        for name in (
            'ioc_ingest_dead_letters_total{reason="topic_invalid"}',
            'ioc_ingest_duplicates_total{event_type="dossier"}',
        )
    )
    assert restarted.terminate() == 0
    # Its status, retained by contract, goes with the test (later tests' ingest would receive it).
    careless.client.client.publish(f"{mine}/status", b"", qos=1, retain=True).wait_for_publish(5)
    after = _broker_figures(stack)
    stored = stored_event_ids(database) + stored_event_ids(database, "portal_dossier_events")

    expected = set(stream.event_ids) | {str(valid["event_id"])}
    scenario.lost = len(expected - set(stored))
    scenario.duplicated = len(stored) - len(set(stored))
    scenario.measure("acknowledged to the publisher", f"{acknowledged} of {len(publishes)}")
    scenario.measure("dead letters", ", ".join(f"{r} {n}" for r, n in sorted(reasons.items())))
    scenario.measure("retained cleared (publisher's record / metric)", f"{row and row[0]} / {metric:.0f}")
    scenario.measure("cleared within", f"{cleared_after:.0f} s of the last PUBACK ({len(left_at_end)} retained left)")
    scenario.measure("redelivered at an ingest restart", f"{redelivered:.0f}")
    scenario.measure("broker's stored messages before / after", f"{before[0]:,} / {after[0]:,} bytes")
    rss = " / ".join(f"{b / 1e6:.1f}" for b in (before[1], holding, after[1]))
    scenario.measure("broker RSS before / holding them / after", f"{rss} MB")
    assert (scenario.lost, scenario.duplicated) == (0, 0)
    assert acknowledged == len(publishes)
    assert reasons == {"topic_invalid": retained}
    assert row == (retained + 1, True)
    assert metric == retained + 1
    assert left_at_end == [f"{mine}/status"]
    assert cleared_after < 60 + 15  # a sweep every `sweep_seconds`; the probe looks every second
    assert redelivered == 0
    assert after[0] < before[0] + RETAINED_BYTES  # what it stores: the careless publisher's status, not its 200 KB


@pytest.fixture
def retained_on_broker(stack: LocalStack) -> Iterator[Callable[[], list[str]]]:
    """What the broker keeps retained under `ioc/v1/#` right now, as a fresh subscriber sees it."""
    username, password = unique_publisher_id("probe"), "pw-probe"
    stack.mosquitto.accounts.set_service_account(username, password, ServiceRole.INGEST)
    endpoint = BrokerEndpoint("127.0.0.1", stack.settings.mqtt_port, username, password)
    found: list[str] = []

    def keep(topic: str) -> bool:
        found.append(topic)
        return False

    def probe() -> list[str]:
        found.clear()
        sweep_retained(endpoint, "ioc/v1/#", keep, 20.0, threading.Event())
        return sorted(found)

    yield probe
    stack.mosquitto.accounts.delete(username)


def _broker_figures(stack: LocalStack) -> tuple[int, int]:
    """What the broker holds: the bytes of its stored messages (`$SYS`) and its resident memory (bytes)."""
    client = open_client(stack, MONITOR_USERNAME, stack.secrets.mqtt_service_password)
    try:
        assert not client.wait_connected().is_failure
        client.subscribe("$SYS/broker/store/messages/bytes")
        # The retained copy first; the broker publishes a value again within its `sys_interval` (10 s)
        # only if it changed since.
        assert client.wait_messages(1), "no $SYS publication"
        client.wait_messages(2, timeout=11)
        stored = int(client.received[-1].payload)
    finally:
        client.close()
    return stored, _broker_rss(stack)


def _broker_rss(stack: LocalStack) -> int:
    pid = read_pid(stack.mosquitto.pid_file, "mosquitto")
    assert pid is not None
    status = Path(f"/proc/{pid}/status").read_text()
    return next(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:"))


def _metric(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " ")]
    return values[0] if values else 0.0  # a labelled counter appears with its first increment
