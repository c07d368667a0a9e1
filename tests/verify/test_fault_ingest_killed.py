"""Fault 1: ingest killed with SIGKILL at random moments under sustained load: 0 lost, 0 duplicated."""

from __future__ import annotations

import random
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


def test_ingest_killed_with_sigkill_at_random_moments(
    stack: LocalStack,
    database: IsolatedDatabase,
    ingest_account: IngestAccount,
    start_load: StartLoad,
    scenario: ScenarioResult,
    profile: VerifyProfile,
) -> None:
    kills = profile.pick(fast=3, full=20)
    seconds = 4.0 * kills + 6
    scenario.scenario = f"1. ingest killed with SIGKILL ×{kills} at random moments"
    scenario.load = f"{RATE:,} events/s for {seconds:.0f} s"
    chance = random.Random(kills)
    ingest = spawn_ingest(stack, database, ingest_account)
    load = start_load(RATE, seconds)
    started = time.monotonic()
    for _ in range(kills):
        time.sleep(chance.uniform(1.0, 5.0))
        ingest.kill()  # no flush, no acknowledgement: the broker redelivers what was not acknowledged
        ingest = spawn_ingest(stack, database, ingest_account)
    load.wait()
    elapsed = time.monotonic() - started
    wait_for(lambda: load.stored_rows(database) >= load.sent(), timeout=120, interval=0.5)
    result = load.account(database)
    scenario.lost, scenario.duplicated = result.lost, result.duplicated_rows
    scenario.measure("published/s", result.sent / elapsed)
    scenario.measure("stored once", result.stored_once)
    assert result.exact, result.summary()
    assert result.unconfirmed == 0
    assert result.stored_once == result.sent
    assert ingest.terminate() == 0
