"""Faults 5 and 6, on the live path (stored-events stream → engine → Redis → API → walls), under 5,000 events/s."""

from __future__ import annotations

import time
from functools import partial

import psycopg
import pytest

from api.http.auth.keys import ApiKeyRepository, Scope
from tests.fixtures.api import api_process
from tests.fixtures.ingest import wait_for
from tests.fixtures.kpi_sql import sql_mismatches
from tests.fixtures.streams import current_frames
from tests.fixtures.verify import VerifyProfile
from tests.verify.conftest import IngestPath, settle_and_account
from tests.verify.report import ScenarioResult
from tests.verify.wall_mirror import WallMirrorProcess
from tools.bench.wall_watch import WatchConfig

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

RATE = 5000
PROVINCE = "67"


def _top_areas(db: psycopg.Connection[tuple[object, ...]]) -> set[str]:
    """The province and its districts: every event counts in one of them, so a lost or doubled one shows."""
    return {str(r[0]) for r in db.execute("SELECT code FROM areas WHERE level IN ('province', 'district')")}


def _settled(redis_url: str) -> bool:
    """True when the engine's current values are the same now as 2 s ago."""
    before = current_frames(redis_url)
    time.sleep(2)
    return bool(before) and current_frames(redis_url) == before


def test_engine_killed_and_restarted_gives_the_values_of_an_uninterrupted_run(
    ingest_path: IngestPath, redis_url: str, scenario: ScenarioResult, profile: VerifyProfile
) -> None:
    kills = profile.pick(fast=1, full=3)
    seconds = profile.pick(fast=30, full=90)
    scenario.scenario = f"6. streams engine killed with SIGKILL ×{kills} and restarted"
    scenario.load = f"{RATE:,} events/s for {seconds} s"
    database = ingest_path.database
    ingest = ingest_path.spawn_ingest(IOC_REDIS_URL=redis_url)
    engine = ingest_path.spawn_engine(redis_url)
    load = ingest_path.start_load(RATE, seconds)
    recoveries = []
    for _ in range(kills):
        time.sleep(seconds / (kills + 1))
        engine.kill()
        restarted = time.monotonic()
        engine = ingest_path.spawn_engine(redis_url)  # rebuilds from the database, then follows the stream
        recoveries.append(time.monotonic() - restarted)
    load.wait()
    stored = settle_and_account(load, database, scenario)
    assert stored.exact, stored.summary()
    # The last events take a coalescing interval (1 s for the long windows) to show: compare once
    # the values have stopped changing. The province counts every event: a lost or doubled one shows.
    assert wait_for(partial(_settled, redis_url), timeout=60, interval=0.5), "the engine's values kept changing"
    with database.connect() as db:
        compared = [f for f in current_frames(redis_url).values() if f.area == PROVINCE]
        wrong = sql_mismatches(db, compared)
    scenario.measure("province frames compared", len(compared))
    scenario.measure("frames unequal", len(wrong))
    scenario.measure("restart → healthy s (max)", max(recoveries))
    assert len(compared) > 50
    assert wrong == [], wrong[:5]
    assert engine.terminate() == 0
    assert ingest.terminate() == 0


def test_redis_restarted_during_fan_out_every_wall_resynchronises_to_the_servers_state(
    ingest_path: IngestPath, redis_url: str, scenario: ScenarioResult, profile: VerifyProfile
) -> None:
    walls = profile.pick(fast=20, full=100)
    seconds = profile.pick(fast=30, full=60)
    scenario.scenario = f"5. Redis restarted during fan-out to {walls} walls"
    scenario.load = f"{RATE:,} events/s for {seconds} s"
    stack, database = ingest_path.stack, ingest_path.database
    ingest = ingest_path.spawn_ingest(IOC_REDIS_URL=redis_url)
    engine = ingest_path.spawn_engine(redis_url)
    with database.connect() as db:
        key = ApiKeyRepository(db).create("verify-walls", Scope.READ)
        subscription = {"kpis": "*", "areas": sorted(_top_areas(db)), "windows": "*"}
    with api_process(stack, database, redis_url) as base_url:
        mirrors = WallMirrorProcess(WatchConfig(base_url=base_url, clients=walls, subscription=subscription), key)
        try:
            load = ingest_path.start_load(RATE, seconds)
            time.sleep(seconds / 2)
            restarting = time.monotonic()
            stack.redis.stop()  # it keeps nothing on disk: it comes back empty, and the engine rebuilds
            stack.redis.start()
            down = time.monotonic() - restarting
            load.wait()
            stored = settle_and_account(load, database, scenario)
            result = mirrors.compare()
        finally:
            mirrors.kill()
    clients = result["clients"]
    assert isinstance(clients, list)
    resynchronised = sum(1 for c in clients if len(c["epochs"]) >= 2 and c["epochs"][-1] == result["server_epoch"])
    equal = sum(1 for c in clients if c["differing_keys"] == 0 and not c["closed"])
    scenario.measure("walls that saw the new epoch", resynchronised)
    scenario.measure("walls equal to the server", equal)
    scenario.measure("values per wall", result["server_keys"])
    scenario.measure("Redis down s", down)
    assert stored.exact, stored.summary()
    assert result["server_keys"] > 0, "walls equal to an empty server prove nothing"
    assert resynchronised == walls, [c for c in clients if len(c["epochs"]) < 2][:3]
    assert equal == walls, [c for c in clients if c["differing_keys"] or c["closed"]][:3]
    assert engine.terminate() == 0
    assert ingest.terminate() == 0
