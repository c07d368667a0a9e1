"""What the scenarios watch while a fault lasts: a service's health and metrics, how far behind storage
is, and a process's CPU time."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

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


def metric_value(port: int, name: str) -> float:
    """An unlabelled metric on a service's Prometheus page (a counter with its `_total`); 0 while absent."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a live process so far (its children not included)."""
    # /proc/<pid>/stat: the command in parentheses may hold spaces; utime and stime are the 12th and
    # 13th fields after it.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
