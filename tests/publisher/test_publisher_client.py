"""The reference library against the real broker and `ioc ingest`: what an integrator relies on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest.mock import ANY

import pytest

from deploy.stack.manager import LocalStack
from ingest.broker.roles import ServiceRole
from ingest.registry.publishers import add_publisher
from publisher import Publisher, PublisherConfig
from tests.fixtures.ingest import ServiceProcess, count_rows, wait_for
from tests.fixtures.mqtt import open_client, unique_publisher_id
from tests.fixtures.stack import IsolatedDatabase

pytestmark = pytest.mark.integration
AREA = "24611"
SAMPLE = {
    "operator": "viettel", "technology": "4g", "download_mbps": 12.5, "upload_mbps": 3.1, "latency_ms": 48.0,
    "packet_loss_pct": 0.4,
}  # fmt: skip
EXAMPLE = Path(__file__).parents[2] / "examples" / "coverage_probe.py"

Register = Callable[[], tuple[str, str]]


@pytest.fixture(autouse=True)
def ingest(spawned_ingest: Callable[..., ServiceProcess]) -> ServiceProcess:
    """`ioc ingest` on the test's database, as one production process."""
    return spawned_ingest(shared=False)


@pytest.fixture
def register_probe(stack: LocalStack, database: IsolatedDatabase) -> Iterator[Register]:
    """Registers coverage probes at AREA: (id, password); their broker accounts go at teardown."""
    made: list[tuple[str, str]] = []

    def register() -> tuple[str, str]:
        probe_id = unique_publisher_id("probe")
        with database.connect() as conn:
            created = add_publisher(conn, stack.mosquitto.accounts, probe_id, "coverage", AREA)
        made.append((probe_id, created.password))
        return probe_id, created.password

    yield register
    for probe_id, password in made:
        # The retained status goes with the test (a later test's ingest would not know its publisher).
        client = open_client(stack, probe_id, password)
        if not client.wait_connected().is_failure:
            client.client.publish(f"ioc/v1/coverage/{probe_id}/status", b"", qos=1, retain=True).wait_for_publish(5)
        client.close()
        stack.mosquitto.accounts.delete(probe_id)


def retained_status(stack: LocalStack, probe_id: str) -> dict[str, object]:
    """The status the broker keeps for the probe, as a new subscriber (an operator's tool) receives it."""
    username = unique_publisher_id("reader")
    stack.mosquitto.accounts.set_service_account(username, "pw-reader", ServiceRole.INGEST)
    reader = open_client(stack, username, "pw-reader")
    try:
        assert not reader.wait_connected().is_failure
        reader.subscribe(f"ioc/v1/coverage/{probe_id}/status")
        return dict(json.loads(reader.wait_messages(1)[0].payload))
    finally:
        reader.close()
        stack.mosquitto.accounts.delete(username)


def config(stack: LocalStack, probe: tuple[str, str], queue: Path | None) -> PublisherConfig:
    return PublisherConfig(
        probe[0], probe[1], "coverage", host="127.0.0.1", port=stack.settings.mqtt_port,
        tls_context=stack.mosquitto.client_context(), queue_dir=queue,
    )  # fmt: skip


def statuses(database: IsolatedDatabase, probe_id: str) -> list[str]:
    with database.connect() as conn:
        rows = conn.execute(
            "SELECT state FROM publisher_status WHERE publisher_id = %s ORDER BY at, received_at", (probe_id,)
        ).fetchall()
    return [str(r[0]) for r in rows]


def test_events_are_stored_once_in_order_with_their_seq_and_the_status_goes_online_then_offline(
    stack: LocalStack,
    database: IsolatedDatabase,
    register_probe: Register,
    tmp_path: Path,
) -> None:
    probe = register_probe()
    publisher = Publisher(config(stack, probe, tmp_path / "queue")).start()
    assert publisher.wait_connected(10)
    made = [publisher.publish("sample", AREA, SAMPLE) for _ in range(300)]
    assert publisher.wait_drained(30)
    assert wait_for(lambda: count_rows(database, "coverage_samples") == 300)
    publisher.stop(clear_status=False)
    with database.connect() as conn:
        stored = conn.execute("SELECT event_id::text, seq FROM coverage_samples ORDER BY seq").fetchall()
    assert [str(e) for e, _ in stored] == made  # made order = seq order
    assert [s for _, s in stored] == list(range(1, 301))
    assert wait_for(lambda: statuses(database, probe[0]) == ["online", "offline"])
    assert count_rows(database, "dead_letters") == 0
    stats = publisher.stats
    assert (stats.acknowledged, stats.refused, stats.dropped, stats.pending) == (300, 0, 0, 0)


