"""`ioc publishers add | disable | enable | maintenance | show | password | list | gaps | silent-after`."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from cli import publisher_state_commands
from cli._context import NoBrokerAdmin, broker_accounts, connect, with_connections
from cli.output import json_option, print_json
from deploy.settings import Settings
from ingest.registry.connection_kit import BrokerAddress, connection_kit, render_text
from ingest.registry.lifecycle import set_silent_after
from ingest.registry.publishers import (
    SOURCES,
    PublisherError,
    PublisherNotFound,
    PublisherRepository,
    add_publisher,
    disable_publisher,
    new_password,
)
from ingest.registry.states import parse_silent_after
from streams.seq_gaps import seq_gaps


def register(commands: Any) -> None:
    publishers = commands.add_parser("publishers", help="external systems allowed to publish")
    actions = publishers.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add", help="register a publisher and create its broker credentials",
        epilog="example: ioc publishers add pos-gianghia-01 --source payments --area 24611",
    )  # fmt: skip
    add.add_argument("id", help="its id, also its MQTT username (e.g. pos-gianghia-01)")
    add.add_argument("--source", required=True, choices=SOURCES, help="what it publishes (e.g. --source payments)")
    add.add_argument(
        "--area", required=True,
        help="area code it reports for: its events may name this unit or one below it (e.g. --area 24611)",
    )  # fmt: skip
    add.add_argument("--description", default="", help="free text for operators (e.g. --description 'Gia Nghĩa desk')")
    add.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="json: the connection kit as one JSON object, for scripts (e.g. `--format json | jq .commands`)",
    )
    disable = actions.add_parser(
        "disable",
        help="revoke a publisher and its broker credentials (its messages become publisher_disabled dead letters)",
        epilog='example: ioc publishers disable counter-0001 --reason "replaced by counter-0104"',
    )
    disable.add_argument("id", help="the publisher's id, e.g. counter-0001")
    disable.add_argument("--reason", default="", help='why (optional), e.g. --reason "replaced"')
    disable.add_argument("--by", help="who disables it, as recorded (default: your login name), e.g. --by ops-anh")
    publisher_state_commands.register(actions)
    password = actions.add_parser(
        "password", help="a new broker password for a publisher (printed once)",
        epilog="example: ioc publishers password pos-01",
    )  # fmt: skip
    password.add_argument("id", help="the publisher's id (e.g. pos-01)")
    listing = actions.add_parser("list", help="all publishers", epilog="example: ioc publishers list --json")
    json_option(listing, "ioc publishers list")
    gaps = actions.add_parser(
        "gaps", help="seq numbers a publisher skipped (what completeness misses)",
        epilog="example: ioc publishers gaps probe-dakmil-03 --hours 6",
    )  # fmt: skip
    gaps.add_argument("id", help="the publisher's id (e.g. probe-dakmil-03)")
    gaps.add_argument(
        "--hours", type=float, default=24, help="look back this many hours of event time (e.g. --hours 6)"
    )
    json_option(gaps, "ioc publishers gaps probe-dakmil-03")
    silence = actions.add_parser(
        "silent-after",
        help="how long a publisher may stay quiet before it is silent",
        epilog="examples: ioc publishers silent-after probe-0007 2h;  ioc publishers silent-after probe-0007 default",
    )
    silence.add_argument("id", help="the publisher's id, e.g. probe-0007")
    silence.add_argument(
        "duration", help="90s, 30m, 2h, 1d, a number of seconds, or 'default' (the engine's setting), e.g. 30m"
    )
    silence.add_argument("--by", help="who changes it, as recorded (default: your login name), e.g. --by ops-anh")
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
                if PublisherRepository(conn).get(args.id) is None:  # else "0 missing" would look like good news
                    raise PublisherNotFound(args.id)
                end = datetime.now(UTC)
                found = seq_gaps(conn, args.id, end - timedelta(hours=args.hours), end)
                if args.json:
                    gaps_out = [{"first": g.first, "last": g.last, "missing": g.missing} for g in found]
                    print_json({"publisher": args.id, "hours": args.hours, "gaps": gaps_out})
                    return 0
                for gap in found:
                    span = str(gap.first) if gap.missing == 1 else f"{gap.first}–{gap.last}"
                    print(f"{span:<24} {gap.missing} missing")
                print(f"{sum(g.missing for g in found)} seq missing in {len(found)} gaps in the last {args.hours:g} h")
            elif args.action == "silent-after":
                seconds = parse_silent_after(args.duration)
                set_silent_after(conn, args.id, seconds, actor=publisher_state_commands.actor(args))
                print(f"publisher {args.id}: silent after {'the default' if seconds is None else f'{seconds} s'}")
            elif args.action == "disable":
                who = publisher_state_commands.actor(args)
                disabled = disable_publisher(conn, broker_accounts(settings), args.id, actor=who, reason=args.reason)
                print(f"publisher {disabled.id} disabled at {disabled.disabled_at:%Y-%m-%d %H:%M:%S%z}")
            elif args.action in publisher_state_commands.ACTIONS:
                publisher_state_commands.run(args, settings, conn)
            elif args.json:
                print_json(PublisherRepository(conn).list())
            else:
                for p in publisher_state_commands.view(conn, settings).all():
                    retained = _retained_cleared(p.retained_cleared, p.retained_cleared_at)
                    status = p.status or "-"
                    print(f"{p.id:<32} {p.source:<9} {p.area_code:<10} {p.state:<11} {status:<7} {retained}".rstrip())
        except (PublisherError, NoBrokerAdmin) as exc:
            print(f"ioc publishers {args.action}: {exc}", file=sys.stderr)
            return 1
    return 0


def _retained_cleared(count: int, last: datetime | None) -> str:
    """The retained event messages the broker kept for it (deleted by the sweeper), if any."""
    if not count or last is None:
        return ""
    return f"retained cleared: {count} (last {last.astimezone(UTC):%Y-%m-%d %H:%M:%SZ})"
