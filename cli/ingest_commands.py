"""`ioc ingest [--workers N]`: the MQTT → TimescaleDB ingest service."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from types import FrameType
from typing import Any

from cli._context import with_connections
from deploy.settings import Settings
from deploy.stack.mosquitto import INGEST_USERNAMES
from ingest import main
from ingest.service.runner import DEFAULT_SHARED_GROUP


def register(commands: Any) -> None:
    ingest = commands.add_parser(
        "ingest", help="run the ingest service (SIGTERM stops it cleanly)", epilog="example: ioc ingest --workers 2"
    )
    ingest.add_argument(
        "--workers", type=int, default=1,
        help="processes sharing the stream through the MQTT shared subscription, each its own account (e.g. 2)",
    )  # fmt: skip
    ingest.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.workers > 1:
        return _run_workers(args.workers, settings)
    return main.run(with_connections(settings))


def _run_workers(count: int, settings: Settings) -> int:
    """Start `count` single-process ingesters, forward SIGTERM/SIGINT to them, wait for all."""
    if count > len(INGEST_USERNAMES):
        print(f"ioc ingest: at most {len(INGEST_USERNAMES)} workers (one broker account each)", file=sys.stderr)
        return 2
    children: list[subprocess.Popen[bytes]] = []
    for index in range(count):
        env = {
            **os.environ,
            "IOC_MQTT_USERNAME": INGEST_USERNAMES[index],
            "IOC_INGEST_HEALTH_PORT": str(settings.ingest_health_port + index),
            "IOC_INGEST_SHARED_GROUP": settings.ingest_shared_group or DEFAULT_SHARED_GROUP,
        }
        children.append(subprocess.Popen([sys.executable, "-m", "cli", "ingest"], env=env))

    def forward(signum: int, frame: FrameType | None) -> None:
        for child in children:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    codes = [child.wait() for child in children]
    # A child killed by a signal reports a negative code: that is a failure too.
    return 0 if all(code == 0 for code in codes) else 1
