"""Fixtures of the verification suites: accounted load at a set rate, and what it left in the database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from deploy.stack.manager import LocalStack
from ingest.registry.publishers import add_publisher
from tests.fixtures.ingest import IngestAccount, ServiceProcess, spawn_ingest, wait_for
from tests.fixtures.mqtt import unique_publisher_id
from tests.fixtures.stack import IsolatedDatabase
from tests.verify.accounting import Accounting, account
from tests.verify.engine_process import spawn_engine
from tests.verify.report import ScenarioResult
from tests.verify.trust import Register, Sender, register_sender

PROVINCE = "67"


@dataclass
class LoadRun:
    """Publisher processes publishing accounted events; their ledgers are written when they exit."""

    rate: float
    seconds: float
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    ledgers: list[Path] = field(default_factory=list)
    publisher_ids: list[str] = field(default_factory=list)

    def wait(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        for process in self.processes:
            code = process.wait(max(1.0, deadline - time.monotonic()))
            assert code == 0, f"a load publisher exited with {code}"

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        self.wait()

    def sent(self) -> int:
        """Messages in the ledgers (written when the publishers exit)."""
        total = 0
        for ledger in self.ledgers:
            with ledger.open("rb") as lines:
                total += sum(1 for _ in lines)
        return total

    def acknowledged(self) -> int:
        """Messages the broker acknowledged (PUBACK), from the ledgers."""
        total = 0
        for ledger in self.ledgers:
            with ledger.open() as lines:
                total += sum(1 for line in lines if line.split(",")[4] == "True")
        return total

    def account(self, database: IsolatedDatabase) -> Accounting:
        with database.connect() as conn:
            return account(conn, self.ledgers)

    def stored_rows(self, database: IsolatedDatabase) -> int:
        """Rows of these publishers in the event tables (a cheap progress check)."""
        with database.connect() as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM payment_transactions WHERE publisher_id = ANY(%(p)s))"
                " + (SELECT count(*) FROM coverage_samples WHERE publisher_id = ANY(%(p)s))",
                {"p": self.publisher_ids},
            ).fetchone()
        assert row is not None
        return int(str(row[0]))


StartLoad = Callable[..., LoadRun]


@dataclass(frozen=True)
class IngestPath:
    """The path under test: the stack, a database, an ingest account and accounted load. The
    service processes it starts are killed at the end of the test, whatever its outcome."""

    stack: LocalStack
    database: IsolatedDatabase
    account: IngestAccount
    start_load: StartLoad
    started: list[ServiceProcess] = field(default_factory=list)

    def spawn_ingest(
        self, database: IsolatedDatabase | None = None, *, ready: bool = True, **env: str
    ) -> ServiceProcess:
        """`ioc ingest` as one production process: a plain subscription, its own account."""
        db = database or self.database
        self.started.append(spawn_ingest(self.stack, db, self.account, shared=False, ready=ready, **env))
        return self.started[-1]

    def spawn_engine(self, redis_url: str, **env: str) -> ServiceProcess:
        """`ioc streams` on this database and Redis, its first rebuild done."""
        self.started.append(spawn_engine(self.stack, self.database, redis_url, **env))
        return self.started[-1]


@pytest.fixture
def ingest_path(
    stack: LocalStack, database: IsolatedDatabase, ingest_account: IngestAccount, start_load: StartLoad
) -> Iterator[IngestPath]:
    path = IngestPath(stack, database, ingest_account, start_load)
    yield path
    for service in path.started:
        if service.process.poll() is None:
            service.kill()


def settle_and_account(load: LoadRun, database: IsolatedDatabase, scenario: ScenarioResult) -> Accounting:
    """Once ingest has stored what the broker acknowledged (or two minutes passed), classify every message."""
    expected = load.acknowledged()
    wait_for(lambda: load.stored_rows(database) >= expected, timeout=120, interval=0.5)
    result = load.account(database)
    scenario.lost, scenario.duplicated = result.lost, result.duplicated_rows
    scenario.measure("stored once", result.stored_once)
    return result


@pytest.fixture
def start_load(stack: LocalStack, database: IsolatedDatabase, tmp_path: Path) -> Iterator[StartLoad]:
    """Starts accounted publishers: payments and coverage probes, sharing `rate` events/s between them.
    They report for every unit of the province, so they are registered at the province."""
    runs: list[LoadRun] = []
    accounts: list[str] = []
    with database.connect() as conn:
        areas = ",".join(str(r[0]) for r in conn.execute("SELECT code FROM areas WHERE level <> 'province'"))

    def start(rate: float, seconds: float, publishers: int = 2) -> LoadRun:
        run = LoadRun(rate, seconds)
        for i in range(publishers):
            source = ("payments", "coverage")[i % 2]
            publisher_id = unique_publisher_id("load")
            with database.connect() as conn:
                created = add_publisher(conn, stack.mosquitto.accounts, publisher_id, source, PROVINCE)
            accounts.append(publisher_id)
            ledger = tmp_path / f"{publisher_id}.csv"
            argv = [
                sys.executable, "-m", "tests.verify.load_publisher", "--port", str(stack.settings.mqtt_port),
                "--publisher", publisher_id, "--source", source, "--rate", str(rate / publishers),
                "--seconds", str(seconds), "--ledger", str(ledger), "--areas", areas, "--seed", str(i + 1),
            ]  # fmt: skip
            env = {**os.environ, "IOC_VERIFY_PASSWORD": created.password}
            run.processes.append(subprocess.Popen(argv, env=env))
            run.ledgers.append(ledger)
            run.publisher_ids.append(publisher_id)
        runs.append(run)
        return run

    yield start
    for run in runs:
        for process in run.processes:
            if process.poll() is None:
                process.kill()
                process.wait(10)
    for publisher_id in accounts:
        stack.mosquitto.accounts.delete(publisher_id)


@pytest.fixture
def register(stack: LocalStack, database: IsolatedDatabase) -> Iterator[Register]:
    """Registers publishers (id prefix, source, area) with broker accounts; the accounts go at teardown."""
    made: list[Sender] = []

    def register(prefix: str, source: str, area_code: str) -> Sender:
        made.append(register_sender(stack, database, prefix, source, area_code))
        return made[-1]

    yield register
    for sender in made:
        stack.mosquitto.accounts.delete(sender.id)
