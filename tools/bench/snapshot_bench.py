"""`ioc bench snapshots`: KPI history rows and bytes per day, every value every minute against only
what changed, on the simulator's traffic.

Each phase runs the real chain on the bench stack — `ioc simulate` → `ioc ingest` → `ioc streams` —
for some minutes, then reads what the engine wrote. The comparison is in the same run: at every
snapshot the engine records the values it holds (what a full snapshot writes, as before migration
0013) beside the rows it wrote (`kpi_snapshot_runs`). A day is
projected from the phase: a full snapshot each hour (24 a day) and the phase's mean of the other
minutes (1,416 a day), against every value each of the 1,440 minutes; bytes at the table's measured
bytes per row (heap and indexes). The hourly rows (`kpi_snapshots_1h`) are the same either way.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import redis

from deploy.stack.manager import LocalStack
from tools.bench import bench_stack

_MINUTES_A_DAY = 1440
_WARM_UP = 3
_FULL_A_DAY = 24
_LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True)
class SnapshotBenchConfig:
    minutes: float = 10.0  # at least 5: three to warm up, the last is the stop's
    phases: tuple[tuple[float, float], ...] = ((8.0, 720.0), (75.0, 1.0))  # (events/s, speed): `make up`, a province
    seed: int = 11


@dataclass(frozen=True)
class SnapshotPhase:
    rate: float
    speed: float
    minutes: int  # snapshots taken
    held_mean: float  # values held at a snapshot: rows a full snapshot writes
    changed_mean: float  # rows of a snapshot that is not full
    bytes_per_row: float

    @property
    def full_rows_a_day(self) -> float:
        return self.held_mean * _MINUTES_A_DAY

    @property
    def changed_rows_a_day(self) -> float:
        return self.held_mean * _FULL_A_DAY + self.changed_mean * (_MINUTES_A_DAY - _FULL_A_DAY)

    @property
    def saving(self) -> float:
        return self.full_rows_a_day / self.changed_rows_a_day if self.changed_rows_a_day else float("inf")


class SnapshotBench:
    def __init__(self, stack: LocalStack, config: SnapshotBenchConfig) -> None:
        if config.minutes < 5:
            raise bench_stack.BenchSetupError("--minutes must be at least 5 (three minutes fill the windows)")
        self._config = config
        self._ingest = "bench-ingest-snapshots"
        self.bench = bench_stack.prepare(stack, [], [self._ingest])

    def run(self) -> list[SnapshotPhase]:
        return [self.phase(rate, speed) for rate, speed in self._config.phases]

    def phase(self, rate: float, speed: float) -> SnapshotPhase:
        self.bench.reset_tables()
        with psycopg.connect(self.bench.database_url, autocommit=True) as conn:
            conn.execute("TRUNCATE kpi_snapshots, kpi_snapshot_runs, kpi_snapshots_1h")
        redis.Redis.from_url(self.bench.stack.redis.url()).flushdb()
        self.bench.reset_session(self._ingest)
        ingest = self._spawn("ingest", {"IOC_MQTT_USERNAME": self._ingest,
                                        "IOC_MQTT_PASSWORD": self.bench.passwords[self._ingest]})  # fmt: skip
        engine = self._spawn("streams", {})
        # Office hours on a weekday, where the simulator's shapes are busiest.
        start = (datetime.now(_LOCAL) - timedelta(days=datetime.now(_LOCAL).weekday())).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
        seconds = self._config.minutes * 60
        simulator = subprocess.run(
            [sys.executable, "-m", "cli", "simulate", "--rate", str(rate), "--speed", str(speed),
             "--duration", str(seconds), "--seed", str(self._config.seed), "--start", start.isoformat(),
             "--prefix", f"snap{int(rate)}"],
            env=self._environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=seconds + 300,
        )  # fmt: skip
        if simulator.returncode != 0:
            raise bench_stack.BenchSetupError(f"ioc simulate ended with {simulator.returncode}")
        time.sleep(15)  # the last minute's snapshot written
        for process, _ in (engine, ingest):
            process.terminate()
            process.wait(60)
        with psycopg.connect(self.bench.database_url, autocommit=True) as conn:
            runs = conn.execute(
                "SELECT full_snapshot, rows_written, values_held FROM kpi_snapshot_runs ORDER BY at"
            ).fetchall()
            size = conn.execute("SELECT hypertable_size('kpi_snapshots'), count(*) FROM kpi_snapshots").fetchone()
        assert size is not None
        # The first minutes fill the windows from nothing (every value new) and the last is the stop's.
        steady = [(bool(full), int(str(n)), int(str(held))) for full, n, held in runs[_WARM_UP:-1]]
        changed = [n for full, n, _ in steady if not full]
        return SnapshotPhase(
            rate=rate, speed=speed, minutes=len(runs), held_mean=statistics.fmean(h for _, _, h in steady),
            changed_mean=statistics.fmean(changed) if changed else 0.0,
            bytes_per_row=int(str(size[0])) / max(int(str(size[1])), 1),
        )  # fmt: skip

    def _environment(self) -> dict[str, str]:
        settings = self.bench.stack.settings
        return {
            **os.environ,
            "IOC_HOME": str(settings.resolved_home()),
            "IOC_PG_PORT": str(settings.pg_port),
            "IOC_MQTT_PORT": str(settings.mqtt_port),
            "IOC_REDIS_PORT": str(settings.redis_port),
            "IOC_DATABASE_URL": self.bench.database_url,
            "IOC_REDIS_URL": self.bench.stack.redis.url(),
            "IOC_TLS": "false",
        }

    def _spawn(self, command: str, extra: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
        port = bench_stack.free_port()
        health = "IOC_INGEST_HEALTH_PORT" if command == "ingest" else "IOC_STREAMS_HEALTH_PORT"
        env = self._environment() | extra | {health: str(port)}
        with open(self.bench.stack.paths.logs / f"bench-snapshots-{command}.log", "w") as log:
            process = subprocess.Popen([sys.executable, "-m", "cli", command], env=env, stderr=log)
        bench_stack.wait_healthy(port, timeout_seconds=60)
        return process, port


def render(config: SnapshotBenchConfig, phases: list[SnapshotPhase]) -> str:
    lines = [f"ioc bench snapshots: the simulator for {config.minutes:g} min per phase, seed {config.seed}"]
    for p in phases:
        lines += [
            f"  {p.rate:g} events/s at speed {p.speed:g}: {p.minutes} snapshots, {p.held_mean:,.0f} values held,"
            f" {p.changed_mean:,.0f} rows in a snapshot that is not full ({p.bytes_per_row:.0f} bytes a row)",
            f"    a day, every value every minute: {p.full_rows_a_day:,.0f} rows,"
            f" {p.full_rows_a_day * p.bytes_per_row / 2**20:,.0f} MiB",
            f"    a day, what changed (a full snapshot each hour): {p.changed_rows_a_day:,.0f} rows,"
            f" {p.changed_rows_a_day * p.bytes_per_row / 2**20:,.0f} MiB — {p.saving:.2f}× fewer",
        ]
    return "\n".join(lines)
