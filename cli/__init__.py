"""`ioc`: one command line for every service and operation. Settings are built here, once."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from cli import (
    alert_commands,
    api_commands,
    bench_commands,
    broker_commands,
    db_commands,
    dead_letter_commands,
    ingest_commands,
    notify_commands,
    publisher_commands,
    services_commands,
    simulate_commands,
    stack_commands,
    streams_commands,
    up_commands,
)
from deploy.settings import Settings

Handler = Callable[[argparse.Namespace, Settings], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ioc", description="Đắk Nông IOC backend")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
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
    settings = Settings()
    handler: Handler = args.handler
    return handler(args, settings)


if __name__ == "__main__":
    sys.exit(main())
