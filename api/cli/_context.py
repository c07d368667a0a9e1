"""Shared by the command handlers: settings with connections resolved, and database connections."""

from __future__ import annotations

import gc
import logging
import signal
from collections.abc import Callable
from types import FrameType

import psycopg

from deploy.broker.accounts import DynsecAccounts, accounts_from_settings
from deploy.settings import Settings
from deploy.stack.manager import LocalStack


def tune_garbage_collection() -> None:
    """For a long-running service, once it is built and before it serves.

    Young passes every 10,000 allocations instead of 700: each pass promotes what happens to be alive
    at that moment (in the API, with hundreds of live websockets, thousands of objects a second that
    die a moment later), and promotions are what trigger full passes, which walk every object of the
    process and stop every wall while they run. Measured with `ioc bench ws`, this leaves the API and
    the engine a few short full passes instead of many long ones (docs/performance.md#design-figures).
    What is built at start (modules, routes, models, the metrics registry) never dies: frozen, it
    leaves the passes altogether."""
    gc.set_threshold(10_000, 10, 10)
    gc.freeze()


def with_connections(settings: Settings) -> Settings:
    """Connections left unset point at the local stack in `IOC_HOME`.

    In a deployment (database and Redis given, no local stack in `IOC_HOME`) nothing is created
    there: the API and the engine need no broker password, and ingest gets its own.
    """
    deployed = settings.database_url and settings.redis_url
    if deployed and (settings.mqtt_password or not (settings.resolved_home() / "secrets.json").exists()):
        return settings
    return LocalStack(settings).connected_settings()


def connect(settings: Settings) -> psycopg.Connection[tuple[object, ...]]:
    url = with_connections(settings).database_url
    assert url is not None
    return psycopg.connect(url.get_secret_value(), autocommit=True)


class NoBrokerAdmin(Exception):
    def __init__(self) -> None:
        super().__init__("no broker admin account: set IOC_MQTT_ADMIN_PASSWORD (and IOC_MQTT_ADMIN_USERNAME)")


def broker_accounts(settings: Settings) -> DynsecAccounts:
    """The broker's accounts, managed over its control topic as the admin account (the local stack's
    own when no deployment is configured)."""
    accounts = accounts_from_settings(with_connections(settings))
    if accounts is None:
        raise NoBrokerAdmin
    return accounts


def service_connector(settings: Settings) -> Callable[[], psycopg.Connection[tuple[object, ...]]]:
    """How a long-running service connects: fails fast and never hangs on a dead server."""
    url = settings.database_url
    assert url is not None

    def connect() -> psycopg.Connection[tuple[object, ...]]:
        # A statement timeout turns a hung server into an error we retry, and TCP keepalives with a
        # user timeout do the same for a host that vanished mid-query, instead of a frozen service.
        return psycopg.connect(
            url.get_secret_value(),
            autocommit=True,
            connect_timeout=5,
            options="-c statement_timeout=30000",
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=3,
            tcp_user_timeout=30000,
        )

    return connect


def stop_on_signals(stop: Callable[[], None], log: logging.Logger) -> None:
    """SIGTERM and SIGINT call `stop` (which must be safe from a signal handler) for a clean shutdown."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
