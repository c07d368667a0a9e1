"""Fault 7: a silent network partition between ingest and the broker, under 5,000 events/s."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
from psycopg.conninfo import make_conninfo

from tests.fixtures.ingest import free_port, wait_for
from tests.fixtures.stack import cli_environment
from tests.fixtures.verify import VerifyProfile
from tests.verify.conftest import IngestPath, settle_and_account
from tests.verify.partition import IsolatedIngestNetwork
from tests.verify.report import ScenarioResult

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

RATE = 5000
KEEPALIVE_SECONDS = 6
_DISCONNECTED = "disconnected from the broker"
_CONNECTED = "connected to the broker"


def _logged_at(log: Path, needle: str) -> list[float]:
    """When ingest logged lines containing `needle` (its log times are UTC), as Unix times."""
    return [
        datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=UTC).timestamp()
        for line in log.read_text(errors="replace").splitlines()
        if needle in line
    ]


def _connected(log: Path) -> bool:
    return len(_logged_at(log, _CONNECTED)) > len(_logged_at(log, _DISCONNECTED))


def _more_than(log: Path, needle: str, count: int) -> bool:
    return len(_logged_at(log, needle)) > count


def test_a_silent_partition_is_detected_within_one_and_a_half_keepalives_and_loses_nothing(
    ingest_path: IngestPath, scenario: ScenarioResult, profile: VerifyProfile, tmp_path: Path
) -> None:
    partitions = profile.pick(fast=1, full=3)
    seconds = 600  # at most: stopped 10 s after the last partition healed
    scenario.scenario = f"7. silent network partition ingest ↔ broker ×{partitions} (keepalive {KEEPALIVE_SECONDS} s)"
    stack, database, account = ingest_path.stack, ingest_path.database, ingest_path.account
    network = IsolatedIngestNetwork(tmp_path / "net", stack.settings.mqtt_port, stack.settings.pg_port)
    log = tmp_path / "ingest.log"
    env = cli_environment(
        stack, TZ="UTC",
        IOC_DATABASE_URL=make_conninfo(database.url, host=str(network.database_socket_dir),
                                       port=str(network.DATABASE_SOCKET_PORT)),
        IOC_MQTT_HOST="127.0.0.1", IOC_MQTT_PORT=str(network.BROKER_PORT), IOC_MQTT_USERNAME=account.username,
        IOC_MQTT_PASSWORD=account.password, IOC_INGEST_SHARED_GROUP="", IOC_INGEST_HEALTH_PORT=str(free_port()),
        IOC_MQTT_KEEPALIVE_SECONDS=str(KEEPALIVE_SECONDS),
    )  # fmt: skip
    with log.open("w") as log_file:
        ingest = subprocess.Popen(
            [*network.exec_prefix(), sys.executable, "-m", "cli", "ingest"], env=env, stderr=log_file
        )
    detections = []
    try:
        assert wait_for(partial(_connected, log), timeout=30), "ingest did not connect"
        load, started = ingest_path.start_load(RATE, seconds), time.monotonic()
        for _ in range(partitions):
            # Connected again (the reconnection backs off while a partition lasts): one more
            # "connected" line than "disconnected" ones.
            assert wait_for(partial(_connected, log), timeout=30), "ingest did not reconnect"
            time.sleep(10)
            earlier = len(_logged_at(log, _DISCONNECTED))
            network.partition()
            cut_at = time.time()
            try:
                noticed = wait_for(partial(_more_than, log, _DISCONNECTED, earlier), 3 * KEEPALIVE_SECONDS)
                assert noticed, "ingest did not notice the partition"
                detections.append(_logged_at(log, _DISCONNECTED)[-1] - cut_at)
                time.sleep(max(0.0, 15 - (time.time() - cut_at)))
            finally:
                network.heal()
        time.sleep(10)
        load.stop()  # after the last heal and 10 s more: a partition never falls on an idle link
        scenario.load = f"{RATE:,} events/s for {time.monotonic() - started:.0f} s"
        stored = settle_and_account(load, database, scenario)
        ingest.terminate()
        assert ingest.wait(30) == 0
    finally:
        if ingest.poll() is None:
            ingest.kill()
            ingest.wait(10)
        network.close()
    scenario.measure("detected after s (max)", max(detections))
    scenario.measure("bound s (1.5 × keepalive)", 1.5 * KEEPALIVE_SECONDS)
    assert max(detections) <= 1.5 * KEEPALIVE_SECONDS, detections
    assert stored.exact, stored.summary()
    assert stored.stored_once == stored.sent
