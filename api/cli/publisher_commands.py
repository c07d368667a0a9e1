"""`ioc publishers add | disable | list`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from api.cli._context import connect, local_broker_accounts
from deploy.settings import Settings
from ingest.registry.publishers import (
    SOURCES,
    PublisherError,
    PublisherRepository,
    add_publisher,
    disable_publisher,
)


def register(commands: Any) -> None:
    publishers = commands.add_parser("publishers", help="external systems allowed to publish")
    actions = publishers.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="register a publisher and create its broker credentials")
    add.add_argument("id")
    add.add_argument("--source", required=True, choices=SOURCES)
    add.add_argument("--area", required=True, help="area code of where it sits")
    add.add_argument("--description", default="")
    disable = actions.add_parser("disable", help="revoke a publisher and its broker credentials")
    disable.add_argument("id")
    actions.add_parser("list", help="all publishers")
    publishers.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    with connect(settings) as conn:
        try:
            if args.action == "add":
                created = add_publisher(
                    conn, local_broker_accounts(settings), args.id, args.source, args.area, args.description
                )
                added = created.publisher
                print(f"publisher {added.id} added ({added.source}, {added.area_code})")
                print(f"MQTT username: {created.publisher.id}")
                print(f"MQTT password: {created.password}   (shown once; store it now)")
            elif args.action == "disable":
                disabled = disable_publisher(conn, local_broker_accounts(settings), args.id)
                print(f"publisher {disabled.id} disabled at {disabled.disabled_at:%Y-%m-%d %H:%M:%S%z}")
            else:
                for p in PublisherRepository(conn).list():
                    state = "disabled" if p.disabled_at else "active"
                    print(f"{p.id:<32} {p.source:<9} {p.area_code:<10} {state}")
        except PublisherError as exc:
            print(f"ioc publishers {args.action}: {exc}", file=sys.stderr)
            return 1
    return 0
