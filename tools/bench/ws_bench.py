"""`ioc bench ws`: 500 walls on the live KPI websocket while 2,000 events/s flow in.

The chain of `ioc bench streams` (mosquitto_pub publishers → `ioc ingest` ×2 → `ioc streams`) plus
one `ioc api` process; `tools.bench.wall_watch` connects the walls in a process of its own, each
subscribed to the wall's KPI set in every area and window. Two delays are reported:

- publish → client: from an event's hand-over to its publisher until a wall receives the first
  province frame that counts it (as in `ioc bench streams`), for the walls that record arrivals;
- fan-out: from the engine's `as_of` on a delta's newest frame until a wall receives it, for every
  delta of every wall (the API's share, with Redis in between).

CPU and peak memory are the API process's own, over the load.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import psycopg

from api.http.auth.keys import ApiKeyRepository, Scope
from deploy.stack.manager import LocalStack
from tools.bench import bench_stack, procstats
from tools.bench.procstats import CpuWatch
from tools.bench.streams_bench import FAST_KEYS, StreamsBench, StreamsBenchConfig, percentile
from tools.bench.wall_watch import WallWatcher, WatchConfig

# What the wall shows (tiles, the area map, the operations strip): every area, every window.
WALL_KPIS = (
    "portal.online_share", "portal.e_cert_rate", "portal.ontime_rate", "portal.overdue_open",
    "payments.cashless_share", "payments.volume_vnd", "payments.tx_count", "coverage.usable_share",
    "coverage.download_mbps_p50", "ops.events_per_s", "ops.completeness", "ops.publishers_silent",
)  # fmt: skip


@dataclass(frozen=True)
class WsBenchConfig:
    clients: int = 500
    baseline_clients: int = 5
    rate: float = 2_000
    seconds: float = 60
    publishers: int = 500
    ingest_workers: int = 2
    watching_clients: int = 10
    # The walls' areas: "districts" (the province and its districts, as an overview wall shows
    # them) or "all" (every commune and village too, as the shipped layout's area views do).
    areas: str = "districts"
    seed: int = 9


@dataclass(frozen=True)
class WsResult:
    published: int
    stored: int
    clients: int
    deltas: int
    lagging: int
    latency_p50_ms: float
    latency_p99_ms: float
    fanout_p50_ms: float
    fanout_p99_ms: float
    api_cpu_percent: float
    api_peak_rss_mb: float
    deltas_per_second: float
    frames_per_wall_per_second: float
    bytes_per_wall_per_second: float
    clients_cpu_percent: float  # the measuring walls' own process


class WsBench:
    def __init__(self, stack: LocalStack, config: WsBenchConfig) -> None:
        self._config = config
        self._chain = StreamsBench(
            stack,
            StreamsBenchConfig(
                rate=config.rate, seconds=config.seconds, publishers=config.publishers,
                ingest_workers=config.ingest_workers, seed=config.seed,
            ),
        )  # fmt: skip

    def run(self) -> list[WsResult]:
        """A baseline with a handful of walls, then the full number, each with a fresh chain."""
        return [self.phase(self._config.baseline_clients), self.phase(self._config.clients)]

    def phase(self, clients: int) -> WsResult:
        c = self._config
        with psycopg.connect(self._chain.bench.database_url, autocommit=True) as conn:
            key = ApiKeyRepository(conn).create(f"bench-walls-{int(time.time())}", Scope.READ)
            overview = "SELECT code FROM areas WHERE level IN ('province', 'district') ORDER BY code"
            areas: list[str] | str = [str(code) for (code,) in conn.execute(overview)] if c.areas != "all" else "*"
        api = bench_stack.ApiProcess(self._chain.environment(), self._chain.bench.stack.paths.logs / "bench-api.log")
        with self._chain.chain(), api as base_url:
            watcher = WallWatcher(
                WatchConfig(
                    base_url=base_url, clients=clients, watched=tuple(FAST_KEYS),
                    watching_clients=min(clients, c.watching_clients), count_frames=False,
                    subscription={"kpis": list(WALL_KPIS), "areas": areas, "windows": "*"},
                ),
                key,
            )  # fmt: skip
            try:
                cpu, watch_cpu = CpuWatch(api.pid), CpuWatch(watcher.pid)

                def start_watches() -> None:
                    cpu.start()
                    watch_cpu.start()

                load = self._chain.feed(c.rate, c.seconds, at_start=start_watches)
                cpu.stop()
                watch_cpu.stop()
                rss = procstats.peak_rss_bytes(api.pid) / 2**20
            finally:
                logs = watcher.stop()
        latencies = [ms for log in logs if log.watched for ms in self._chain.latencies(log.watched, FAST_KEYS)]
        fanout = [ms for log in logs for ms in log.delays_ms]
        counted = [log for log in logs if log.watched]  # the walls that count frames (all alike)
        return WsResult(
            published=load.published, stored=load.stored, clients=len(logs), deltas=len(fanout),
            lagging=sum(log.lagging for log in logs), latency_p50_ms=percentile(latencies, 0.5),
            latency_p99_ms=percentile(latencies, 0.99), fanout_p50_ms=percentile(fanout, 0.5),
            fanout_p99_ms=percentile(fanout, 0.99), api_cpu_percent=100 * cpu.seconds / load.elapsed,
            api_peak_rss_mb=rss, deltas_per_second=len(fanout) / load.elapsed,
            frames_per_wall_per_second=sum(log.frames for log in counted) / len(counted) / load.elapsed,
            bytes_per_wall_per_second=sum(log.delta_bytes for log in logs) / len(logs) / load.elapsed,
            clients_cpu_percent=100 * watch_cpu.seconds / load.elapsed,
        )  # fmt: skip


def render(config: WsBenchConfig, results: list[WsResult]) -> str:
    lines = [
        f"ioc bench ws: walls subscribed to {len(WALL_KPIS)} KPIs × {config.areas} areas × every window;"
        f" 1 API process, {config.ingest_workers} ingest processes, 1 engine, {os.cpu_count()} cores;"
        f" {config.rate:,.0f} events/s offered for {config.seconds:.0f} s per phase"
    ]
    for r in results:
        lines.append(
            f"{r.clients} walls: published {r.published}, stored {r.stored}; {r.deltas} deltas delivered"
            f" ({r.deltas_per_second:,.0f}/s), lagging notices {r.lagging}; per wall"
            f" {r.frames_per_wall_per_second:,.0f} frames/s, {r.bytes_per_wall_per_second / 1000:,.0f} kB/s;"
            f" publish → wall p50 {r.latency_p50_ms:.0f} ms p99 {r.latency_p99_ms:.0f} ms"
            f" ({min(r.clients, config.watching_clients)} walls recording arrivals); fan-out (engine as_of → wall)"
            f" p50 {r.fanout_p50_ms:.0f} ms p99 {r.fanout_p99_ms:.0f} ms; API CPU {r.api_cpu_percent:.0f}% of a core,"
            f" peak RSS {r.api_peak_rss_mb:.0f} MB; the walls' own process {r.clients_cpu_percent:.0f}%"
        )
    return "\n".join(lines)
