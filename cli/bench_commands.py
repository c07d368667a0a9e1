"""`ioc bench …` (ingest, streams, ws, api, keys, snapshots): performance is measured by benchmarks, not timed tests."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cli.home import new_or_existing_stack
from deploy.settings import Settings
from tools.bench.api_bench import ApiBench, ApiBenchConfig
from tools.bench.api_bench import render as render_api
from tools.bench.bench_stack import BenchSetupError
from tools.bench.ingest_bench import IngestBench, IngestBenchConfig
from tools.bench.ingest_bench import render as render_ingest
from tools.bench.key_order_bench import KeyOrderBench, KeyOrderBenchConfig
from tools.bench.key_order_bench import render as render_keys
from tools.bench.snapshot_bench import SnapshotBench, SnapshotBenchConfig
from tools.bench.snapshot_bench import render as render_snapshots
from tools.bench.streams_bench import StreamsBench, StreamsBenchConfig
from tools.bench.streams_bench import render as render_streams
from tools.bench.ws_bench import WsBench, WsBenchConfig
from tools.bench.ws_bench import render as render_ws


def register(commands: Any) -> None:
    bench = commands.add_parser("bench", help="benchmarks against the local stack")
    kinds = bench.add_subparsers(dest="kind", required=True, metavar="KIND")
    ingest = kinds.add_parser(
        "ingest", help="MQTT → TimescaleDB throughput, latency, loss", epilog="example: ioc bench ingest --rate 12000"
    )
    defaults = IngestBenchConfig()
    ingest.add_argument("--rate", type=float, default=defaults.rate, help="offered events/s (sustained phase)")
    ingest.add_argument("--seconds", type=float, default=defaults.seconds, help="length of the sustained phase")
    ingest.add_argument("--workers", type=int, default=defaults.workers, help="ingest processes")
    ingest.add_argument("--publishers", type=int, default=defaults.publishers, help="simulated publishers (e.g. 50)")
    ingest.add_argument(
        "--flood-events", type=int, default=defaults.flood_events, help="events of the flood phase (e.g. 200000)"
    )
    ingest.add_argument(
        "--resend-rounds", type=int, default=defaults.resend_rounds,
        help="pairs of floods with the re-send check off and on, to price it (0: none)",
    )  # fmt: skip
    streams = kinds.add_parser(
        "streams", help="publish → KPI frame latency, engine CPU and memory, keeping up",
        epilog="example: ioc bench streams --rate 2000 --seconds 60",
    )  # fmt: skip
    s = StreamsBenchConfig()
    streams.add_argument("--rate", type=float, default=s.rate, help="offered events/s (first phase)")
    streams.add_argument("--seconds", type=float, default=s.seconds, help="length of the first phase")
    streams.add_argument("--high-rate", type=float, default=s.high_rate, help="offered events/s (second phase)")
    streams.add_argument("--high-seconds", type=float, default=s.high_seconds, help="length of the second phase")
    streams.add_argument("--publishers", type=int, default=s.publishers, help="simulated publishers (e.g. 50)")
    streams.add_argument("--workers", type=int, default=s.ingest_workers, help="ingest processes")
    ws = kinds.add_parser(
        "ws", help="publish → wall latency with hundreds of live websocket clients; API CPU, memory",
        epilog="example: ioc bench ws --clients 500",
    )  # fmt: skip
    w = WsBenchConfig()
    ws.add_argument("--clients", type=int, default=w.clients, help="websocket clients (walls)")
    ws.add_argument("--baseline-clients", type=int, default=w.baseline_clients, help="walls in the first phase")
    ws.add_argument("--rate", type=float, default=w.rate, help="offered events/s")
    ws.add_argument("--seconds", type=float, default=w.seconds, help="length of the load")
    ws.add_argument("--publishers", type=int, default=w.publishers, help="simulated publishers (e.g. 50)")
    ws.add_argument("--workers", type=int, default=w.ingest_workers, help="ingest processes")
    ws.add_argument("--areas", choices=["districts", "all"], default=w.areas, help="the walls' areas")
    api = kinds.add_parser(
        "api", help="30-day KPI history at 1-hour buckets over tens of millions of raw events",
        epilog="example: ioc bench api --events 5000000",
    )  # fmt: skip
    a = ApiBenchConfig()
    api.add_argument("--events", type=int, default=a.events, help="raw events to store first")
    api.add_argument("--requests", type=int, default=a.requests, help="history queries to time")
    keys = kinds.add_parser(
        "keys", help="the event tables' unique key in time order against a random UUID first",
        epilog="example: ioc bench keys --rows 1000000",
    )  # fmt: skip
    k = KeyOrderBenchConfig()
    keys.add_argument("--rows", type=int, default=k.rows, help="rows written into each table")
    snapshots = kinds.add_parser(
        "snapshots",
        help="KPI history rows and bytes a day: every value every minute against what changed",
        epilog="example: ioc bench snapshots --minutes 10",
    )
    sn = SnapshotBenchConfig()
    snapshots.add_argument(
        "--minutes",
        type=float,
        default=sn.minutes,
        help="length of each phase (the demo's rate, a province's), at least 5, e.g. --minutes 10",
    )
    bench.set_defaults(handler=run)


def bench_settings(settings: Settings) -> Settings:
    """A stack of its own beside the development one (`$IOC_HOME/bench`, ports + 10): no session or
    backlog of anyone else's shares the broker, and the measurements repeat."""
    return settings.model_copy(
        update={
            "home": settings.resolved_home() / "bench",
            "pg_port": settings.pg_port + 10,
            "mqtt_port": settings.mqtt_port + 10,
            "redis_port": settings.redis_port + 10,
            "database_url": None,
            "redis_url": None,
            "mqtt_password": None,
            "mqtt_admin_password": None,
            "mqtt_sweeper_password": None,
            # The benchmarks' clients speak plain MQTT to their own loopback broker.
            "tls": False,
            "mqtt_tls_ca_file": None,
        }
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    stack = new_or_existing_stack(bench_settings(settings))  # its own, inside the home that was found
    stack.up()
    stack.mosquitto.discard_persistence()
    try:
        if args.kind == "ingest":
            config = IngestBenchConfig(
                rate=args.rate, seconds=args.seconds, workers=args.workers, publishers=args.publishers,
                flood_events=args.flood_events, resend_rounds=args.resend_rounds,
            )  # fmt: skip
            print(render_ingest(IngestBench(stack, config).run()))
        elif args.kind == "keys":
            keys_config = KeyOrderBenchConfig(rows=args.rows)
            print(render_keys(keys_config, *KeyOrderBench(stack, keys_config).run()))
        elif args.kind == "api":
            api_config = ApiBenchConfig(events=args.events, requests=args.requests)
            print(render_api(api_config, ApiBench(stack, api_config).run()))
        elif args.kind == "snapshots":
            snapshot_config = SnapshotBenchConfig(minutes=args.minutes)
            print(render_snapshots(snapshot_config, SnapshotBench(stack, snapshot_config).run()))
        elif args.kind == "ws":
            ws_config = WsBenchConfig(
                clients=args.clients, baseline_clients=args.baseline_clients, rate=args.rate, seconds=args.seconds,
                publishers=args.publishers,
                ingest_workers=args.workers, areas=args.areas,
            )  # fmt: skip
            print(render_ws(ws_config, WsBench(stack, ws_config).run()))
        else:
            streams_config = StreamsBenchConfig(
                rate=args.rate, seconds=args.seconds, high_rate=args.high_rate, high_seconds=args.high_seconds,
                publishers=args.publishers, ingest_workers=args.workers,
            )  # fmt: skip
            print(render_streams(streams_config, StreamsBench(stack, streams_config).run()))
    except BenchSetupError as exc:
        print(f"ioc bench {args.kind}: {exc}", file=sys.stderr)
        return 1
    return 0
