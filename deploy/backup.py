"""`ioc db backup` and `ioc db restore`: pg_dump/pg_restore the TimescaleDB way.

A dump in pg_dump's custom format holds the hypertables' catalog and chunks as ordinary tables.
Restoring needs TimescaleDB told to stand aside while they come back: `timescaledb_pre_restore()`
before pg_restore and `timescaledb_post_restore()` after (TimescaleDB's documented procedure), into
an empty database with the same extension version. The password goes to the tools in PGPASSWORD,
never on a command line that `ps` shows.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo


class BackupError(RuntimeError):
    """pg_dump or pg_restore failed, or the target database is not empty."""


def _tool_arguments(database_url: str) -> tuple[str, dict[str, str]]:
    params = conninfo_to_dict(database_url)
    password = params.pop("password", None)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    return make_conninfo("", **{k: str(v) for k, v in params.items()}), env


def backup_database(database_url: str, file: Path) -> None:
    dsn, env = _tool_arguments(database_url)
    result = subprocess.run(
        ["pg_dump", "--format=custom", "--file", str(file), "--dbname", dsn],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")


def restore_database(database_url: str, file: Path, admin_url: str) -> None:
    """Restore `file` into the (empty) database of `database_url`, as the superuser of `admin_url`
    (the same database): pre/post_restore stop and start TimescaleDB's background workers, and the
    chunks go into its internal schemas; the dump's owners (the application role) are kept."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
        if tables is None or tables[0] != 0:
            raise BackupError("the target database is not empty: restore into a new database")
    # Created by the application role, as `ioc db migrate` does, so that the dump's own statements
    # about the extension (its comment) run as its owner.
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("SELECT timescaledb_pre_restore()")
    dsn, env = _tool_arguments(admin_url)
    result = subprocess.run(
        ["pg_restore", "--exit-on-error", "--dbname", dsn, str(file)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    with psycopg.connect(admin_url, autocommit=True) as conn:
        # Always: a database left in restoring mode runs no TimescaleDB background jobs.
        conn.execute("SELECT timescaledb_post_restore()")
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
