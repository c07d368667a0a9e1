"""How a long-running service connects to PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from runtime.settings import SharedSettings


def service_connector(settings: SharedSettings) -> Callable[[], psycopg.Connection[tuple[object, ...]]]:
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
