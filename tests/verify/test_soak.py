"""Load and soak: 5,000 events/s with 200 live walls for 30 minutes.

The short run of `make test` (a minute, 20 walls) checks that nothing is lost and that the walls
follow it; a minute cannot show a memory or latency trend, so those are judged only in the
30-minute run of `make verify`.

The KPI engine's state grows by design until its windows are full (an hour of minute slots, a day
of ten-minute slots): its growth is judged beyond what its slots account for, at
`SLOT_BYTES_BOUND` each (a bound its own test holds for slots as busy as this load makes them).
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest

from api.http.auth.keys import ApiKeyRepository, Scope
from streams.state import SLOT_BYTES_BOUND
from tests.fixtures.api import api_process
from tests.fixtures.stack import IsolatedDatabase
from tests.fixtures.verify import VerifyProfile
from tests.verify.conftest import IngestPath, settle_and_account
from tests.verify.memory import CpuTrend, MemoryTrend, listener_pid, private_total, with_children
from tests.verify.report import ScenarioResult
from tools.bench.procstats import metric_value
from tools.bench.wall_watch import WallWatcher, WatchConfig

pytestmark = [pytest.mark.integration, pytest.mark.timeout(3 * 3600)]

RATE = 5000

# publish → commit per block of publish time: the row's commit time minus its stamp at publishing.
_P99_PER_BLOCK = """
SELECT floor(extract(epoch FROM occurred_at - %(start)s) / %(block)s)::int AS block,
       percentile_cont(0.99) WITHIN GROUP (
           ORDER BY extract(epoch FROM pg_xact_commit_timestamp(xmin) - occurred_at) * 1000)
FROM payment_transactions WHERE publisher_id = ANY(%(publishers)s) AND occurred_at >= %(start)s
GROUP BY 1 ORDER BY 1
"""


def _p99_per_block(database: IsolatedDatabase, publishers: list[str], start: datetime, block: float) -> list[float]:
    with database.connect() as conn:
        params = {"start": start, "block": block, "publishers": publishers}
        rows = conn.execute(_P99_PER_BLOCK, params).fetchall()
    return [float(str(p99)) for _, p99 in rows[:-1]]  # the last block is cut short by the end of the load


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def test_soak_memory_stays_flat_latency_stable_and_nothing_is_lost(
    ingest_path: IngestPath, redis_url: str, scenario: ScenarioResult, profile: VerifyProfile
) -> None:
    seconds = profile.pick(fast=60, full=1800)
    walls = profile.pick(fast=20, full=200)
    block = profile.pick(fast=10.0, full=300.0)
    sample_every = profile.pick(fast=1.0, full=10.0)
    warm_up = profile.pick(fast=20.0, full=300.0)
    scenario.scenario = f"Soak: {seconds // 60} min with {walls} live walls"
    scenario.load = f"{RATE:,} events/s for {seconds} s"
    stack, database = ingest_path.stack, ingest_path.database
    # Redis keeps a window of stored-event batches and one of frames: the short run keeps them short
    # (15 s and 5 s), so that they are full within its warm-up and flat memory can show.
    stream_seconds, replay_seconds = profile.pick(fast=("15", "5"), full=("60", "60"))
    ingest = ingest_path.spawn_ingest(IOC_REDIS_URL=redis_url, IOC_INGEST_STREAM_RETAIN_SECONDS=stream_seconds)
    engine = ingest_path.spawn_engine(redis_url, IOC_STREAMS_REPLAY_SECONDS=replay_seconds)
    with database.connect() as db:
        key = ApiKeyRepository(db).create("verify-soak", Scope.READ)
        areas = sorted(str(r[0]) for r in db.execute("SELECT code FROM areas WHERE level IN ('province', 'district')"))
        start = db.execute("SELECT now()").fetchone()
    assert start is not None
    assert isinstance(start[0], datetime)
    with api_process(stack, database, redis_url) as base_url:
        services = {
            "ingest": ingest.process.pid,
            "engine": engine.process.pid,
            "api": listener_pid(int(urlsplit(base_url).port or 0)),
            "PostgreSQL": listener_pid(stack.settings.pg_port),  # with its backends
            "Mosquitto": listener_pid(stack.settings.mqtt_port),
            "Redis": listener_pid(stack.settings.redis_port),
        }
        trends = {name: MemoryTrend(name) for name in services}
        cpu = {name: CpuTrend(name) for name in services}
        subscription = {"kpis": "*", "areas": areas, "windows": "*"}
        watcher = WallWatcher(WatchConfig(base_url=base_url, clients=walls, subscription=subscription), key)
        load = ingest_path.start_load(RATE, seconds)
        while any(p.poll() is None for p in load.processes):
            for name, pid in services.items():
                family = with_children(pid) if name == "PostgreSQL" else [pid]
                trends[name].samples.append(private_total(family))
                cpu[name].sample(family, time.monotonic())
            slots = metric_value(engine.health_port, "ioc_streams_slots")
            trends["engine"].expected.append(int(slots) * SLOT_BYTES_BOUND)
            time.sleep(sample_every)
        load.wait()
        logs = watcher.stop()
    stored = settle_and_account(load, database, scenario)
    blocks = _p99_per_block(database, load.publisher_ids, start[0], block)
    after_warm_up = start[0] + timedelta(seconds=warm_up)
    first, _, last = _p99_per_block(database, load.publisher_ids, after_warm_up, (seconds - warm_up) / 3)[:3]
    warm_up_samples = int(warm_up / sample_every)
    growth = {name: trend.growth(warm_up_samples) for name, trend in trends.items()}
    delays = [d for log in logs for d in log.delays_ms]
    for name, trend in trends.items():
        scenario.measure(f"{name} MB", f"{trend.samples[warm_up_samples] / 2**20:.0f}→{trend.samples[-1] / 2**20:.0f}")
    allowed_mb = trends["engine"].expected_growth(warm_up_samples) / 2**20
    scenario.measure("engine state growth allowed (slots × 8 KiB)", f"{allowed_mb:.0f} MB")
    scenario.measure("largest growth after warm-up (engine: beyond its state)", f"{100 * max(growth.values()):.1f} %")
    scenario.measure("publish→commit p99 ms, first → last third", f"{first:.0f} → {last:.0f}")
    scenario.measure(f"p99 per {block:.0f} s block ms", " ".join(f"{p99:.0f}" for p99 in blocks))
    # Where the machine's two cores went, early and late after warm-up: a latency that grows comes
    # with some process's load growing.
    thirds = [warm_up_samples + i * (len(trends["ingest"].samples) - 1 - warm_up_samples) // 3 for i in range(4)]
    for name, trend in cpu.items():
        early, late = trend.percent(thirds[0], thirds[1]), trend.percent(thirds[2], thirds[3])
        scenario.measure(f"{name} CPU %, first → last third", f"{early:.0f} → {late:.0f}")
    scenario.measure("publish→wall p99 ms", _p99(delays))
    scenario.measure("walls told lagging", sum(log.lagging for log in logs))
    assert stored.exact, stored.summary()
    assert stored.stored_once == stored.sent
    assert all(log.deltas > 0 for log in logs)  # every wall followed the load to the end
    assert engine.terminate() == 0
    assert ingest.terminate() == 0
    if not profile.full:
        return  # a minute is too short for a trend: the short run checks the counts and the machinery
    assert all(trend.flat(warm_up_samples) for trend in trends.values()), growth
    # Stable: no worse at the end than at the start (stalls of a few seconds come and go on this
    # machine; a leak or a growing queue makes the last third worse than the first).
    assert last <= max(1.5 * first, first + 250), (first, last, blocks)
