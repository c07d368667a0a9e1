"""A database made ready for the services: the schema, then the pilot areas and the first rulebook."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg

from deploy.migrations.runner import Migration, migrate
from ingest.registry.areas import seed_pilot_areas
from streams.catalog import CATALOG
from streams.rulebook import seed_rulebook


@dataclass(frozen=True, slots=True)
class DatabaseSetUp:
    applied: list[Migration]
    areas_seeded: int  # pilot areas loaded (0: the areas table had some already)
    targets_seeded: int
    rules_seeded: int


def migrate_and_seed(
    conn: psycopg.Connection[tuple[object, ...]], targets_file: Path | None = None, rules_file: Path | None = None
) -> DatabaseSetUp:
    """The schema up to date, then the pilot areas and the first rulebook wherever their tables are empty."""
    applied = migrate(conn)
    seeded = seed_pilot_areas(conn)
    targets, rules = seed_rulebook(conn, (k.id for k in CATALOG.kpis), targets_file, rules_file)
    return DatabaseSetUp(applied, 0 if seeded is None else seeded.inserted, targets, rules)
