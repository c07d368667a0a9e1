"""`ioc alerts list | ack | history`: the alerts the KPI engine raised, for on-call engineers."""

from __future__ import annotations

import argparse
import getpass
from datetime import UTC, datetime
from typing import Any

from cli._context import connect
from cli.output import json_option, print_json
from deploy.settings import Settings
from streams.alerts.store import AlertStore, UnknownAlert


def register(commands: Any) -> None:
    alerts = commands.add_parser("alerts", help="alerts raised by the KPI engine")
    actions = alerts.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser(
        "list", help="open and acknowledged alerts, newest first", epilog="example: ioc alerts list --all --json"
    )
    listing.add_argument("--all", action="store_true", help="include resolved alerts (ioc alerts list --all)")
    json_option(listing, "ioc alerts list")
    ack = actions.add_parser("ack", help="acknowledge an open alert", epilog="example: ioc alerts ack 42 --by lan")
    ack.add_argument("id", type=int, help="the alert's id, as `ioc alerts list` shows it (e.g. 42)")
    ack.add_argument("--by", default=None, help="who acknowledges (default: the login name; e.g. --by lan)")
    history = actions.add_parser("history", help="an alert's lifecycle", epilog="example: ioc alerts history 42")
    history.add_argument("id", type=int, help="the alert's id (e.g. 42)")
    json_option(history, "ioc alerts history 42")
    alerts.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    with connect(settings) as conn:
        store = AlertStore(conn)
        if args.action == "list":
            states = ("open", "acknowledged", "resolved") if args.all else ("open", "acknowledged")
            found = store.in_states(states)
            if args.json:
                print_json(found)
                return 0
            for a in found:
                by = f" by {a.acknowledged_by}" if a.acknowledged_by else ""
                print(f"{a.id:>6}  {a.opened_at:%Y-%m-%d %H:%M:%S}  {a.severity:<8} {a.state + by:<24} {a.message}")
        elif args.action == "ack":
            store.acknowledge(args.id, args.by or getpass.getuser(), datetime.now(UTC))  # AlertNotFound: reported
            print(f"alert {args.id} acknowledged")
        else:
            entries = store.history(args.id)
            if not entries:  # every alert has its opening in its history
                raise UnknownAlert(args.id)
            if args.json:
                print_json([{"at": at, "state": s, "actor": actor, "detail": d} for at, s, actor, d in entries])
                return 0
            for at, state, actor, detail in entries:
                print(f"{at:%Y-%m-%d %H:%M:%S}  {state:<13} {actor:<12} {detail}")
    return 0
