"""`ioc dead-letters list | replay`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import psycopg

from cli._context import connect, with_connections
from cli.errors import CommandError
from cli.output import json_option, print_json
from deploy.settings import Settings
from ingest.contract.errors import RejectReason
from ingest.dead_letters import DeadLetterNotFound, DeadLetterRepository
from ingest.service.replays import DeadLetterReplayer

_REASONS = ", ".join(RejectReason)


class UnknownReason(CommandError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"no dead-letter reason {reason!r}; the reasons are {_REASONS}")


def _reason(text: str) -> str:
    """A reason code of the contract: a misspelt one would list nothing and look like good news."""
    if text not in {r.value for r in RejectReason}:
        raise UnknownReason(text)
    return text


def register(commands: Any) -> None:
    letters = commands.add_parser("dead-letters", help="invalid input kept with its reason")
    actions = letters.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser(
        "list", help="newest first; open ones unless --all", epilog="example: ioc dead-letters list --reason too_old"
    )
    listing.add_argument("--reason", help="only this reason code (e.g. --reason unknown_area)")
    listing.add_argument("--publisher", help="only this publisher's (e.g. --publisher pos-gianghia-01)")
    listing.add_argument(
        "--all", action="store_true", help="include resolved dead letters (ioc dead-letters list --all)"
    )
    listing.add_argument(
        "--limit", type=int, default=50, help="at most this many, newest first (default 50; e.g. --limit 500)"
    )
    json_option(listing, "ioc dead-letters list")
    replay = actions.add_parser(
        "replay", help="run dead letters through validation again and store them",
        epilog="examples: ioc dead-letters replay 1234 1235; ioc dead-letters replay --reason unknown_publisher",
    )  # fmt: skip
    target = replay.add_mutually_exclusive_group(required=True)
    target.add_argument("ids", nargs="*", type=int, default=[], metavar="ID", help="dead letter ids (e.g. 1234 1235)")
    target.add_argument("--reason", help="every open dead letter with this reason (e.g. --reason unknown_publisher)")
    letters.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    reason = None if args.reason is None else _reason(args.reason)
    with connect(settings) as conn:
        repository = DeadLetterRepository(conn)
        if args.action == "list":
            found = repository.find(
                reason=reason, publisher_id=args.publisher, include_resolved=args.all, limit=args.limit
            )
            if args.json:
                print_json(found)
                return 0
            for d in found:
                state = f"resolved ({d.last_replay_outcome})" if d.resolved_at else "open"
                print(f"{d.id:>8}  {d.received_at:%Y-%m-%d %H:%M:%S}  {d.reason:<18} {state:<10} {d.topic}")
                print(f"{'':>10}{d.detail}")
            return 0
        ids = args.ids or repository.open_ids(reason)
        failures = 0
        replayer = DeadLetterReplayer(conn, with_connections(settings))
        for dead_letter_id in ids:
            try:
                outcome = replayer.replay(dead_letter_id)
            except DeadLetterNotFound as exc:
                print(f"ioc dead-letters replay: {exc}", file=sys.stderr)
                failures += 1
                continue
            except psycopg.Error as exc:  # e.g. a storage_rejected row refused again: report, go on
                print(f"{dead_letter_id}: error ({type(exc).__name__}: {exc})", file=sys.stderr)
                failures += 1
                continue
            failures += outcome.status == "rejected"
            print(f"{dead_letter_id}: {outcome.status} ({outcome.detail})")
        if not replayer.close():
            print(
                "ioc dead-letters replay: Redis was unreachable; the KPI engine counts the replayed events after"
                " its next rebuild (restart it: ioc services stop && ioc services start)",
                file=sys.stderr,
            )
            return 1
    return 1 if failures else 0
