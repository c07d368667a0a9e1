"""`ioc publishers maintenance | enable | show`, and the state shown by `list`: the publisher lifecycle
(issue 22). Every change is recorded with who made it (`--by`, default the login name) and why."""

from __future__ import annotations

import argparse
import getpass
from datetime import UTC, datetime
from typing import Any

import psycopg

from api.http.publishers.service import PublisherView, SilenceRules
from cli._context import broker_accounts
from cli.output import json_option, print_json
from deploy.settings import Settings
from ingest.registry.actions import recent_actions
from ingest.registry.lifecycle import enable_publisher, end_maintenance, set_maintenance
from ingest.registry.publishers import InvalidPublisher
from ingest.registry.states import parse_until
from runtime.operator_input import TIME_EXAMPLE

ACTIONS = ("maintenance", "enable", "show")
_BY_HELP = "who makes the change, as recorded (default: your login name), e.g. --by ops-anh"


def register(actions: Any) -> None:
    maintenance = actions.add_parser(
        "maintenance",
        help="put a publisher in maintenance until a time (no silent alert), or end it",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
        f'  ioc publishers maintenance counter-0001 --until {TIME_EXAMPLE} --reason "counter moved"\n'
        "  ioc publishers maintenance counter-0001 --end",
    )
    maintenance.add_argument("id", help="the publisher's id, e.g. counter-0001")
    when = maintenance.add_mutually_exclusive_group(required=True)
    when.add_argument(
        "--until", help=f"ISO 8601 time with an offset, in the future, within 366 days, e.g. {TIME_EXAMPLE}"
    )
    when.add_argument("--end", action="store_true", help="end its maintenance now, e.g. --end")
    maintenance.add_argument(
        "--reason", help='why (required with --until; one line, at most 500 characters), e.g. --reason "fibre cut"'
    )
    maintenance.add_argument("--by", help=_BY_HELP)
    enable = actions.add_parser(
        "enable",
        help="enable a disabled publisher and its broker account (its old password)",
        epilog='example: ioc publishers enable counter-0001 --reason "repaired"',
    )
    enable.add_argument("id", help="the publisher's id, e.g. counter-0001")
    enable.add_argument("--reason", default="", help='why (optional), e.g. --reason "repaired"')
    enable.add_argument("--by", help=_BY_HELP)
    show = actions.add_parser(
        "show",
        help="a publisher's state, silence and recorded actions",
        epilog="example: ioc publishers show counter-0001",
    )
    show.add_argument("id", help="the publisher's id, e.g. counter-0001")
    json_option(show, "ioc publishers show counter-0001")


def actor(args: argparse.Namespace) -> str:
    return str(getattr(args, "by", None) or getpass.getuser())


def run(args: argparse.Namespace, settings: Settings, conn: psycopg.Connection[tuple[object, ...]]) -> None:
    now = datetime.now(UTC)
    if args.action == "maintenance":
        if args.end:
            end_maintenance(conn, args.id, actor=actor(args), now=now)
            print(f"publisher {args.id}: not in maintenance")
            return
        if args.reason is None:
            raise InvalidPublisher("--reason is required with --until", field="reason")
        until = parse_until(args.until, now)
        set_maintenance(conn, args.id, until, args.reason, actor=actor(args), now=now)
        print(f"publisher {args.id}: in maintenance until {until.isoformat()}")  # in the offset it was given in
    elif args.action == "enable":
        enable_publisher(conn, broker_accounts(settings), args.id, actor=actor(args), reason=args.reason)
        print(f"publisher {args.id} enabled")
    else:
        p = view(conn, settings).one(args.id)
        if getattr(args, "json", False):
            print_json({"publisher": p.model_dump(mode="json"), "actions": recent_actions(conn, args.id, 20)})
            return
        print(f"{p.id}  {p.source}  area {p.area_code}  state {p.state}  status {p.status or '-'}")
        print(f"silent after {p.silent_after_seconds:g} s{' (default)' if p.silent_after_default else ''};"
              f" last seen {_time(p.last_seen_at)}; first message {_time(p.first_message_at)}")  # fmt: skip
        if p.onboarding_until is not None:
            print(f"onboarding: a silent alert from {_time(p.onboarding_until)}")
        if p.maintenance is not None:
            m = p.maintenance
            print(f"maintenance until {_time(m.until)}, set by {m.by} at {_time(m.set_at)}: {m.reason}")
        for a in recent_actions(conn, args.id, 20):
            print(f"  {_time(a.at)}  {a.action:<18} {a.actor:<16} {a.detail}")


def view(conn: psycopg.Connection[tuple[object, ...]], settings: Settings) -> PublisherView:
    return PublisherView(conn, SilenceRules.of(settings), datetime.now(UTC))


def _time(at: datetime | None) -> str:
    return "never" if at is None else f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%SZ}"
