"""Shared by the command handlers: settings with connections resolved, and database connections."""

from __future__ import annotations

import psycopg

from deploy.settings import Settings
from deploy.stack.broker_accounts import MosquittoAccounts
from deploy.stack.manager import LocalStack


def with_connections(settings: Settings) -> Settings:
    """Connections left unset point at the local stack in `IOC_HOME`."""
    if settings.database_url and settings.redis_url and settings.mqtt_password:
        return settings
    return LocalStack(settings).connected_settings()


def connect(settings: Settings) -> psycopg.Connection[tuple[object, ...]]:
    url = with_connections(settings).database_url
    assert url is not None
    return psycopg.connect(url.get_secret_value(), autocommit=True)


def local_broker_accounts(settings: Settings) -> MosquittoAccounts:
    return LocalStack(settings).mosquitto.accounts
