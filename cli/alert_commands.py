"""`ioc alerts list | ack | history | incidents | ack-incident`: the alerts the KPI engine raised and the
incidents they are grouped in, for on-call engineers and their scripts."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime
from typing import Any

from cli._context import connect
from deploy.settings import Settings
from streams.alerts.incidents import IncidentNotFound
from streams.alerts.store import AlertNotFound, AlertStore

STATES = ("open", "acknowledged", "resolved")


def register(commands: Any) -> None:
    alerts = commands.add_parser("alerts", help="alerts raised by the KPI engine, and their incidents")
    actions = alerts.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="open and acknowledged alerts, newest first")
    listing.add_argument("--all", action="store_true", help="include resolved alerts")
    ack = actions.add_parser("ack", help="acknowledge an open alert")
    ack.add_argument("id", type=int)
    ack.add_argument("--by", default=None, help="who acknowledges (default: the login name)")
    ack.add_argument("--comment", default=None, help="why, or what is being done (kept in the alert's history)")
    history = actions.add_parser("history", help="an alert's lifecycle")
    history.add_argument("id", type=int)
    incidents = actions.add_parser("incidents", help="incidents (alerts of one cause), newest first")
    incidents.add_argument(
        "--state", action="append", choices=STATES, help="repeatable (default: open and acknowledged)"
    )
    ack_incident = actions.add_parser("ack-incident", help="acknowledge an open incident and its open alerts")
    ack_incident.add_argument("id", type=int)
    ack_incident.add_argument("--by", default=None, help="who acknowledges (default: the login name)")
    ack_incident.add_argument("--comment", default=None, help="why, or what is being done")
    alerts.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    with connect(settings) as conn:
        store = AlertStore(conn)
        if args.action == "list":
            states = STATES if args.all else ("open", "acknowledged")
            for a in store.in_states(states):
                by = f" by {a.acknowledged_by}" if a.acknowledged_by else ""
                print(f"{a.id:>6}  {a.opened_at:%Y-%m-%d %H:%M:%S}  {a.severity:<8} {a.state + by:<24} {a.message}")
        elif args.action == "ack":
            try:
                store.acknowledge(args.id, args.by or getpass.getuser(), datetime.now(UTC), args.comment)
            except AlertNotFound as exc:
                print(f"ioc alerts ack: {exc}", file=sys.stderr)
                return 1
            print(f"alert {args.id} acknowledged")
        elif args.action == "incidents":
            for i in store.incidents.in_states(tuple(args.state or ("open", "acknowledged"))):
                by = f" by {i.acknowledged_by}" if i.acknowledged_by else ""
                print(
                    f"{i.id:>6}  {i.opened_at:%Y-%m-%d %H:%M:%S}  {i.severity:<8} {i.state + by:<24} {i.rule_id} in"
                    f" {i.area_code}: {i.open_members} of {i.members} alerts open"
                )
        elif args.action == "ack-incident":
            try:
                members = store.acknowledge_incident(
                    args.id, args.by or getpass.getuser(), datetime.now(UTC), args.comment
                )
            except IncidentNotFound as exc:
                print(f"ioc alerts ack-incident: {exc}", file=sys.stderr)
                return 1
            print(f"incident {args.id} acknowledged, with {len(members)} alerts")
        else:
            for at, state, actor, detail in store.history(args.id):
                print(f"{at:%Y-%m-%d %H:%M:%S}  {state:<13} {actor:<12} {detail}")
    return 0
