"""`ioc bench keys`: the event tables' unique key in time order against a random UUID first.

Both tables have the shipped `payment_transactions` columns and take the same batches, alternately
and in alternating order, through ingest's write path (binary COPY into staging, `INSERT … SELECT …
ON CONFLICT DO NOTHING RETURNING`, one transaction a batch), as they fill to millions of rows with a
checkpoint now and then (after a checkpoint, the first change to each index page writes the page
whole to the WAL). "time first" is the shipped table (key `(occurred_at, event_id, publisher_id)`,
no other index); "uuid first" has the key of migration 0002 and TimescaleDB's default time index.
So it compares the two layouts, key order and one index fewer together. A batch's WAL is read off
the server's WAL position, so background writes (autovacuum) count toward the batch that ran then.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql

from deploy.database_setup import migrate_and_seed
from deploy.stack.manager import LocalStack
from ingest.contract import EventType
from ingest.storage.event_tables import EVENT_TABLES
from tools.bench.bench_stack import BenchSetupError

_DATABASE = "ioc_bench_keys"
_PAYMENTS = EVENT_TABLES[EventType.TRANSACTION]  # its columns and COPY types; rows below follow them
_UUID_FIRST = (
    "CREATE TABLE uuid_first_transactions (LIKE payment_transactions INCLUDING DEFAULTS,"
    " UNIQUE (event_id, publisher_id, occurred_at))",
    "SELECT create_hypertable('uuid_first_transactions', by_range('occurred_at', INTERVAL '1 day'))",
)
TABLES = {"time first": _PAYMENTS.name, "uuid first": "uuid_first_transactions"}


@dataclass(frozen=True)
class KeyOrderBenchConfig:
    rows: int = 5_000_000  # per table: a day-chunk of payments at about 60 events/s, or 17 min at 5,000/s
    batch: int = 500
    checkpoint_every: int = 750_000  # rows: 5 minutes (checkpoint_timeout) of 2,500 events/s into each table
    reports: int = 5


@dataclass
class TableFigures:
    batch_seconds: list[float] = field(default_factory=list)
    wal_bytes: list[float] = field(default_factory=list)
    size_bytes: int = 0


@dataclass
class Checkpoint:
    rows: int
    median_ms: dict[str, float]


class KeyOrderBench:
    def __init__(self, stack: LocalStack, config: KeyOrderBenchConfig) -> None:
        self._stack = stack
        self._config = config

    def run(self) -> tuple[dict[str, TableFigures], list[Checkpoint]]:
        least = self._config.batch * self._config.reports
        if self._config.rows < least:
            raise BenchSetupError(f"--rows must be at least {least:,}")
        with self._stack.postgres.admin_connect() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {_DATABASE} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {_DATABASE} OWNER ioc")
        try:
            return self._measure(self._stack.postgres.app_dsn(_DATABASE))
        finally:
            with self._stack.postgres.admin_connect() as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {_DATABASE} WITH (FORCE)")

    def _measure(self, url: str) -> tuple[dict[str, TableFigures], list[Checkpoint]]:
        with psycopg.connect(url, autocommit=True) as conn:
            migrate_and_seed(conn)
            for statement in _UUID_FIRST:
                conn.execute(statement)
        figures = {name: TableFigures() for name in TABLES}
        progress: list[Checkpoint] = []
        with psycopg.connect(url) as conn, self._stack.postgres.admin_connect(_DATABASE) as admin:
            for table in TABLES.values():
                staging, target = sql.Identifier(f"staging_{table}"), sql.Identifier(table)
                conn.execute(sql.SQL("CREATE TEMP TABLE {} (LIKE {}) ON COMMIT DELETE ROWS").format(staging, target))
            conn.commit()
            self._fill(conn, admin, figures, progress)
            for name, table in TABLES.items():
                row = conn.execute("SELECT hypertable_size(%s)", (table,)).fetchone()
                figures[name].size_bytes = int(str(row[0])) if row else 0
        return figures, progress

    def _fill(
        self,
        conn: psycopg.Connection[tuple[object, ...]],
        admin: psycopg.Connection[tuple[object, ...]],
        figures: dict[str, TableFigures],
        progress: list[Checkpoint],
    ) -> None:
        config, rng = self._config, random.Random(7)
        areas = [f"{24600 + i}" for i in range(60)]
        start = datetime(2026, 11, 27, tzinfo=UTC)
        per_report = config.rows // config.reports // config.batch
        for number in range(config.rows // config.batch):
            rows = []
            for i in range(number * config.batch, (number + 1) * config.batch):
                # 5,000 events/s, each up to 50 ms late: nearly, not strictly, in time order.
                at = start + timedelta(microseconds=200 * i + rng.randrange(50_000))
                rows.append(
                    (at, uuid.uuid4(), f"load-{i % 2}", rng.choice(areas), i, "health", "qr", 1000, "succeeded", at)
                )
            order = list(TABLES) if number % 2 == 0 else list(reversed(TABLES))
            for name in order:
                seconds, wal = _write_batch(conn, TABLES[name], rows)
                figures[name].batch_seconds.append(seconds)
                figures[name].wal_bytes.append(wal)
            done = (number + 1) * config.batch
            if done % config.checkpoint_every == 0:
                admin.execute("CHECKPOINT")
            if (number + 1) % per_report == 0:
                medians = {n: 1000 * statistics.median(f.batch_seconds[-per_report:]) for n, f in figures.items()}
                progress.append(Checkpoint(done, medians))


def _write_batch(
    conn: psycopg.Connection[tuple[object, ...]], table: str, rows: Sequence[tuple[object, ...]]
) -> tuple[float, float]:
    """One batch as ingest writes it; its time and the WAL it wrote."""
    before = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()
    conn.commit()
    staging, target = sql.Identifier(f"staging_{table}"), sql.Identifier(table)
    columns = sql.SQL(", ").join(map(sql.Identifier, _PAYMENTS.columns))
    began = time.perf_counter()
    with conn.transaction(), conn.cursor() as cur:
        with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(staging, columns)) as copy:
            copy.set_types(list(_PAYMENTS.types))
            for row in rows:
                copy.write_row(row)
        cur.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT DO NOTHING RETURNING event_id").format(
                target, columns, columns, staging
            )
        )
        cur.fetchall()
    seconds = time.perf_counter() - began
    assert before is not None
    wal = conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s)", (before[0],)).fetchone()
    conn.commit()
    return seconds, float(str(wal[0])) if wal else 0.0


def render(config: KeyOrderBenchConfig, figures: dict[str, TableFigures], progress: list[Checkpoint]) -> str:
    lines = [
        f"ioc bench keys: {config.rows:,} rows into each table, {config.batch} a batch, a checkpoint every"
        f" {config.checkpoint_every:,} rows; batch time median as the tables fill:"
    ]
    for point in progress:
        lines.append(f"  {point.rows:>10,} rows: " + ", ".join(f"{n} {ms:.1f} ms" for n, ms in point.median_ms.items()))
    for name, f in figures.items():
        lines.append(
            f"{name}: all batches {sum(f.batch_seconds):.1f} s, WAL {sum(f.wal_bytes) / 2**30:.2f} GiB,"
            f" table and indexes {f.size_bytes / 2**20:,.0f} MiB"
        )
    new, old = figures["time first"], figures["uuid first"]
    lines.append(
        f"ratio time first / uuid first: batch time {sum(new.batch_seconds) / sum(old.batch_seconds):.2f},"
        f" WAL {sum(new.wal_bytes) / sum(old.wal_bytes):.2f}"
    )
    return "\n".join(lines)
