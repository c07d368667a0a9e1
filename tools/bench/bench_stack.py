"""What every ingest benchmark phase needs from the local stack: a fresh database and accounts."""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

from deploy.database_setup import migrate_and_seed
from deploy.stack.manager import LocalStack
from deploy.stack.mosquitto import clear_session
from ingest.broker.roles import ServiceRole
from ingest.registry.publishers import add_publisher
from ingest.storage.event_tables import EVENT_TABLES
from runtime.health import is_healthy
from tools.bench.workload import BenchPublisher

BENCH_DATABASE = "ioc_bench"


class BenchSetupError(RuntimeError):
    pass


@dataclass(frozen=True)
class BenchStack:
    stack: LocalStack
    database_url: str
    area_codes: list[str]
    passwords: dict[str, str]  # publisher and service accounts of the benchmark

    def reset_tables(self) -> None:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            tables = ", ".join(t.name for t in EVENT_TABLES.values())
            conn.execute(f"TRUNCATE {tables}, dead_letters, event_ids")

    def session_pids(self) -> list[int]:
        """The server processes of the other sessions on the benchmark's database (the ingest's)."""
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            ).fetchall()
        return [int(str(pid)) for (pid,) in rows]

    def reset_session(self, username: str) -> None:
        clear_session(self.stack.settings.mqtt_port, username, self.passwords[username])


def prepare(stack: LocalStack, publishers: list[BenchPublisher], service_accounts: list[str]) -> BenchStack:
    """A fresh `ioc_bench` database with the pilot areas, the publishers and broker accounts."""
    with stack.postgres.admin_connect() as conn:
        if conn.execute("SHOW track_commit_timestamp").fetchone() != ("on",):
            raise BenchSetupError("track_commit_timestamp is off: restart the stack (ioc stack down; ioc stack up)")
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DATABASE} OWNER ioc")
    url = stack.postgres.app_dsn(BENCH_DATABASE)
    passwords: dict[str, str] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        migrate_and_seed(conn)
        areas = [str(c) for (c,) in conn.execute("SELECT code FROM areas WHERE level IN ('commune', 'village')")]
        accounts = stack.mosquitto.accounts
        with accounts.control.session():  # one admin connection for every account of the benchmark
            for p in publishers:
                passwords[p.id] = add_publisher(conn, accounts, p.id, p.source, "67").password
            for username in service_accounts:
                passwords[username] = secrets.token_urlsafe(18)
                accounts.set_service_account(username, passwords[username], ServiceRole.INGEST)
    return BenchStack(stack, url, areas, passwords)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(port: int, timeout_seconds: float, path: str = "/health") -> None:
    """Until the process (ingest, streams or the API) reports itself healthy: ingest has subscribed
    by then, the engine has finished its first rebuild, the API reaches all its dependencies."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if is_healthy(port, path=path):
            return
        time.sleep(0.1)
    raise BenchSetupError(f"the process with health port {port} did not become ready")


def wait_serving(url: str, timeout_seconds: float) -> None:
    """Until `url` answers 200 (an HTTP server has started)."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise BenchSetupError(f"nothing served {url} within {timeout_seconds:.0f} s")


class ApiProcess:
    """`ioc api` with these `IOC_*` settings on a free loopback port, for the length of a `with` block;
    its base URL."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self._env = env
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def __enter__(self) -> str:
        port = free_port()
        env = {**self._env, "IOC_API_PORT": str(port), "IOC_API_HOST": "127.0.0.1"}
        env["IOC_API_OPS_PORT"] = str(free_port())  # never the default's, which a running API may hold
        with open(self._log_path, "w") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "cli", "api"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        base_url = f"http://127.0.0.1:{port}"
        wait_serving(f"{base_url}/openapi.json", timeout_seconds=30)
        return base_url

    def __exit__(self, *exc: object) -> None:
        assert self._process is not None
        self._process.terminate()
        self._process.wait(60)
