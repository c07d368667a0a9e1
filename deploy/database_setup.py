"""A database made ready for the services: the schema, then the pilot areas and the first rulebook."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psycopg

from deploy.migrations.runner import Migration, migrate
from ingest.registry.areas import seed_pilot_areas
from ingest.storage.compression import CompressionDecision, apply_compression
from streams.catalog import CATALOG
from streams.rulebook import seed_rulebook


@dataclass(frozen=True, slots=True)
class DatabaseSetUp:
    applied: list[Migration]
    areas_seeded: int  # pilot areas loaded (0: the areas table had some already)
    targets_seeded: int
    rules_seeded: int
    compression: CompressionDecision | None = None  # None: not asked for (tests' templates)


def migrate_and_seed(
    conn: psycopg.Connection[tuple[object, ...]],
    targets_file: Path | None = None,
    rules_file: Path | None = None,
    compress_after: timedelta | None = None,
) -> DatabaseSetUp:
    """The schema up to date, then the pilot areas and the first rulebook wherever their tables are
    empty, then (when `compress_after` is given) compression where the TimescaleDB edition has it."""
    applied = migrate(conn)
    seeded = seed_pilot_areas(conn)
    targets, rules = seed_rulebook(conn, (k.id for k in CATALOG.kpis), targets_file, rules_file)
    compression = None if compress_after is None else apply_compression(conn, compress_after)
    return DatabaseSetUp(applied, 0 if seeded is None else seeded.inserted, targets, rules, compression)
