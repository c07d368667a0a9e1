"""Compression: on for the community edition only, skipped cleanly on the Apache edition."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from deploy.stack.manager import LocalStack
from ingest.contract import EventType
from ingest.storage.compression import compression_options, decide_compression
from ingest.storage.event_tables import EVENT_TABLES
from tests.fixtures.stack import IsolatedDatabase, cli_environment


def test_the_community_edition_gets_compression() -> None:
    decision = decide_compression("timescale", timedelta(days=7))
    assert decision.enabled
    assert decision.reason == "chunks older than 7 days are compressed by a policy job"


@pytest.mark.parametrize("license_name", ["apache", None, ""])
def test_other_editions_are_skipped(license_name: str | None) -> None:
    decision = decide_compression(license_name, timedelta(days=7))
    assert not decision.enabled
    edition = license_name or "unknown"
    assert decision.reason == f"TimescaleDB license is '{edition}': compression needs the community edition"


def test_zero_days_switches_compression_off_even_on_the_community_edition() -> None:
    decision = decide_compression("timescale", timedelta(0))
    assert decision == decide_compression("apache", timedelta(0))
    assert not decision.enabled
    assert decision.reason == "switched off (IOC_COMPRESS_AFTER_DAYS=0)"


def test_compression_is_segmented_by_publisher_and_ordered_by_the_unique_key() -> None:
    payments = compression_options(EVENT_TABLES[EventType.TRANSACTION]).as_string(None)
    assert payments == (
        'ALTER TABLE "payment_transactions" SET (timescaledb.compress,'
        " timescaledb.compress_segmentby = 'publisher_id',"
        " timescaledb.compress_orderby = 'occurred_at DESC, event_id')"
    )
    status = compression_options(EVENT_TABLES[EventType.STATUS]).as_string(None)
    assert status.endswith("timescaledb.compress_orderby = 'at DESC, state')")


@pytest.mark.integration
def test_migrate_on_the_apache_edition_skips_compression_cleanly(stack: LocalStack, database: IsolatedDatabase) -> None:
    env = cli_environment(stack, IOC_DATABASE_URL=database.url, IOC_COMPRESS_AFTER_DAYS="3")
    result = subprocess.run(
        [sys.executable, "-m", "cli", "db", "migrate"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "database schema is up to date",
        "compression skipped: TimescaleDB license is 'apache': compression needs the community edition",
    ]
    with database.connect() as conn:
        rows = conn.execute(
            "SELECT hypertable_name, compression_enabled FROM timescaledb_information.hypertables"
            " WHERE hypertable_name = ANY(%s) ORDER BY 1",
            ([t.name for t in EVENT_TABLES.values()],),
        ).fetchall()
        jobs = conn.execute("SELECT count(*) FROM timescaledb_information.jobs WHERE proc_name = 'policy_compression'")
        assert jobs.fetchone() == (0,)
    assert rows == sorted((t.name, False) for t in EVENT_TABLES.values())
