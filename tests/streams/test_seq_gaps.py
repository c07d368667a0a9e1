"""The seq gaps of a publisher, from the hypertables and through `ioc publishers gaps` (real database)."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from deploy.stack.manager import LocalStack
from streams.records import MICROS, PaymentRecord, SampleRecord, from_micros
from streams.seq_gaps import SeqGap, seq_gaps
from tests.fixtures.stack import IsolatedDatabase, cli_environment
from tests.streams.kpi_data import NOW_US
from tests.streams.test_kpi_sql_equivalence import store

pytestmark = pytest.mark.integration


def test_gaps_are_the_runs_of_missing_seq_across_every_source(
    stack: LocalStack, database: IsolatedDatabase, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    def pay(seq: int, publisher: str = "kiosk-7") -> PaymentRecord:
        return PaymentRecord(publisher, "24611", NOW_US - (100 - seq) * MICROS, seq, "water", "qr", 1000, "succeeded")

    store(db, [pay(1), pay(2), pay(5), pay(9), pay(10), pay(3, publisher="other")])
    store(
        db, [SampleRecord("kiosk-7", "24611", NOW_US - 90 * MICROS, 6, 10.0, 50.0, 0.0)]
    )  # one publisher, two sources
    start, end = from_micros(NOW_US - 3600 * MICROS), from_micros(NOW_US)
    assert seq_gaps(db, "kiosk-7", start, end) == [SeqGap(3, 4), SeqGap(7, 8)]
    assert seq_gaps(db, "kiosk-7", from_micros(NOW_US - 94 * MICROS), end) == [SeqGap(7, 8)]  # from seq 6 on
    assert seq_gaps(db, "other", start, end) == []

    # Only a registered publisher has gaps (an unknown id is refused, `tests/cli/test_cli_refusals.py`).
    db.execute("INSERT INTO publishers (id, source, area_code) VALUES ('kiosk-7', 'payments', '24611')")
    env = cli_environment(stack, IOC_DATABASE_URL=database.url)
    listed = subprocess.run(
        [sys.executable, "-m", "cli", "publishers", "gaps", "kiosk-7", "--hours", "100000"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert listed.stdout.splitlines() == [
        "3–4                      2 missing",
        "7–8                      2 missing",
        "4 seq missing in 2 gaps in the last 100000 h",
    ]
