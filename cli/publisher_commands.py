"""`ioc publishers add | disable | password | list | gaps | silent-after`."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from cli._context import NoBrokerAdmin, broker_accounts, connect, with_connections
from deploy.settings import Settings
from ingest.registry.connection_kit import BrokerAddress, connection_kit, render_text
from ingest.registry.publishers import (
    SOURCES,
    InvalidPublisher,
    PublisherError,
    PublisherNotFound,
    PublisherRepository,
    add_publisher,
    disable_publisher,
    new_password,
)
from streams.seq_gaps import seq_gaps


def register(commands: Any) -> None:
    publishers = commands.add_parser("publishers", help="external systems allowed to publish")
    actions = publishers.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="register a publisher and create its broker credentials")
    add.add_argument("id")
    add.add_argument("--source", required=True, choices=SOURCES)
    add.add_argument(
        "--area", required=True, help="area code it reports for: its events may name this unit or one below it"
    )
    add.add_argument("--description", default="", help="what it is, for the operators (e.g. 'counter, Gia Nghia')")
    add.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="json: the connection kit as one JSON object, for scripts (e.g. `--format json | jq .commands`)",
    )
    disable = actions.add_parser("disable", help="revoke a publisher and its broker credentials")
    disable.add_argument("id")
    password = actions.add_parser("password", help="a new broker password for a publisher (printed once)")
    password.add_argument("id")
    actions.add_parser("list", help="all publishers")
    gaps = actions.add_parser("gaps", help="seq numbers a publisher skipped (what completeness misses)")
    gaps.add_argument("id")
    gaps.add_argument("--hours", type=float, default=24, help="look back this many hours of event time")
    silence = actions.add_parser("silent-after", help="how long a publisher may stay quiet before it is silent")
    silence.add_argument("id")
    silence.add_argument("seconds", help="seconds, or 'default' for the engine's setting")
    publishers.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    with connect(settings) as conn:
        try:
            if args.action == "add":
                created = add_publisher(
                    conn, broker_accounts(settings), args.id, args.source, args.area, args.description
                )
                kit = connection_kit(
                    created.publisher, created.password, BrokerAddress.from_settings(with_connections(settings))
                )
                print(kit.model_dump_json(indent=2) if args.format == "json" else render_text(kit))
            elif args.action == "password":
                renewed = new_password(conn, broker_accounts(settings), args.id)
                print(f"MQTT username: {renewed.publisher.id}")
                print(f"MQTT password: {renewed.password}   (shown once; the old one no longer works)")
            elif args.action == "gaps":
                end = datetime.now(UTC)
                found = seq_gaps(conn, args.id, end - timedelta(hours=args.hours), end)
                for gap in found:
                    span = str(gap.first) if gap.missing == 1 else f"{gap.first}–{gap.last}"
                    print(f"{span:<24} {gap.missing} missing")
                print(f"{sum(g.missing for g in found)} seq missing in {len(found)} gaps in the last {args.hours:g} h")
            elif args.action == "silent-after":
                seconds = None if args.seconds == "default" else _positive_int(args.seconds)
                if not PublisherRepository(conn).set_silent_after(args.id, seconds):
                    raise PublisherNotFound(args.id)
                print(f"publisher {args.id}: silent after {'the default' if seconds is None else f'{seconds} s'}")
            elif args.action == "disable":
                disabled = disable_publisher(conn, broker_accounts(settings), args.id)
                print(f"publisher {disabled.id} disabled at {disabled.disabled_at:%Y-%m-%d %H:%M:%S%z}")
            else:
                for p in PublisherRepository(conn).list():
                    state = "disabled" if p.disabled_at else "active"
                    retained = _retained_cleared(p.retained_cleared, p.retained_cleared_at)
                    print(f"{p.id:<32} {p.source:<9} {p.area_code:<10} {state:<8} {retained}".rstrip())
        except (PublisherError, NoBrokerAdmin) as exc:
            print(f"ioc publishers {args.action}: {exc}", file=sys.stderr)
            return 1
    return 0


def _retained_cleared(count: int, last: datetime | None) -> str:
    """The retained event messages the broker kept for it (deleted by the sweeper), if any."""
    if not count or last is None:
        return ""
    return f"retained cleared: {count} (last {last.astimezone(UTC):%Y-%m-%d %H:%M:%SZ})"


def _positive_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidPublisher(
            f"{text!r} is neither a number of seconds nor 'default'", field="silent_after_seconds"
        ) from None
