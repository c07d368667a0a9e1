"""`ioc streams`: the KPI engine (stored events in, KPI frames out)."""

from __future__ import annotations

import argparse
from typing import Any

from cli._context import with_connections
from deploy.settings import Settings
from streams import main


def register(commands: Any) -> None:
    streams = commands.add_parser(
        "streams", help="run the KPI engine (SIGTERM stops it cleanly)", epilog="example: ioc streams"
    )
    streams.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    return main.run(with_connections(settings))
