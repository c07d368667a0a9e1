"""`ioc broker init`: the system's roles and service accounts on a deployment's broker.

The local stack makes its own (`ioc stack up`); compose runs `broker-init`; a deployment whose broker
the project does not run (the pilot's Kubernetes overlay) runs this once per release as a Job, with
the admin's password, the ingest replicas' shared password (`IOC_MQTT_PASSWORD`) and the sweeper's.
Safe to run again: roles get this release's ACLs, accounts these passwords.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cli._context import NoBrokerAdmin, broker_accounts
from deploy.settings import Settings
from ingest.broker.control import BrokerControlError
from ingest.broker.roles import ServiceRole
from ingest.registry.names import USERNAME_PATTERN

# Earlier releases gave every publisher one role (`ioc/v1/+/%u/#`) that the plugin never matched.
_LEGACY_PUBLISHER_ROLE = "ioc-publisher"


def register(commands: Any) -> None:
    broker = commands.add_parser("broker", help="the broker's system roles and service accounts")
    actions = broker.add_subparsers(dest="action", required=True, metavar="ACTION")
    init = actions.add_parser(
        "init", help="make the system's roles and service accounts (IOC_MQTT_ADMIN_PASSWORD, IOC_MQTT_PASSWORD, …)",
        epilog="example: ioc broker init --ingest-account ioc-ingest-0 --ingest-account ioc-ingest-1",
    )  # fmt: skip
    init.add_argument(
        "--ingest-account", action="append", dest="ingest_accounts", metavar="USERNAME",
        help="an ingest account to make with IOC_MQTT_PASSWORD (repeat; default: IOC_MQTT_USERNAME;"
        " e.g. --ingest-account ioc-ingest-0)",
    )  # fmt: skip
    broker.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    ingest_accounts: list[str] = args.ingest_accounts or [settings.mqtt_username]
    invalid = [name for name in ingest_accounts if not USERNAME_PATTERN.fullmatch(name)]
    if invalid:
        print(f"ioc broker init: invalid account name {invalid[0]!r} ({USERNAME_PATTERN.pattern})", file=sys.stderr)
        return 2
    if settings.mqtt_password is None or not settings.mqtt_password.get_secret_value():
        print("ioc broker init: set IOC_MQTT_PASSWORD (the ingest accounts' password)", file=sys.stderr)
        return 2
    try:
        accounts = broker_accounts(settings)
        accounts.ensure_system()
        accounts.control.execute([{"command": "deleteRole", "rolename": _LEGACY_PUBLISHER_ROLE}])
        for username in ingest_accounts:
            accounts.set_service_account(username, settings.mqtt_password.get_secret_value(), ServiceRole.INGEST)
            print(f"account {username}: role {ServiceRole.INGEST.value}")
        sweeper = settings.mqtt_sweeper_password
        if sweeper is not None and sweeper.get_secret_value():
            username = settings.mqtt_sweeper_username
            accounts.set_service_account(username, sweeper.get_secret_value(), ServiceRole.SWEEPER)
            print(f"account {username}: role {ServiceRole.SWEEPER.value}")
        else:
            print("no IOC_MQTT_SWEEPER_PASSWORD: no sweeper account (ingest then runs no retained sweeper)")
    except (NoBrokerAdmin, BrokerControlError) as exc:
        print(f"ioc broker init: {exc}", file=sys.stderr)
        return 1
    print("broker roles and service accounts ready")
    return 0
