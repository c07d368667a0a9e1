"""`ioc alerts list | ack | history`: the alerts the KPI engine raised, for on-call engineers."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime
from typing import Any

from cli._context import connect
from deploy.settings import Settings
from streams.alerts.store import AlertNotFound, AlertStore


def register(commands: Any) -> None:
    alerts = commands.add_parser("alerts", help="alerts raised by the KPI engine")
    actions = alerts.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="open and acknowledged alerts, newest first")
    listing.add_argument("--all", action="store_true", help="include resolved alerts")
    ack = actions.add_parser("ack", help="acknowledge an open alert")
    ack.add_argument("id", type=int)
    ack.add_argument("--by", default=None, help="who acknowledges (default: the login name)")
    history = actions.add_parser("history", help="an alert's lifecycle")
    history.add_argument("id", type=int)
    alerts.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    with connect(settings) as conn:
        store = AlertStore(conn)
        if args.action == "list":
            states = ("open", "acknowledged", "resolved") if args.all else ("open", "acknowledged")
            for a in store.in_states(states):
                by = f" by {a.acknowledged_by}" if a.acknowledged_by else ""
                print(f"{a.id:>6}  {a.opened_at:%Y-%m-%d %H:%M:%S}  {a.severity:<8} {a.state + by:<24} {a.message}")
        elif args.action == "ack":
            try:
                store.acknowledge(args.id, args.by or getpass.getuser(), datetime.now(UTC))
            except AlertNotFound as exc:
                print(f"ioc alerts ack: {exc}", file=sys.stderr)
                return 1
            print(f"alert {args.id} acknowledged")
        else:
            for at, state, actor, detail in store.history(args.id):
                print(f"{at:%Y-%m-%d %H:%M:%S}  {state:<13} {actor:<12} {detail}")
    return 0
