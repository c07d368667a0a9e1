"""`ioc stack up | down | status [--json] | env`."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from cli.home import existing_stack, has_local_stack, new_or_existing_stack
from cli.output import json_option
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
        "up", parents=[mode], help="install nothing, start PostgreSQL+TimescaleDB, Mosquitto, Redis; wait",
        epilog="example: ioc stack up --tls (creates the home, $IOC_HOME or .ioc in the project folder, if missing)",
    )  # fmt: skip
    actions.add_parser("down", parents=[mode], help="stop what `up` started", epilog="example: ioc stack down")
    status = actions.add_parser(
        "status", parents=[mode], help="health of each service", epilog="example: ioc stack status --json"
    )
    json_option(status, "ioc stack status")
    actions.add_parser(
        "env", parents=[mode], help="shell-sourceable IOC_* variables for clients and tests",
        epilog="example: eval \"$(ioc stack env)\"",
    )  # fmt: skip
    stack.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.tls:
        settings = settings.model_copy(update={"tls": True})
    if args.action == "down" and not has_local_stack(settings):
        print(f"no local stack in {settings.resolved_home()}: nothing to stop")
        return 0
    # Only `up` may create the home (where it was found); the others need one that exists.
    stack = new_or_existing_stack(settings) if args.action == "up" else existing_stack(settings)
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
