"""`ioc dead-letters list | replay`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import psycopg

from cli._context import connect, with_connections
from deploy.settings import Settings
from ingest.dead_letters import DeadLetterNotFound, DeadLetterRepository
from ingest.service.replays import DeadLetterReplayer


def register(commands: Any) -> None:
    letters = commands.add_parser("dead-letters", help="invalid input kept with its reason")
    actions = letters.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="newest first; open ones unless --all")
    listing.add_argument("--reason")
    listing.add_argument("--publisher")
    listing.add_argument("--all", action="store_true", help="include resolved dead letters")
    listing.add_argument("--limit", type=int, default=50)
    replay = actions.add_parser("replay", help="run dead letters through validation again and store them")
    target = replay.add_mutually_exclusive_group(required=True)
    target.add_argument("ids", nargs="*", type=int, default=[], metavar="ID")
    target.add_argument("--reason", help="every open dead letter with this reason")
    letters.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    with connect(settings) as conn:
        repository = DeadLetterRepository(conn)
        if args.action == "list":
            for d in repository.find(
                reason=args.reason, publisher_id=args.publisher, include_resolved=args.all, limit=args.limit
            ):
                state = f"resolved ({d.last_replay_outcome})" if d.resolved_at else "open"
                print(f"{d.id:>8}  {d.received_at:%Y-%m-%d %H:%M:%S}  {d.reason:<18} {state:<10} {d.topic}")
                print(f"{'':>10}{d.detail}")
            return 0
        ids = args.ids or repository.open_ids(args.reason)
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
