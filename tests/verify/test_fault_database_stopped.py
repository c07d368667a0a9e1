"""Fault 2: PostgreSQL stopped for 30 s under sustained load, then started."""

from __future__ import annotations

import time

import pytest

from deploy.stack.manager import LocalStack
from tests.fixtures.ingest import IngestAccount, spawn_ingest, wait_for
from tests.fixtures.stack import IsolatedDatabase
from tests.fixtures.verify import VerifyProfile
from tests.verify.conftest import StartLoad
from tests.verify.probes import health_status, storage_lag_seconds
from tests.verify.report import ScenarioResult

pytestmark = pytest.mark.integration

RATE = 5000


def test_postgresql_stopped_for_30_seconds_loses_nothing_and_catches_up(
    stack: LocalStack,
    database: IsolatedDatabase,
    ingest_account: IngestAccount,
    start_load: StartLoad,
    scenario: ScenarioResult,
    profile: VerifyProfile,
) -> None:
    outage_seconds = profile.pick(fast=10, full=30)
    scenario.scenario = f"2. PostgreSQL stopped for {outage_seconds} s, then started"
    ingest = spawn_ingest(stack, database, ingest_account)
    seconds = 10 + outage_seconds + profile.pick(fast=25, full=60)
    load = start_load(RATE, seconds)
    scenario.load = f"{RATE:,} events/s for {seconds} s"
    time.sleep(10)
    stack.postgres.stop()
    stopped_at = time.monotonic()
    try:
        assert wait_for(lambda: health_status(ingest.health_port) == "degraded", timeout=10, interval=0.2)
        degraded_after = time.monotonic() - stopped_at
        time.sleep(max(0.0, outage_seconds - (time.monotonic() - stopped_at)))
    finally:
        stack.postgres.start()
    started_at = time.monotonic()
    caught_up = wait_for(lambda: (storage_lag_seconds(database, load.publisher_ids) or 1e9) < 2, 60, 0.25)
    lag_back_after = time.monotonic() - started_at
    load.wait()
    wait_for(lambda: load.stored_rows(database) >= load.sent(), timeout=60, interval=0.5)
    result = load.account(database)
    scenario.lost, scenario.duplicated = result.lost, result.duplicated_rows
    scenario.measure("degraded after s", degraded_after)
    scenario.measure("lag < 2 s again after s", lag_back_after)
    scenario.measure("stored once", result.stored_once)
    assert degraded_after <= 10
    assert caught_up, "storage lag stayed at 2 s or more for 60 s after PostgreSQL started"
    assert result.exact, result.summary()
    assert result.unconfirmed == 0
    assert result.stored_once == result.sent
    assert health_status(ingest.health_port) == "ok"
    assert ingest.terminate() == 0
