"""Trust: the reference publisher library loses nothing across a long outage and a kill in the middle.

A coverage probe on the library (`tests/publisher/ledger_probe.py`, a process with its disk queue)
publishes at a steady rate; the broker is stopped; halfway through the outage the probe is killed
with SIGKILL and started again on the same queue; the broker comes back. Every event the probe made
must then be stored by the real ingest in PostgreSQL, once. The fast profile stops the broker for
20 s, the full one for 10 minutes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.stack.manager import LocalStack
from ingest.registry.publishers import add_publisher
from tests.fixtures.ingest import count_rows, wait_for
from tests.fixtures.mqtt import open_client, unique_publisher_id
from tests.fixtures.verify import VerifyProfile
from tests.verify.conftest import IngestPath
from tests.verify.report import ScenarioResult

pytestmark = pytest.mark.integration
AREA = "24611"
RATE = 20.0  # samples/s: a busy probe; a real one sends one a minute


class Probe:
    def __init__(self, stack: LocalStack, probe_id: str, password: str, folder: Path) -> None:
        self.id, self.password = probe_id, password
        self.ledger = folder / "ledger.txt"
        self._argv = [
            sys.executable, "-m", "tests.publisher.ledger_probe", "--port", str(stack.settings.mqtt_port),
            "--publisher", probe_id, "--area", AREA, "--queue", str(folder / "queue"), "--ledger", str(self.ledger),
            "--rate", str(RATE),
        ]  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self._argv, env={**os.environ, "IOC_PROBE_PASSWORD": self.password})

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(120)

    def made(self) -> list[str]:
        return self.ledger.read_text().split()


@pytest.fixture
def probe(stack: LocalStack, ingest_path: IngestPath, tmp_path: Path) -> Iterator[Probe]:
    probe_id = unique_publisher_id("probe")
    with ingest_path.database.connect() as conn:
        created = add_publisher(conn, stack.mosquitto.accounts, probe_id, "coverage", AREA)
    made = Probe(stack, probe_id, created.password, tmp_path)
    yield made
    if made.process is not None and made.process.poll() is None:
        made.kill()
    if stack.mosquitto.health().state == "ok":  # its retained status goes with the test
        client = open_client(stack, probe_id, created.password)
        if not client.wait_connected().is_failure:
            client.client.publish(f"ioc/v1/coverage/{probe_id}/status", b"", qos=1, retain=True).wait_for_publish(5)
        client.close()
    stack.mosquitto.accounts.delete(probe_id)


def test_the_publisher_library_loses_nothing_across_an_outage_and_a_kill(
    ingest_path: IngestPath, probe: Probe, scenario: ScenarioResult, profile: VerifyProfile
) -> None:
    outage = profile.pick(fast=20.0, full=600.0)
    scenario.scenario = (
        f"Trust: the reference publisher library, broker down {outage:.0f} s, the publisher SIGKILLed"
        " and restarted while offline; every event it made stored once"
    )
    scenario.load = f"a coverage probe on the library (disk queue) at {RATE:.0f} events/s"
    stack, database = ingest_path.stack, ingest_path.database
    ingest = ingest_path.spawn_ingest()
    probe.start()
    assert wait_for(lambda: count_rows(database, "coverage_samples") >= 50, timeout=30)
    stack.mosquitto.stop()
    try:
        time.sleep(outage / 2)
        probe.kill()  # mid-outage: what it queued is only on its disk
        killed_with = len(probe.made())
        probe.start()
        time.sleep(outage / 2)
    finally:
        stack.mosquitto.start()
    back = time.monotonic()
    made_at_return = len(probe.made())
    assert wait_for(lambda: count_rows(database, "coverage_samples") >= made_at_return, timeout=120, interval=0.5)
    caught_up = time.monotonic() - back
    assert probe.terminate() == 0
    made = probe.made()
    assert wait_for(lambda: count_rows(database, "coverage_samples") >= len(made), timeout=60, interval=0.5)
    time.sleep(1.0)  # what a late copy would add
    with database.connect() as conn:
        stored = [str(e) for (e,) in conn.execute("SELECT event_id FROM coverage_samples")]
        seqs = [int(str(s)) for (s,) in conn.execute("SELECT seq FROM coverage_samples ORDER BY seq")]
        dead_letters = conn.execute("SELECT reason, detail, topic FROM dead_letters").fetchall()
    duplicates_seen = _metric(ingest.health_port, 'ioc_ingest_duplicates_total{event_type="sample"}')
    assert ingest.terminate() == 0

    scenario.lost = len(set(made) - set(stored))
    scenario.duplicated = len(stored) - len(set(stored))
    scenario.measure("events made (ledger) / stored", f"{len(made):,} / {len(stored):,}")
    scenario.measure("made before the kill", f"{killed_with:,}")
    scenario.measure("copies the ingest discarded as duplicates", f"{duplicates_seen:.0f}")
    scenario.measure("caught up after the broker returned", f"{caught_up:.1f} s")
    assert (scenario.lost, scenario.duplicated) == (0, 0)
    # The kill can fall between the library taking an event and the ledger line: one more stored, at most.
    assert len(made) <= len(stored) <= len(made) + 1
    assert seqs == list(range(1, len(seqs) + 1))  # no seq reused or skipped across the kill
    assert dead_letters == []


def _metric(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " ")]
    return values[0] if values else 0.0  # a labelled counter appears with its first increment
