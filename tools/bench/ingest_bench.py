"""`ioc bench ingest`: sustained events/s to committed rows, publish→commit latency, loss, CPU and RSS.

Three phases on the same broker and the same kind of stream, in one run:
  1. baseline: one paho QoS 1 subscriber that only receives, flooded — the ceiling of one paho process;
  2. ingest at the offered `rate` for `seconds` — sustained rate, latency p50/p99, lost, duplicated;
  3. ingest flooded — the most it stores per second; its ratio to the baseline is printed.
Latency is commit time (`pg_xact_commit_timestamp`) minus `occurred_at`, which each line carries
as the moment it was handed to its publisher.

Then what the re-send check (`event_ids`, `ingest/storage/resends.py`) costs: floods with
IOC_INGEST_RESEND_CHECK off and on, in the order off, on, on, off (`--resend-rounds` pairs), so that
the drift of a filling database cancels out; ingest CPU per stored event of each, pooled, and their
ratio (and the database sessions' CPU per event beside it).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import psycopg
from psycopg import sql

from deploy.stack.manager import LocalStack
from tools.bench import bench_stack, procstats
from tools.bench.feeders import PublisherFeeder, feed
from tools.bench.workload import EventFactory, bench_publishers, templates

_TABLES = ("payment_transactions", "coverage_samples", "portal_dossier_events")
_ROWS = sql.SQL(" UNION ALL ").join(
    sql.SQL("SELECT event_id, occurred_at, xmin FROM {}").format(sql.Identifier(t)) for t in _TABLES
)
# mosquitto_pub gives no sign that it has connected; lines handed to it before then would wait in
# its pipe and count as latency of the system under test.
_PUBLISHER_SETTLE_SECONDS = 1.0
_LATENCY = sql.SQL("extract(epoch FROM pg_xact_commit_timestamp(xmin) - occurred_at)")


@dataclass(frozen=True)
class IngestBenchConfig:
    rate: float = 13_000
    seconds: float = 60
    workers: int = 2
    publishers: int = 4
    flood_events: int = 200_000
    seed: int = 9
    resend_rounds: int = 2  # off-on-on-off floods that price the re-send check (0: none)


@dataclass(frozen=True)
class PhaseResult:
    published: int
    stored_rows: int
    distinct_events: int
    dead_letters: int
    events_per_second: float
    latency_p50_ms: float
    latency_p99_ms: float
    ingest_cpu_percent: float  # of one core, all ingest processes together
    ingest_peak_rss_mb: list[float]
    ingest_cpu_seconds: float = 0.0
    database_cpu_seconds: float = 0.0  # of the ingest processes' database sessions

    @property
    def lost(self) -> int:
        return self.published - self.distinct_events

    @property
    def duplicated(self) -> int:
        return self.stored_rows - self.distinct_events


@dataclass(frozen=True)
class ResendCheckCost:
    """Pooled floods without and with the re-send check: CPU seconds per stored event."""

    off: list[PhaseResult]
    on: list[PhaseResult]

    @staticmethod
    def _per_event(phases: list[PhaseResult], database: bool = False) -> float:
        cpu = sum(p.database_cpu_seconds if database else p.ingest_cpu_seconds for p in phases)
        return cpu / max(1, sum(p.stored_rows for p in phases))

    def ingest_us(self) -> tuple[float, float]:
        return 1e6 * self._per_event(self.off), 1e6 * self._per_event(self.on)

    def database_us(self) -> tuple[float, float]:
        return 1e6 * self._per_event(self.off, database=True), 1e6 * self._per_event(self.on, database=True)

    def events_per_second(self) -> tuple[float, float]:
        return statistics.median(p.events_per_second for p in self.off), statistics.median(
            p.events_per_second for p in self.on
        )


@dataclass(frozen=True)
class IngestBenchReport:
    config: IngestBenchConfig
    baseline_events_per_second: float
    sustained: PhaseResult
    flood: PhaseResult
    resend_check: ResendCheckCost | None = None


class IngestBench:
    def __init__(self, stack: LocalStack, config: IngestBenchConfig) -> None:
        self._config = config
        self._publishers = bench_publishers(config.publishers)
        self._ingest_accounts = [f"bench-ingest-{i + 1}" for i in range(config.workers)]
        self._receiver = "bench-receiver"
        self._bench = bench_stack.prepare(stack, self._publishers, [*self._ingest_accounts, self._receiver])
        self._factory = EventFactory(self._bench.area_codes, config.seed)

    def run(self) -> IngestBenchReport:
        c = self._config
        baseline = self.baseline(c.flood_events)
        sustained = self.ingest_phase(rate=c.rate, events=int(c.rate * c.seconds))
        flood = self.ingest_phase(rate=0, events=c.flood_events)
        return IngestBenchReport(c, baseline, sustained, flood, self.resend_check_cost(c.resend_rounds))

    def resend_check_cost(self, rounds: int) -> ResendCheckCost | None:
        if rounds <= 0:
            return None
        cost = ResendCheckCost([], [])
        for check in [False, True, True, False] * (rounds // 2) + [False, True] * (rounds % 2):
            env = {"IOC_INGEST_RESEND_CHECK": "true" if check else "false"}
            (cost.on if check else cost.off).append(self.ingest_phase(0, self._config.flood_events, env))
        return cost

    def _feeders(self, rate: float, events: int) -> list[PublisherFeeder]:
        per_publisher = events // len(self._publishers)
        port = self._bench.stack.settings.mqtt_port
        return [
            PublisherFeeder(
                p, self._bench.passwords[p.id], port, templates(self._factory, p, per_publisher),
                rate / len(self._publishers),
            )
            for p in self._publishers
        ]  # fmt: skip

    def baseline(self, events: int) -> float:
        self._bench.reset_session(self._receiver)
        feeders = self._feeders(0, events)
        time.sleep(_PUBLISHER_SETTLE_SECONDS)
        expected = (events // len(self._publishers)) * len(self._publishers)
        env = {**os.environ, "IOC_BENCH_MQTT_PASSWORD": self._bench.passwords[self._receiver]}
        receiver = subprocess.Popen(
            [sys.executable, "-m", "tools.bench.receive_only", str(self._bench.stack.settings.mqtt_port),
             self._receiver, "ioc/v1/+/+/+", str(expected), "300"],
            env=env, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert receiver.stdout is not None
        receiver.stdout.readline()  # "subscribed"
        feed(feeders, 600)
        result = json.loads(receiver.stdout.readline())
        receiver.wait(30)
        return float(result["received"]) / float(result["seconds"])

    def ingest_phase(self, rate: float, events: int, env: dict[str, str] | None = None) -> PhaseResult:
        self._bench.reset_tables()
        group = f"bench-{int(time.time())}"
        for username in self._ingest_accounts:
            self._bench.reset_session(username)
        workers = [self._spawn_ingest(u, group, env or {}) for u in self._ingest_accounts]
        try:
            feeders = self._feeders(rate, events)
            published = sum(f.line_count for f in feeders)
            time.sleep(_PUBLISHER_SETTLE_SECONDS)
            sessions = self._bench.session_pids()
            cpu_before = [procstats.cpu_seconds(w.pid) for w in workers]
            database_before = _cpu_of(sessions)
            started = time.monotonic()
            feed(feeders, 900)
            self._wait_rows(published, timeout_seconds=300)
            elapsed = time.monotonic() - started
            cpu = sum(procstats.cpu_seconds(w.pid) - b for w, b in zip(workers, cpu_before, strict=True))
            database = _cpu_of(sessions) - database_before
            rss = [procstats.peak_rss_bytes(w.pid) / 2**20 for w in workers]
        finally:
            for w in workers:
                w.terminate()
            for w in workers:
                w.wait(60)
        return self._measure(published, cpu_percent=100 * cpu / elapsed, rss=rss, cpu=cpu, database_cpu=database)

    def _spawn_ingest(self, username: str, group: str, extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
        health_port = bench_stack.free_port()
        log_path = self._bench.stack.paths.logs / f"{username}.log"
        env = {
            **os.environ,
            "IOC_DATABASE_URL": self._bench.database_url,
            "IOC_REDIS_URL": self._bench.stack.redis.url(),
            "IOC_MQTT_USERNAME": username,
            "IOC_MQTT_PASSWORD": self._bench.passwords[username],
            "IOC_INGEST_SHARED_GROUP": group,
            "IOC_INGEST_HEALTH_PORT": str(health_port),
            "IOC_MQTT_PORT": str(self._bench.stack.settings.mqtt_port),
            **extra_env,
        }
        with open(log_path, "w") as log:  # the child keeps its own copy of the descriptor
            process = subprocess.Popen(
                [sys.executable, "-m", "cli", "ingest"], env=env, stderr=log, stdout=subprocess.DEVNULL
            )
        bench_stack.wait_healthy(health_port, timeout_seconds=30)
        return process

    def _wait_rows(self, expected: int, timeout_seconds: float) -> None:
        deadline = time.monotonic() + timeout_seconds
        with psycopg.connect(self._bench.database_url, autocommit=True) as conn:
            while time.monotonic() < deadline:
                row = conn.execute(sql.SQL("SELECT count(*) FROM ({}) r").format(_ROWS)).fetchone()
                dead = conn.execute("SELECT count(*) FROM dead_letters").fetchone()
                if row and dead and int(row[0]) + int(dead[0]) >= expected:
                    return
                time.sleep(0.25)

    def _measure(
        self, published: int, cpu_percent: float, rss: list[float], cpu: float, database_cpu: float
    ) -> PhaseResult:
        with psycopg.connect(self._bench.database_url, autocommit=True) as conn:
            row = conn.execute(
                sql.SQL(
                    "SELECT count(*), count(DISTINCT event_id),"
                    " extract(epoch FROM max(pg_xact_commit_timestamp(xmin)) - min(occurred_at)),"
                    " percentile_cont(0.5) WITHIN GROUP (ORDER BY {latency}),"
                    " percentile_cont(0.99) WITHIN GROUP (ORDER BY {latency})"
                    " FROM ({rows}) r"
                ).format(latency=_LATENCY, rows=_ROWS)
            ).fetchone()
            dead = conn.execute("SELECT count(*) FROM dead_letters").fetchone()
        assert row is not None
        assert dead is not None
        rows, distinct, span, p50, p99 = (float(v or 0) for v in row)
        return PhaseResult(
            published=published, stored_rows=int(rows), distinct_events=int(distinct), dead_letters=int(dead[0]),
            events_per_second=rows / span if span else 0.0, latency_p50_ms=1000 * p50, latency_p99_ms=1000 * p99,
            ingest_cpu_percent=cpu_percent, ingest_peak_rss_mb=rss, ingest_cpu_seconds=cpu,
            database_cpu_seconds=database_cpu,
        )  # fmt: skip


def render(report: IngestBenchReport) -> str:
    c = report.config
    s, f = report.sustained, report.flood
    ratio = f.events_per_second / report.baseline_events_per_second if report.baseline_events_per_second else 0
    lines = [
        f"ioc bench ingest: {c.publishers} publishers (mosquitto_pub, QoS 1), {c.workers} ingest processes, "
        f"{os.cpu_count()} cores",
        f"baseline  paho receive-only subscriber, flood of {c.flood_events}: "
        f"{report.baseline_events_per_second:,.0f} msg/s",
        _phase_line(f"sustained offered {c.rate:,.0f}/s for {c.seconds:.0f} s", s),
        _phase_line(f"flood     {c.flood_events} events", f),
        f"ratio     ingest flood / paho receive-only = {ratio:.2f}",
    ]
    cost = report.resend_check
    if cost is not None:
        (off, on), (db_off, db_on) = cost.ingest_us(), cost.database_us()
        rate_off, rate_on = cost.events_per_second()
        lines += [
            f"re-send check, {len(cost.off)} floods off and {len(cost.on)} on, {c.flood_events} events each: "
            f"ingest CPU per event {off:.1f} µs off, {on:.1f} µs on, ratio {on / off if off else 0:.3f} "
            f"(target ≤ 1.15); database sessions {db_off:.1f} µs off, {db_on:.1f} µs on; "
            f"median flood {rate_off:,.0f} events/s off, {rate_on:,.0f} on",
        ]
    return "\n".join(lines)


def _phase_line(title: str, r: PhaseResult) -> str:
    rss = "/".join(f"{m:.0f}" for m in r.ingest_peak_rss_mb)
    return (
        f"{title}: {r.events_per_second:,.0f} events/s committed, latency p50 {r.latency_p50_ms:.0f} ms "
        f"p99 {r.latency_p99_ms:.0f} ms, published {r.published}, lost {r.lost}, duplicated {r.duplicated}, "
        f"dead letters {r.dead_letters}, ingest CPU {r.ingest_cpu_percent:.0f}% of a core, peak RSS {rss} MB"
    )


def _cpu_of(pids: list[int]) -> float:
    """CPU seconds of these processes so far (the database sessions; one that ended counts no more)."""
    total = 0.0
    for pid in pids:
        try:
            total += procstats.cpu_seconds(pid)
        except FileNotFoundError:
            continue
    return total
