"""`ioc`: one command line for every service and operation. Settings are built here, once."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from cli import (
    alert_commands,
    api_commands,
    bench_commands,
    broker_commands,
    db_commands,
    dead_letter_commands,
    ingest_commands,
    kpi_commands,
    notify_commands,
    publisher_commands,
    services_commands,
    simulate_commands,
    stack_commands,
    streams_commands,
    up_commands,
)
from cli.errors import run_reported
from cli.home import search_home, with_home
from deploy.settings import Settings

Handler = Callable[[argparse.Namespace, Settings], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ioc",
        description="Đắk Nông IOC backend. The local stack is in $IOC_HOME, else in .ioc of the project folder.",
        epilog="example: ioc -v dead-letters list --reason too_old --json",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="debug logging, and the traceback of an error (ioc -v db migrate)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (
        stack_commands,
        db_commands,
        publisher_commands,
        broker_commands,
        ingest_commands,
        streams_commands,
        dead_letter_commands,
        alert_commands,
        notify_commands,
        kpi_commands,
        api_commands,
        bench_commands,
        simulate_commands,
        services_commands,
        up_commands,
    ):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    handler: Handler = args.handler
    action = getattr(args, "action", None) or getattr(args, "kind", None)
    command = " ".join(["ioc", args.command, *([action] if action else [])])

    def call() -> int:
        return handler(args, with_home(Settings(), search_home(os.environ, Path.cwd())))

    return run_reported(command, call, verbose=args.verbose)


if __name__ == "__main__":
    sys.exit(main())
