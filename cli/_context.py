"""Shared by the command handlers: settings with connections resolved, and database connections."""

from __future__ import annotations

import psycopg

from cli.errors import CommandError
from cli.home import existing_stack, has_local_stack
from deploy.settings import Settings
from ingest.broker.accounts import DynsecAccounts, accounts_from_settings


def with_connections(settings: Settings) -> Settings:
    """Connections left unset point at the local stack in `IOC_HOME`.

    In a deployment (database and Redis given, no local stack in `IOC_HOME`) nothing is created
    there: the API and the engine need no broker password, and ingest gets its own.
    """
    deployed = settings.database_url and settings.redis_url
    if deployed and (settings.mqtt_password or not has_local_stack(settings)):
        return settings
    return existing_stack(settings).connected_settings()


def connect(settings: Settings) -> psycopg.Connection[tuple[object, ...]]:
    url = with_connections(settings).database_url
    assert url is not None
    # A database that does not answer is reported within seconds, not after the kernel's TCP timeout.
    return psycopg.connect(url.get_secret_value(), autocommit=True, connect_timeout=_CONNECT_TIMEOUT_SECONDS)


_CONNECT_TIMEOUT_SECONDS = 10


class NoBrokerAdmin(CommandError):
    def __init__(self) -> None:
        super().__init__("no broker admin account: set IOC_MQTT_ADMIN_PASSWORD (and IOC_MQTT_ADMIN_USERNAME)")


def broker_accounts(settings: Settings) -> DynsecAccounts:
    """The broker's accounts, managed over its control topic as the admin account (the local stack's
    own when no deployment is configured)."""
    accounts = accounts_from_settings(with_connections(settings))
    if accounts is None:
        raise NoBrokerAdmin
    return accounts
