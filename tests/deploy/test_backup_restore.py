"""The runbook's backup and restore, run on the local stack: every row comes back."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from deploy.stack.manager import LocalStack
from tests.fixtures.stack import IsolatedDatabase, cli_environment, create_database, drop_database

pytestmark = pytest.mark.integration

_ROWS = "SELECT occurred_at, event_id, publisher_id, amount_vnd FROM payment_transactions ORDER BY event_id"


@pytest.fixture
def fresh_database(stack: LocalStack) -> Iterator[IsolatedDatabase]:
    db = create_database(stack, None)
    yield db
    drop_database(stack, db.name)


def _ioc(stack: LocalStack, database: IsolatedDatabase, *args: str) -> subprocess.CompletedProcess[str]:
    env = cli_environment(stack, IOC_DATABASE_URL=database.url)
    return subprocess.run([sys.executable, "-m", "cli", "db", *args], env=env, capture_output=True, text=True)


def test_a_backup_restores_into_a_fresh_database_with_every_row(
    stack: LocalStack, database: IsolatedDatabase, fresh_database: IsolatedDatabase, tmp_path: Path
) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with database.connect() as conn:
        conn.execute("INSERT INTO publishers (id, source, area_code) VALUES ('backup-counter', 'payments', '24611')")
        # Three days of events: several chunks of the 1-day hypertable.
        for i in range(300):
            conn.execute(
                "INSERT INTO payment_transactions (occurred_at, event_id, publisher_id, area_code, seq, sector,"
                " method, amount_vnd, outcome, received_at) VALUES (%s, %s, 'backup-counter', '24611', %s,"
                " 'health', 'qr', %s, 'succeeded', now())",
                (start + timedelta(minutes=15 * i), uuid.uuid4(), i, 1000 * i),
            )
        original = conn.execute(_ROWS).fetchall()
        chunks = conn.execute("SELECT count(*) FROM show_chunks('payment_transactions')").fetchone()
    assert chunks is not None
    assert chunks[0] >= 3

    dump = tmp_path / "ioc.dump"
    backed_up = _ioc(stack, database, "backup", str(dump))
    assert backed_up.returncode == 0, backed_up.stderr
    assert backed_up.stdout == f"backed up to {dump}\n"
    restored = _ioc(stack, fresh_database, "restore", str(dump))
    assert restored.returncode == 0, restored.stderr

    with fresh_database.connect() as conn:
        assert conn.execute(_ROWS).fetchall() == original
        assert conn.execute("SELECT count(*) FROM show_chunks('payment_transactions')").fetchone() == chunks
        # TimescaleDB is back to normal (post_restore), and the migration history came along.
        assert conn.execute("SELECT current_setting('timescaledb.restoring')").fetchone() == ("off",)
        migrated = _ioc(stack, fresh_database, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.startswith("database schema is up to date\n")


def test_restore_refuses_a_database_that_is_not_empty(
    stack: LocalStack, database: IsolatedDatabase, tmp_path: Path
) -> None:
    dump = tmp_path / "ioc.dump"
    assert _ioc(stack, database, "backup", str(dump)).returncode == 0
    refused = _ioc(stack, database, "restore", str(dump))
    assert refused.returncode == 1
    assert refused.stderr == "ioc db restore: the target database is not empty: restore into a new database\n"
