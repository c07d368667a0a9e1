"""`ioc simulate`: simulated publishers of Đắk Nông on the broker, with fault modes (SIGTERM stops it cleanly)."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from cli._context import NoBrokerAdmin, broker_accounts, connect, with_connections
from deploy.settings import Settings
from ingest.broker.control import BrokerControlError
from runtime.process import stop_on_signals
from runtime.tls import mqtt_client_context
from tools.simulator.session import SimulationConfig, SimulationError, SimulationSession
from tools.simulator.shapes import LOCAL_TIME
from tools.simulator.traffic import FaultRates

log = logging.getLogger("ioc.simulate")


def _share(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not a share between 0 and 1")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def _local_time(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    return at if at.tzinfo is not None else at.replace(tzinfo=LOCAL_TIME)


def register(commands: Any) -> None:
    sim = commands.add_parser(
        "simulate", help="simulated publishers of the province (SIGTERM stops it cleanly)",
        epilog="example: ioc simulate --rate 50 --speed 1440 --bad-ratio 0.01 --duration 600",
    )  # fmt: skip
    sim.add_argument("--rate", type=_positive, default=5.0, help="events/s of all publishers at the busiest hour")
    sim.add_argument("--duration", type=_positive, help="seconds to run (default: until stopped)")
    sim.add_argument("--speed", type=_positive, default=1.0, help="simulated seconds per second (1440: a day a minute)")
    sim.add_argument("--seed", type=int, help="seed of every draw, for a reproducible run")
    sim.add_argument("--bad-ratio", type=_share, default=0.0, help="share of messages replaced by invalid ones")
    sim.add_argument("--duplicates", type=_share, default=0.0, help="share of events sent again")
    sim.add_argument("--late", type=_share, default=0.0, help="share of payments and samples stamped 1–12 h ago")
    sim.add_argument("--silent", type=int, default=0, help="publishers that go quiet (alerts: publisher-silent)")
    sim.add_argument("--gaps", type=_share, default=0.0, help="share of events whose seq skips a number")
    sim.add_argument("--communes", nargs="+", default=(), metavar="CODE", help="simulate only these communes")
    sim.add_argument("--prefix", default="sim", help="publisher ids start with this (default: sim)")
    sim.add_argument("--start", type=_local_time, help="simulated start, ISO local time (default: now)")
    sim.add_argument("--silent-after", type=int, help="seconds of quiet before a simulated publisher is silent")
    sim.add_argument("--quiet-after", type=_positive, help="seconds into the run when --silent ones stop")
    sim.add_argument("--summary-json", type=Path, help="also write the summary to this file, as JSON")
    sim.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    config = SimulationConfig(
        rate=args.rate,
        duration_seconds=args.duration,
        speed=args.speed,
        seed=args.seed,
        faults=FaultRates(args.bad_ratio, args.duplicates, args.late, args.gaps),
        silent=args.silent,
        communes=tuple(args.communes),
        prefix=args.prefix,
        start_local=args.start,
        silent_after_seconds=args.silent_after,
        quiet_after_seconds=args.quiet_after,
        # A log gets a line every 10 s; a terminal one that rewrites itself every second.
        progress_seconds=1.0 if sys.stdout.isatty() else 10.0,
    )
    try:
        accounts = broker_accounts(settings)
        with accounts.control.session():  # one admin connection for every publisher's account
            session = SimulationSession(
                lambda: connect(settings),
                accounts,
                settings.mqtt_host,
                settings.mqtt_port,
                config,
                tls=mqtt_client_context(with_connections(settings)),
            )
    except (SimulationError, NoBrokerAdmin, BrokerControlError) as exc:
        print(f"ioc simulate: {exc}", file=sys.stderr)
        return 1
    stop_on_signals(session.stop, log)
    print(f"simulating {len(session.publishers)} publishers (seed {session.seed}); stop with Ctrl-C", flush=True)
    if session.silent:
        print(f"going quiet later: {', '.join(session.silent)}", flush=True)
    try:
        summary = session.run(_progress_printer())
    except SimulationError as exc:
        print(f"\nioc simulate: {exc}", file=sys.stderr)
        return 1
    print("\n" + "\n".join(summary.lines()) if sys.stdout.isatty() else "\n".join(summary.lines()), flush=True)
    if args.summary_json is not None:
        summary.write(args.summary_json)
    return 0 if summary.unacknowledged == 0 else 1


def _progress_printer() -> Any:
    if sys.stdout.isatty():
        return lambda line: print("\r" + line, end="", flush=True)
    return lambda line: print(line, flush=True)
