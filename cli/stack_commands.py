"""`ioc stack up | down | status [--json] | env`."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from deploy.settings import Settings
from deploy.stack.manager import LocalStack, health_as_json, render_env
from deploy.stack.service import ServiceStartError


def register(commands: Any) -> None:
    stack = commands.add_parser("stack", help="the local stack of real services")
    actions = stack.add_subparsers(dest="action", required=True, metavar="ACTION")
    # TLS mode is the stack's, so every action takes the flag (or IOC_TLS=true, which `env` prints).
    mode = argparse.ArgumentParser(add_help=False)
    mode.add_argument("--tls", action="store_true", help="TLS mode: the stack's own CA, MQTT and HTTPS over TLS")
    actions.add_parser(
        "up", parents=[mode], help="install nothing, start PostgreSQL+TimescaleDB, Mosquitto, Redis; wait"
    )
    actions.add_parser("down", parents=[mode], help="stop what `up` started")
    status = actions.add_parser("status", parents=[mode], help="health of each service")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    actions.add_parser("env", parents=[mode], help="shell-sourceable IOC_* variables for clients and tests")
    stack.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.tls:
        settings = settings.model_copy(update={"tls": True})
    stack = LocalStack(settings)
    if args.action == "up":
        try:
            stack.up()
        except ServiceStartError as exc:
            print(f"ioc stack up: {exc}", file=sys.stderr)
            return 1
        _print_status(stack, as_json=False)
        return 0
    if args.action == "down":
        stack.down()
        return 0
    if args.action == "env":
        sys.stdout.write(render_env(stack.environment()))
        return 0
    return _print_status(stack, as_json=args.json)


def _print_status(stack: LocalStack, *, as_json: bool) -> int:
    health = stack.status()
    if as_json:
        print(json.dumps(health_as_json(health), indent=2))
    else:
        for h in health:
            extra = " ".join(f"{k}={v}" for k, v in h.extra.items())
            print(f"{h.name:<12} {h.state:<5} {h.address:<16} {extra} {h.detail}".rstrip())
    return 0 if all(h.state == "ok" for h in health) else 1