def test_a_message_the_broker_refuses_is_counted_and_not_sent_again_and_the_rest_goes_on(
    stack: LocalStack,
    database: IsolatedDatabase,
    register_probe: Register,
    tmp_path: Path,
) -> None:
    probe, other = register_probe(), register_probe()
    publisher = Publisher(config(stack, probe, tmp_path / "queue")).start()
    assert publisher.wait_connected(10)
    publisher.publish("sample", AREA, SAMPLE)
    publisher.publish_raw(f"ioc/v1/coverage/{other[0]}/sample", b'{"not": "mine"}')  # PUBACK 0x87
    publisher.publish("sample", AREA, SAMPLE)
    assert publisher.wait_drained(10)
    assert wait_for(lambda: count_rows(database, "coverage_samples") == 2)
    stats = publisher.stats
    assert (stats.acknowledged, stats.refused, stats.pending) == (2, 1, 0)
    publisher.stop()
    # Nothing of the refused message is left to send at the next start.
    again = Publisher(config(stack, probe, tmp_path / "queue")).start()
    assert again.wait_connected(10)
    assert again.stats.pending == 0
    again.stop()
    assert count_rows(database, "coverage_samples") == 2


def test_events_dropped_at_the_bound_are_reported_in_the_next_status_message(
    stack: LocalStack,
    database: IsolatedDatabase,
    register_probe: Register,
    tmp_path: Path,
) -> None:
    probe = register_probe()
    queue = tmp_path / "queue"
    offline = PublisherConfig(probe[0], probe[1], "coverage", host="127.0.0.1", port=1, queue_dir=queue,
                              max_queue_bytes=64 * 1024)  # fmt: skip  # nothing listens on port 1: offline
    cut_off = Publisher(offline).start()
    for _ in range(2000):  # about 600 kB of samples into 64 kB
        cut_off.publish("sample", AREA, SAMPLE)
    dropped, kept = cut_off.stats.dropped, cut_off.stats.pending
    assert dropped > 1000
    assert dropped + kept == 2000
    cut_off.stop(drain_seconds=0)

    online = Publisher(config(stack, probe, queue)).start()  # the same queue, the link is back
    assert online.wait_connected(10)
    assert online.wait_drained(30)
    assert wait_for(lambda: count_rows(database, "coverage_samples") == kept)
    with database.connect() as conn:
        seqs = [int(str(s)) for (s,) in conn.execute("SELECT seq FROM coverage_samples ORDER BY seq")]
    assert seqs == list(range(2001 - kept, 2001))  # the newest, the oldest went
    online.stop()
    # The retained status the broker keeps says how many went: what an operator's subscriber reads.
    assert retained_status(stack, probe[0]) == {"state": "offline", "at": ANY, "dropped": dropped}
    assert count_rows(database, "dead_letters") == 0  # `dropped` is part of the contract's status


def test_the_documented_example_runs_as_it_is_against_the_broker(
    stack: LocalStack,
    database: IsolatedDatabase,
    register_probe: Register,
    tmp_path: Path,
) -> None:
    probe = register_probe()
    env = {
        **os.environ, "PROBE_ID": probe[0], "PROBE_PASSWORD": probe[1], "BROKER_HOST": "127.0.0.1",
        "BROKER_PORT": str(stack.settings.mqtt_port), "PROBE_QUEUE": str(tmp_path / "queue"), "PROBE_AREA": AREA,
        "PROBE_INTERVAL_SECONDS": "0.1",
    }  # fmt: skip
    ca = stack.mosquitto.client_context()
    assert ca is None, "the test stack runs without TLS; give the example BROKER_CA when it does"
    example = subprocess.Popen([sys.executable, str(EXAMPLE)], env=env)
    try:
        assert wait_for(lambda: count_rows(database, "coverage_samples") >= 10, timeout=20)
    finally:
        example.send_signal(signal.SIGTERM)
        assert example.wait(30) == 0
    with database.connect() as conn:
        seqs = [int(str(s)) for (s,) in conn.execute("SELECT seq FROM coverage_samples ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1))
    assert wait_for(lambda: statuses(database, probe[0]) == ["online", "offline"])


def test_a_killed_publisher_is_offline_by_its_last_will_at_the_time_of_its_online(
    stack: LocalStack, database: IsolatedDatabase, register_probe: Register, tmp_path: Path
) -> None:
    probe = register_probe()
    argv = [
        sys.executable, "-m", "tests.publisher.ledger_probe", "--port", str(stack.settings.mqtt_port),
        "--publisher", probe[0], "--area", AREA, "--queue", str(tmp_path / "queue"),
        "--ledger", str(tmp_path / "ledger.txt"), "--rate", "10",
    ]  # fmt: skip
    process = subprocess.Popen(argv, env={**os.environ, "IOC_PROBE_PASSWORD": probe[1]})
    try:
        assert wait_for(lambda: count_rows(database, "coverage_samples") >= 5)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    assert wait_for(lambda: statuses(database, probe[0]) == ["online", "offline"], timeout=60)  # keepalive 30 s
    with database.connect() as conn:
        times = {str(s): a for s, a in conn.execute("SELECT state, at FROM publisher_status WHERE publisher_id = %s",
                                                   (probe[0],))}  # fmt: skip
    assert times["online"] == times["offline"]  # the tie the system breaks towards offline
