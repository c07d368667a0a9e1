"""Fault 4: Mosquitto restarted with SIGTERM under sustained load: nothing it acknowledged is lost."""

from __future__ import annotations

import time

import pytest

from deploy.stack.manager import LocalStack
from tests.fixtures.ingest import IngestAccount, spawn_ingest, wait_for
from tests.fixtures.stack import IsolatedDatabase
from tests.fixtures.verify import VerifyProfile
from tests.verify.conftest import StartLoad
from tests.verify.report import ScenarioResult

pytestmark = pytest.mark.integration

RATE = 5000


def test_broker_restarted_with_sigterm_loses_nothing_it_acknowledged(
    stack: LocalStack,
    database: IsolatedDatabase,
    ingest_account: IngestAccount,
    start_load: StartLoad,
    scenario: ScenarioResult,
    profile: VerifyProfile,
) -> None:
    restarts = profile.pick(fast=1, full=3)
    scenario.scenario = f"4. Mosquitto restarted with SIGTERM ×{restarts}"
    ingest = spawn_ingest(stack, database, ingest_account)
    seconds = 10 + 20 * restarts
    load = start_load(RATE, seconds)
    scenario.load = f"{RATE:,} events/s for {seconds} s"
    downtimes = []
    for _ in range(restarts):
        time.sleep(10)
        stopping = time.monotonic()
        stack.mosquitto.stop()  # SIGTERM: the broker saves its sessions and queues, then exits
        stack.mosquitto.start()
        downtimes.append(time.monotonic() - stopping)
        time.sleep(10)
    load.wait()
    wait_for(lambda: load.stored_rows(database) >= load.acknowledged(), timeout=120, interval=0.5)
    result = load.account(database)
    scenario.lost, scenario.duplicated = result.lost, result.duplicated_rows
    scenario.measure("acknowledged by the broker", result.acknowledged)
    scenario.measure("not acknowledged (publisher told)", result.sent - result.acknowledged)
    scenario.measure("broker down s (max)", max(downtimes))
    assert result.exact, result.summary()
    assert result.stored_once >= result.acknowledged
    assert ingest.terminate() == 0
