"""What the scenarios watch while a fault lasts: a service's health, and how far behind storage is."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import psycopg

from tests.fixtures.stack import IsolatedDatabase


def health_status(port: int) -> str:
    """The `status` a service's /health reports (its 503 carries the same JSON), or `unreachable`."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return str(json.load(response)["status"])
    except urllib.error.HTTPError as refused:
        return str(json.load(refused)["status"])
    except OSError:
        return "unreachable"


def storage_lag_seconds(database: IsolatedDatabase, publisher_ids: list[str]) -> float | None:
    """Now minus the newest stored event's publish time (events are stamped when published).

    While publishers publish continuously this is how far storage is behind them; None while the
    database cannot be reached.
    """
    try:
        with psycopg.connect(database.url, autocommit=True, connect_timeout=2) as conn:
            row = conn.execute(
                "SELECT extract(epoch FROM clock_timestamp() - max(occurred_at))::float8 FROM payment_transactions"
                " WHERE publisher_id = ANY(%s) AND occurred_at > now() - interval '10 minutes'",
                (publisher_ids,),
            ).fetchone()
    except psycopg.OperationalError:
        return None
    return None if row is None or row[0] is None else float(str(row[0]))
