"""The project's own PostgreSQL cluster, with TimescaleDB preloaded, in the stack's data directory."""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg
from psycopg import sql

from deploy.stack.paths import POSTGRES_USER, chown_to, running_as_root
from deploy.stack.service import LocalService, ServiceHealth, ServiceStartError

APP_ROLE = "ioc"
APP_DATABASE = "ioc"

_CONFIG = """
# daknong-ioc local stack
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket_dir}'
max_connections = 200
shared_buffers = 512MB
max_wal_size = 4GB
shared_preload_libraries = 'timescaledb'
timescaledb.telemetry_level = off
timezone = 'UTC'
log_timezone = 'UTC'
"""


def _bindir() -> Path:
    out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


class PostgresService(LocalService):
    name = "postgres"

    def __init__(self, directory: Path, port: int, app_password: str) -> None:
        self._dir = directory
        self._data = directory / "data"
        self._socket_dir = directory / "run"
        self.log_file = directory / "postgres.log"
        self._port = port
        self._app_password = app_password

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._port}"

    def app_dsn(self, database: str = APP_DATABASE) -> str:
        return f"postgresql://{APP_ROLE}:{self._app_password}@127.0.0.1:{self._port}/{database}"

    def admin_connect(self, database: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        """A superuser connection over the cluster's private socket (trust, reachable by root only)."""
        user = POSTGRES_USER if running_as_root() else None
        return psycopg.connect(host=str(self._socket_dir), port=self._port, user=user, dbname=database, autocommit=True)

    def _run_as_owner(self, *argv: str) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", POSTGRES_USER, "--"] if running_as_root() else []
        return subprocess.run([*prefix, *argv], capture_output=True, text=True, check=False)

    def _initdb(self) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        self._socket_dir.mkdir(exist_ok=True)
        self.log_file.touch()
        chown_to(POSTGRES_USER, self._dir)
        superuser = ["-U", POSTGRES_USER] if running_as_root() else []
        result = self._run_as_owner(
            str(_bindir() / "initdb"),
            "-D",
            str(self._data),
            "-E",
            "UTF8",
            "--no-locale",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            *superuser,
        )
        if result.returncode != 0:
            self.log_file.write_text(result.stdout + result.stderr)
            raise ServiceStartError(self.name, "initdb failed", self.log_file)
        with open(self._data / "postgresql.conf", "a") as conf:
            conf.write(_CONFIG.format(port=self._port, socket_dir=self._socket_dir))

    def start(self) -> None:
        if not (self._data / "PG_VERSION").exists():
            self._initdb()
        if self.health().state != "ok":
            result = self._run_as_owner(
                str(_bindir() / "pg_ctl"),
                "-D",
                str(self._data),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "60",
                "start",
            )
            if result.returncode != 0:
                raise ServiceStartError(self.name, (result.stderr or result.stdout).strip(), self.log_file)
        self.wait_healthy(60)
        self._bootstrap()

    def _bootstrap(self) -> None:
        """Create the application role and database, with TimescaleDB loaded in it."""
        with self.admin_connect() as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(
                sql.SQL("{} ROLE {} LOGIN CREATEDB PASSWORD {}").format(
                    sql.SQL(verb), sql.Identifier(APP_ROLE), sql.Literal(self._app_password)
                )
            )
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (APP_DATABASE,)).fetchone():
                conn.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(APP_DATABASE), sql.Identifier(APP_ROLE)
                    )
                )
        with self.admin_connect(APP_DATABASE) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")

    def stop(self) -> None:
        if (self._data / "postmaster.pid").exists():
            self._run_as_owner(str(_bindir() / "pg_ctl"), "-D", str(self._data), "-m", "fast", "-w", "stop")

    def health(self) -> ServiceHealth:
        try:
            with self.admin_connect() as conn:
                available = conn.execute(
                    "SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'"
                ).fetchone()
                has_app_database = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (APP_DATABASE,)
                ).fetchone()
            if available is None:
                return ServiceHealth(self.name, "down", self.address, detail="timescaledb is not installed")
            extra = {"timescaledb_version": str(available[0]), "timescaledb_license": "not loaded yet"}
            if has_app_database:
                with self.admin_connect(APP_DATABASE) as conn:
                    loaded = conn.execute(
                        "SELECT extversion, current_setting('timescaledb.license', true)"
                        " FROM pg_extension WHERE extname = 'timescaledb'"
                    ).fetchone()
                if loaded is not None:
                    extra = {"timescaledb_version": str(loaded[0]), "timescaledb_license": str(loaded[1])}
        except psycopg.OperationalError as exc:
            return ServiceHealth(self.name, "down", self.address, detail=str(exc).strip().splitlines()[0])
        return ServiceHealth(self.name, "ok", self.address, extra=extra)
