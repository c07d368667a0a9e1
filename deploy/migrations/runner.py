"""Applies `sql/NNNN_name.sql` in order, each in its own transaction, recorded in `schema_migrations`.

The runner refuses a database whose recorded history is not a prefix of the files shipped here
(a file edited after it was applied, or a version this build does not know): silently carrying on
over a diverged schema is how data gets lost.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import psycopg

_FILE_NAME = re.compile(r"(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql")
# Any constant shared by every migrator of this project: concurrent `ioc db migrate` runs queue up.
_ADVISORY_LOCK_KEY = 0x10C_D0_0001


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


class MigrationError(Exception):
    """Base of the runner's errors."""


class MigrationHistoryDiverged(MigrationError):
    def __init__(self, version: int, reason: str) -> None:
        super().__init__(f"migration history diverged at version {version:04d}: {reason}; refusing to migrate")
        self.version = version


def shipped_migrations() -> list[Migration]:
    found: list[Migration] = []
    for entry in resources.files("deploy.migrations").joinpath("sql").iterdir():
        match = _FILE_NAME.fullmatch(entry.name)
        if match:
            found.append(Migration(int(match["version"]), match["name"], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(f"migration files must be numbered 0001, 0002, …; found {migration.version:04d}")
    return found


def migrate(conn: psycopg.Connection[tuple[object, ...]], migrations: list[Migration] | None = None) -> list[Migration]:
    """Apply what is pending; return the migrations applied now (empty when already up to date)."""
    migrations = shipped_migrations() if migrations is None else migrations
    applied_now: list[Migration] = []
    with conn.transaction():
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
    for migration in migrations:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_ADVISORY_LOCK_KEY,))
            recorded = _recorded(conn)
            _check_history(recorded, migrations)
            if migration.version in recorded:
                continue
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
            applied_now.append(migration)
    with conn.transaction():
        _check_history(_recorded(conn), migrations)
    return applied_now


def _recorded(conn: psycopg.Connection[tuple[object, ...]]) -> dict[int, str]:
    rows = conn.execute("SELECT version, checksum FROM schema_migrations ORDER BY version").fetchall()
    return {int(str(v)): str(c) for v, c in rows}


def _check_history(recorded: dict[int, str], migrations: list[Migration]) -> None:
    shipped = {m.version: m for m in migrations}
    for position, (version, checksum) in enumerate(sorted(recorded.items()), start=1):
        if version not in shipped:
            raise MigrationHistoryDiverged(version, "the database has a migration this build does not ship")
        if version != position:
            raise MigrationHistoryDiverged(version, f"version {position:04d} was never applied before it")
        if shipped[version].checksum != checksum:
            raise MigrationHistoryDiverged(version, f"{shipped[version].name}.sql changed after it was applied")
