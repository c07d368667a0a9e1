"""`ioc bench streams`: publish → KPI frame latency, engine CPU and memory, and whether it keeps up.

Each phase runs the real chain on the bench stack: mosquitto_pub publishers → `ioc ingest` →
the stored-events stream → `ioc streams` → frames on Redis, which this process subscribes to.
An event's latency is the time from its hand-over to its publisher (its `occurred_at`) until the
first province frame of its source that arrives after the event's commit and whose own
`last_event_at` reaches it (`FrameArrivals`), with the commit → frame part (the engine's share)
apart — for payments
(`payments.tx_count`, succeeded ones) and coverage samples (`coverage.usable_share`), whose
province numbers change with every such event; `5m` frames (coalesced per 100 ms) and, reported
apart, `today` frames (per second). CPU is the engine process's own, from the first event until
the engine's province numbers equal the database's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import psycopg
import redis

from deploy.stack.manager import LocalStack
from runtime.redis_names import KPI_CURRENT
from streams.records import to_micros
from tools.bench import bench_stack, procstats
from tools.bench.feeders import PublisherFeeder, feed
from tools.bench.frame_arrivals import FrameArrivals
from tools.bench.procstats import CpuWatch
from tools.bench.workload import EventFactory, bench_publishers, templates

_PUBLISHER_SETTLE_SECONDS = 2.0
# Watched frame keys (as in frame_watch) and the events whose latency each one measures.
_SUCCEEDED_PAYMENTS = (
    "SELECT occurred_at, pg_xact_commit_timestamp(xmin) FROM payment_transactions WHERE outcome = 'succeeded'"
)
_SAMPLES = "SELECT occurred_at, pg_xact_commit_timestamp(xmin) FROM coverage_samples"
FAST_KEYS = {"payments.tx_count|67|5m": _SUCCEEDED_PAYMENTS, "coverage.usable_share|67|5m": _SAMPLES}
_SLOW = {"payments.tx_count|67|today": _SUCCEEDED_PAYMENTS}
_CAUGHT_UP = (
    "SELECT (SELECT count(*) FROM payment_transactions WHERE outcome = 'succeeded'),"
    " (SELECT count(*) FROM coverage_samples),"
    " (SELECT count(*) FROM payment_transactions) + (SELECT count(*) FROM coverage_samples)"
    " + (SELECT count(*) FROM portal_dossier_events)"
)


@dataclass(frozen=True)
class StreamsBenchConfig:
    rate: float = 2_000
    seconds: float = 60
    publishers: int = 500
    high_rate: float = 10_000
    high_seconds: float = 30
    ingest_workers: int = 2
    seed: int = 9


@dataclass(frozen=True)
class StreamsPhase:
    offered_rate: float
    published: int
    stored: int
    applied: int
    latency_p50_ms: float
    latency_p99_ms: float
    latency_max_ms: float
    today_latency_p50_ms: float
    today_latency_p99_ms: float
    commit_latency_p50_ms: float  # of which publish → commit (ingest), over every watched event
    commit_latency_p99_ms: float
    engine_latency_p50_ms: float  # commit → frame (the engine and Redis), over the events a frame counted
    engine_latency_p99_ms: float
    rebuilds: int
    catch_up_seconds: float  # after the last event was handed over, until the engine had applied all
    engine_cpu_percent: float
    engine_peak_rss_mb: float
    frames_per_second: float


@dataclass(frozen=True)
class Load:
    published: int
    stored: int
    started: float  # monotonic: the first event handed over …
    handed_over: float  # … the last one …
    caught_up: float  # … and the engine's province numbers equal to the database's

    @property
    def elapsed(self) -> float:
        return self.caught_up - self.started


class FrameWatcher:
    """`tools.bench.frame_watch` in a subprocess: subscribed on start, its records after `stop()`."""

    def __init__(self, url: str) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tools.bench.frame_watch"], env={**os.environ, "IOC_BENCH_REDIS_URL": url},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self._process.stdout is not None
        self._process.stdout.readline()  # "subscribed"
        self.seen: dict[str, list[tuple[float, int]]] = {key: [] for key in (*FAST_KEYS, *_SLOW)}
        self.frames = 0

    def stop(self) -> None:
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdin.close()
        result = json.loads(self._process.stdout.readline() or "{}")
        self._process.wait(60)
        self.frames = int(result.get("frames", 0))
        for kpi, pairs in result.get("seen", {}).items():
            self.seen[kpi] = [(float(t), int(last)) for t, last in pairs]


class StreamsBench:
    def __init__(self, stack: LocalStack, config: StreamsBenchConfig) -> None:
        self._config = config
        self._publishers = bench_publishers(config.publishers, prefix="kpi")
        self._ingest_accounts = [f"bench-ingest-{i + 1}" for i in range(config.ingest_workers)]
        self.bench = bench_stack.prepare(stack, self._publishers, self._ingest_accounts)
        self._factory = EventFactory(self.bench.area_codes, config.seed)

    def run(self) -> list[StreamsPhase]:
        c = self._config
        return [self.phase(c.rate, c.seconds), self.phase(c.high_rate, c.high_seconds)]

    def phase(self, rate: float, seconds: float) -> StreamsPhase:
        with self.chain() as (engine, engine_port):
            watcher = FrameWatcher(self.bench.stack.redis.url())
            try:
                cpu = CpuWatch(engine.pid)
                load = self.feed(rate, seconds, at_start=cpu.start)
                cpu.stop()
                rss = procstats.peak_rss_bytes(engine.pid) / 2**20
                applied = int(procstats.metric_value(engine_port, "ioc_streams_events_applied_total"))
                # The first rebuild is the engine's start.
                rebuilds = int(procstats.metric_value(engine_port, "ioc_streams_rebuilds_total")) - 1
            finally:
                watcher.stop()
        pairs = self.latency_pairs(watcher.seen, FAST_KEYS)
        latencies, engine_share = [publish for publish, _ in pairs], [commit for _, commit in pairs]
        today = self.latencies(watcher.seen, _SLOW)
        commit_p50, commit_p99 = self._commit_latency()
        return StreamsPhase(
            offered_rate=rate, published=load.published, stored=load.stored, applied=applied,
            latency_p50_ms=percentile(latencies, 0.5), latency_p99_ms=percentile(latencies, 0.99),
            latency_max_ms=max(latencies, default=0.0), today_latency_p50_ms=percentile(today, 0.5),
            today_latency_p99_ms=percentile(today, 0.99), commit_latency_p50_ms=commit_p50,
            commit_latency_p99_ms=commit_p99, engine_latency_p50_ms=percentile(engine_share, 0.5),
            engine_latency_p99_ms=percentile(engine_share, 0.99), rebuilds=rebuilds,
            catch_up_seconds=load.caught_up - load.handed_over,
            engine_cpu_percent=100 * cpu.seconds / load.elapsed, engine_peak_rss_mb=rss,
            frames_per_second=watcher.frames / load.elapsed,
        )  # fmt: skip

    @contextmanager
    def chain(self) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
        """Fresh tables and Redis, then the ingest processes and the engine (its process and health
        port) running until the block ends."""
        self.bench.reset_tables()
        redis.Redis.from_url(self.bench.stack.redis.url()).flushdb()
        group = f"bench-{int(time.time())}"
        for username in self._ingest_accounts:
            self.bench.reset_session(username)
        ingest = [self._spawn("ingest", u, group) for u in self._ingest_accounts]
        engine, engine_port = self._spawn_engine()
        try:
            yield engine, engine_port
        finally:
            for process in [engine, *ingest]:
                process.terminate()
            for process in [engine, *ingest]:
                process.wait(60)

    def feed(self, rate: float, seconds: float, at_start: Callable[[], object] = lambda: None) -> Load:
        """Publish `rate` events/s for `seconds` and wait until the engine has applied them all;
        `at_start` is called just before the first event is handed over."""
        per_publisher = int(rate * seconds) // len(self._publishers)
        feeders = [
            PublisherFeeder(
                p, self.bench.passwords[p.id], self.bench.stack.settings.mqtt_port,
                templates(self._factory, p, per_publisher), rate / len(self._publishers),
            )
            for p in self._publishers
        ]  # fmt: skip
        published = per_publisher * len(feeders)
        time.sleep(_PUBLISHER_SETTLE_SECONDS)
        at_start()
        started = time.monotonic()
        feed(feeders, 900)
        handed_over = time.monotonic()
        stored = self._wait_caught_up(published, timeout_seconds=300)
        return Load(published, stored, started, handed_over, time.monotonic())

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "IOC_DATABASE_URL": self.bench.database_url,
            "IOC_REDIS_URL": self.bench.stack.redis.url(),
            "IOC_MQTT_PORT": str(self.bench.stack.settings.mqtt_port),
        }

    def _spawn(self, command: str, username: str, group: str) -> subprocess.Popen[bytes]:
        port = bench_stack.free_port()
        env = self.environment() | {
            "IOC_MQTT_USERNAME": username,
            "IOC_MQTT_PASSWORD": self.bench.passwords[username],
            "IOC_INGEST_SHARED_GROUP": group,
            "IOC_INGEST_HEALTH_PORT": str(port),
        }
        with open(self.bench.stack.paths.logs / f"{username}.log", "w") as log:
            process = subprocess.Popen([sys.executable, "-m", "cli", command], env=env, stderr=log)
        bench_stack.wait_healthy(port, timeout_seconds=30)
        return process

    def _spawn_engine(self) -> tuple[subprocess.Popen[bytes], int]:
        port = bench_stack.free_port()
        env = self.environment() | {"IOC_STREAMS_HEALTH_PORT": str(port)}
        with open(self.bench.stack.paths.logs / "bench-streams.log", "w") as log:
            process = subprocess.Popen([sys.executable, "-m", "cli", "streams"], env=env, stderr=log)
        bench_stack.wait_healthy(port, timeout_seconds=60)
        return process, port

    def _wait_caught_up(self, published: int, timeout_seconds: float) -> int:
        """Until every event is stored and the engine's province numbers for today equal the database's."""
        deadline = time.monotonic() + timeout_seconds
        stored = 0
        current = redis.Redis.from_url(self.bench.stack.redis.url())
        with psycopg.connect(self.bench.database_url, autocommit=True) as conn:
            while time.monotonic() < deadline:
                row = conn.execute(_CAUGHT_UP).fetchone()
                assert row is not None
                succeeded, samples, stored = (int(v) for v in row)
                frames = current.hmget(KPI_CURRENT, ["payments.tx_count|67|today", "coverage.usable_share|67|today"])
                if stored >= published and None not in frames:
                    tx, coverage = (json.loads(f) for f in frames)  # type: ignore[arg-type]
                    if (tx["value"], coverage["denominator"]) == (succeeded, samples):
                        break
                time.sleep(0.05)
        current.close()
        return stored

    def _commit_latency(self) -> tuple[float, float]:
        with psycopg.connect(self.bench.database_url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY l), percentile_cont(0.99) WITHIN GROUP (ORDER BY l)"
                " FROM (SELECT 1000 * extract(epoch FROM pg_xact_commit_timestamp(xmin) - occurred_at) AS l"
                " FROM payment_transactions WHERE outcome = 'succeeded'"
                " UNION ALL SELECT 1000 * extract(epoch FROM pg_xact_commit_timestamp(xmin) - occurred_at)"
                " FROM coverage_samples) AS latencies"
            ).fetchone()
        assert row is not None
        return float(row[0] or 0), float(row[1] or 0)

    def latencies(self, seen: dict[str, list[tuple[float, int]]], watched: dict[str, str]) -> list[float]:
        """publish → frame (ms) for each event of the watched keys' sources (see `latency_pairs`)."""
        return [publish for publish, _ in self.latency_pairs(seen, watched)]

    def latency_pairs(
        self, seen: dict[str, list[tuple[float, int]]], watched: dict[str, str]
    ) -> list[tuple[float, float]]:
        """For each event of the watched keys' sources, (publish → frame, commit → frame) in ms, to the
        first frame of `seen` (arrival time, `last_event_at` µs) that counts it (see `FrameArrivals`)."""
        pairs: list[tuple[float, float]] = []
        with psycopg.connect(self.bench.database_url, autocommit=True) as conn:
            for key, events in watched.items():
                arrivals = FrameArrivals(seen.get(key, []))
                for occurred, committed in conn.execute(events):
                    assert isinstance(occurred, datetime)
                    assert isinstance(committed, datetime)
                    arrived = arrivals.first_counting(to_micros(occurred), committed.timestamp())
                    if arrived is not None:
                        publish_ms, commit_ms = arrived - occurred.timestamp(), arrived - committed.timestamp()
                        pairs.append((1000 * publish_ms, 1000 * commit_ms))
        return pairs


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def render(config: StreamsBenchConfig, phases: list[StreamsPhase]) -> str:
    lines = [
        f"ioc bench streams: {config.publishers} publishers (mosquitto_pub, QoS 1) over the pilot communes and"
        f" villages, {config.ingest_workers} ingest processes, 1 engine, {os.cpu_count()} cores"
    ]
    for p in phases:
        lines.append(
            f"offered {p.offered_rate:,.0f}/s: published {p.published}, stored {p.stored}, applied {p.applied};"
            f" publish→frame (5m) p50 {p.latency_p50_ms:.0f} ms p99 {p.latency_p99_ms:.0f} ms"
            f" max {p.latency_max_ms:.0f} ms,"
            f" (today) p50 {p.today_latency_p50_ms:.0f} ms p99 {p.today_latency_p99_ms:.0f} ms; of which"
            f" publish→commit p50 {p.commit_latency_p50_ms:.0f} ms p99 {p.commit_latency_p99_ms:.0f} ms,"
            f" commit→frame p50 {p.engine_latency_p50_ms:.0f} ms p99 {p.engine_latency_p99_ms:.0f} ms;"
            f" rebuilds {p.rebuilds};"
            f" caught up {p.catch_up_seconds:.1f} s after the last event; engine CPU {p.engine_cpu_percent:.0f}% of"
            f" a core, peak RSS {p.engine_peak_rss_mb:.0f} MB; {p.frames_per_second:,.0f} frames/s"
        )
    return "\n".join(lines)
