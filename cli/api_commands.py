"""`ioc api` (the HTTP API, served by uvicorn) and `ioc apikeys create | list | revoke`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import redis

from api.http import main
from api.http.auth.keys import ApiKeyRepository, KeyNameTaken, Scope
from api.http.auth.revocations import announce_revoked
from cli._context import connect, with_connections
from cli.output import json_option, print_json
from deploy.settings import Settings


def register(commands: Any) -> None:
    api = commands.add_parser(
        "api", help="run the HTTP API (SIGTERM stops it cleanly)", epilog="example: IOC_API_PORT=8080 ioc api"
    )
    api.set_defaults(handler=run_api)
    keys = commands.add_parser("apikeys", help="API keys and their scopes")
    actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create", help="create a key and print it once", epilog="example: ioc apikeys create --name wall-2 --scope read"
    )
    create.add_argument("--name", required=True, help="a name unique among the keys (e.g. --name wall-2)")
    create.add_argument(
        "--scope", required=True, choices=[s.label for s in Scope],
        help="read ⊂ operate ⊂ admin (e.g. --scope operate for an on-call engineer)",
    )  # fmt: skip
    listing = actions.add_parser(
        "list", help="every key, without its secret", epilog="example: ioc apikeys list --json"
    )
    json_option(listing, "ioc apikeys list")
    revoke = actions.add_parser("revoke", help="revoke a key by name", epilog="example: ioc apikeys revoke wall-2")
    revoke.add_argument("name", help="the key's name (e.g. wall-2)")
    keys.set_defaults(handler=run_keys)


def run_api(args: argparse.Namespace, settings: Settings) -> int:
    return main.run(with_connections(settings))


def run_keys(args: argparse.Namespace, settings: Settings) -> int:
    with connect(settings) as conn:
        keys = ApiKeyRepository(conn)
        if args.action == "create":
            try:
                key = keys.create(args.name, Scope.parse(args.scope))
            except (KeyNameTaken, ValueError) as exc:
                print(f"ioc apikeys create: {exc}", file=sys.stderr)
                return 1
            print(f"API key {args.name} ({args.scope}): {key}")
            print("Shown once: store it now. Send it as 'Authorization: Bearer <key>'.")
        elif args.action == "list" and args.json:
            print_json([
                {"name": k.name, "scope": k.scope.label, "created_at": k.created_at, "revoked_at": k.revoked_at}
                for k in keys.list()
            ])  # fmt: skip
        elif args.action == "list":
            for k in keys.list():
                state = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "active"
                print(f"{k.name:<32} {k.scope.label:<8} created {k.created_at:%Y-%m-%d %H:%M}  {state}")
        elif not keys.revoke(args.name):
            print(f"ioc apikeys revoke: no active key named {args.name}", file=sys.stderr)
            return 1
        else:
            print(f"API key {args.name} revoked")
            _announce(settings, args.name)
    return 0


def _announce(settings: Settings, name: str) -> None:
    """Every running API process closes the key's live websockets at once (else at its next recheck)."""
    url = with_connections(settings).redis_url
    assert url is not None
    with redis.Redis.from_url(url.get_secret_value(), socket_timeout=2, socket_connect_timeout=2) as client:
        if not announce_revoked(client, name):
            print(f"its live websockets close within {settings.api_key_recheck_seconds:g} s (Redis is away)")
