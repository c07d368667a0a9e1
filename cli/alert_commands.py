"""`ioc alerts list | ack | history | incidents | ack-incident | mute | mutes | unmute`: the alerts the KPI
engine raised, the incidents they are grouped in, and mute windows, for on-call engineers and their scripts."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime
from typing import Any

from cli._context import connect
from cli.output import json_option, print_json
from deploy.settings import Settings
from runtime.operator_input import TIME_EXAMPLE, parse_time
from streams.alerts.mutes import InvalidMute, Mute, MuteRepository
from streams.alerts.store import AlertStore, UnknownAlert
from streams.errors import StreamsError

STATES = ("open", "acknowledged", "resolved")


def register(commands: Any) -> None:
    alerts = commands.add_parser("alerts", help="alerts raised by the KPI engine, their incidents, mute windows")
    actions = alerts.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser(
        "list", help="open and acknowledged alerts, newest first (muted ones marked)",
        epilog="example: ioc alerts list --all --json",
    )  # fmt: skip
    listing.add_argument("--all", action="store_true", help="include resolved alerts, e.g. --all")
    json_option(listing, "ioc alerts list")
    ack = actions.add_parser("ack", help="acknowledge an open alert", epilog="example: ioc alerts ack 42 --by ops-anh")
    ack.add_argument("id", type=int, help="the alert's id, e.g. 42")
    ack.add_argument("--by", default=None, help="who acknowledges (default: the login name), e.g. --by ops-anh")
    ack.add_argument(
        "--comment", default=None, help='why, or what is being done (kept in its history), e.g. --comment "on it"'
    )
    history = actions.add_parser("history", help="an alert's lifecycle", epilog="example: ioc alerts history 42")
    history.add_argument("id", type=int, help="the alert's id, e.g. 42")
    json_option(history, "ioc alerts history 42")
    incidents = actions.add_parser(
        "incidents", help="incidents (alerts of one cause), newest first", epilog="example: ioc alerts incidents"
    )
    incidents.add_argument(
        "--state",
        action="append",
        choices=STATES,
        help="repeatable (default: open and acknowledged), e.g. --state open",
    )
    json_option(incidents, "ioc alerts incidents")
    ack_incident = actions.add_parser(
        "ack-incident", help="acknowledge an open incident and its open alerts",
        epilog='example: ioc alerts ack-incident 7 --comment "fibre cut, VNPT on site"',
    )  # fmt: skip
    ack_incident.add_argument("id", type=int, help="the incident's id, e.g. 7")
    ack_incident.add_argument(
        "--by", default=None, help="who acknowledges (default: the login name), e.g. --by ops-anh"
    )
    ack_incident.add_argument("--comment", default=None, help='why, or what is being done, e.g. --comment "on it"')
    mute = actions.add_parser(
        "mute",
        help="mute the alerts of a rule, of an area and the areas below it, or both, until a time",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
        f'  ioc alerts mute --rule publisher-silent --until {TIME_EXAMPLE} --reason "new counters, not live yet"\n'
        f'  ioc alerts mute --area 24615 --until {TIME_EXAMPLE} --reason "power cut in the commune"',
    )
    mute.add_argument("--rule", help="an alert rule's id, e.g. --rule publisher-silent")
    mute.add_argument("--area", help="an area's code (and every area below it), e.g. --area 24615")
    mute.add_argument(
        "--until", required=True, help=f"ISO 8601 time with an offset, in the future, e.g. --until {TIME_EXAMPLE}"
    )
    mute.add_argument(
        "--reason", required=True, help='why (one line, at most 500 characters), e.g. --reason "fibre cut"'
    )
    mute.add_argument("--by", default=None, help="who mutes (default: the login name), e.g. --by ops-anh")
    mutes = actions.add_parser(
        "mutes", help="mute windows in force, newest first", epilog="example: ioc alerts mutes --all"
    )
    mutes.add_argument("--all", action="store_true", help="include expired and removed ones, e.g. --all")
    json_option(mutes, "ioc alerts mutes")
    unmute = actions.add_parser(
        "unmute", help="remove a mute (kept, with who removed it)", epilog="example: ioc alerts unmute 3"
    )
    unmute.add_argument("id", type=int, help="the mute's id (from `ioc alerts mutes`), e.g. 3")
    unmute.add_argument("--by", default=None, help="who removes it (default: the login name), e.g. --by ops-anh")
    alerts.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    with connect(settings) as conn:
        store, mutes, now = AlertStore(conn), MuteRepository(conn), datetime.now(UTC)
        who = getattr(args, "by", None) or getpass.getuser()
        try:
            if args.action == "list":
                states = STATES if args.all else ("open", "acknowledged")
                found = store.in_states(states)
                if args.json:
                    print_json(found)
                    return 0
                for a in found:
                    by = f" by {a.acknowledged_by}" if a.acknowledged_by else ""
                    muted = f" (muted {a.muted_by})" if a.muted_by is not None else ""
                    state = a.state + by + muted
                    print(f"{a.id:>6}  {a.opened_at:%Y-%m-%d %H:%M:%S}  {a.severity:<8} {state:<24} {a.message}")
            elif args.action == "ack":
                store.acknowledge(args.id, who, now, args.comment)  # AlertNotFound
                print(f"alert {args.id} acknowledged")
            elif args.action == "incidents":
                incidents = store.incidents.in_states(tuple(args.state or ("open", "acknowledged")))
                if args.json:
                    print_json(incidents)
                    return 0
                for i in incidents:
                    by = f" by {i.acknowledged_by}" if i.acknowledged_by else ""
                    print(
                        f"{i.id:>6}  {i.opened_at:%Y-%m-%d %H:%M:%S}  {i.severity:<8} {i.state + by:<24} {i.rule_id} in"
                        f" {i.area_code}: {i.open_members} of {i.members} alerts open"
                    )
            elif args.action == "ack-incident":
                members = store.acknowledge_incident(args.id, who, now, args.comment)  # IncidentNotFound
                print(f"incident {args.id} acknowledged, with {len(members)} alerts")
            elif args.action == "history":
                entries = store.history(args.id)
                if not entries:  # every alert has its opening in its history
                    raise UnknownAlert(args.id)
                if args.json:
                    print_json([{"at": at, "state": s, "actor": actor, "detail": d} for at, s, actor, d in entries])
                    return 0
                for at, state, actor, detail in entries:
                    print(f"{at:%Y-%m-%d %H:%M:%S}  {state:<13} {actor:<12} {detail}")
            elif args.action == "mute":
                until = parse_time(args.until)
                if until is None:
                    raise InvalidMute(f"{args.until!r} is not a time like {TIME_EXAMPLE} (ISO 8601 with an offset)",
                                      field="until")  # fmt: skip
                created = mutes.create(args.rule, args.area, until, args.reason, actor=who, now=now)
                print(f"mute {created.id}: {_covers(created)} until {until.isoformat()}")  # in the offset given
            elif args.action == "mutes":
                listed = mutes.list(include_ended=args.all)
                if args.json:
                    print_json(listed)
                    return 0
                for m in listed:
                    ended = (
                        "" if m.in_force(now) else f"  (removed by {m.removed_by})" if m.removed_by else "  (expired)"
                    )
                    print(f"{m.id:>5}  {_covers(m):<40} until {m.until:%Y-%m-%d %H:%M%z}  by {m.created_by}: {m.reason}"
                          f"{ended}")  # fmt: skip
            else:
                removed = mutes.remove(args.id, actor=who, now=now)
                print(f"mute {removed.id} removed ({_covers(removed)})")
        except StreamsError as exc:
            print(f"ioc alerts {args.action}: {exc}", file=sys.stderr)
            return 1
    return 0


def _covers(mute: Mute) -> str:
    parts = [
        f"rule {mute.rule_id}" if mute.rule_id else "",
        f"area {mute.area_code} and below" if mute.area_code else "",
    ]
    return " in ".join(p for p in parts if p)
