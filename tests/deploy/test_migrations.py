"""`ioc db migrate`: applies in order, is idempotent, and refuses a diverged history."""

from __future__ import annotations

import dataclasses

import psycopg
import pytest

from deploy.migrations.runner import MigrationHistoryDiverged, migrate, shipped_migrations
from tests.fixtures.stack import IsolatedDatabase

pytestmark = pytest.mark.integration

_SCHEMA = """
SELECT table_name, column_name, data_type, is_nullable
FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position
"""


def test_migrations_apply_once_then_change_nothing(empty_database: IsolatedDatabase) -> None:
    shipped = shipped_migrations()
    with empty_database.connect() as conn:
        first = migrate(conn)
        schema_after_first = conn.execute(_SCHEMA).fetchall()
        second = migrate(conn)
        assert conn.execute(_SCHEMA).fetchall() == schema_after_first
        recorded = conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert [m.version for m in first] == [m.version for m in shipped]
    assert second == []
    assert recorded == [(m.version, m.name) for m in shipped]


def test_an_edited_migration_is_refused(empty_database: IsolatedDatabase) -> None:
    shipped = shipped_migrations()
    with empty_database.connect() as conn:
        migrate(conn)
        edited = [dataclasses.replace(shipped[0], sql=shipped[0].sql + "\n-- edited\n"), *shipped[1:]]
        with pytest.raises(MigrationHistoryDiverged) as refused:
            migrate(conn, edited)
    assert refused.value.version == 1


def test_an_unknown_applied_version_is_refused(empty_database: IsolatedDatabase) -> None:
    with empty_database.connect() as conn:
        migrate(conn)
        conn.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES (999, 'future', 'x')")
        with pytest.raises(MigrationHistoryDiverged) as refused:
            migrate(conn)
    assert refused.value.version == 999


def test_a_failing_migration_leaves_nothing_behind(empty_database: IsolatedDatabase) -> None:
    shipped = shipped_migrations()
    broken = dataclasses.replace(
        shipped[-1], version=len(shipped) + 1, name="broken", sql="CREATE TABLE x (id int); SELECT 1/0;"
    )
    with empty_database.connect() as conn:
        migrate(conn)
        with pytest.raises(psycopg.errors.DivisionByZero):
            migrate(conn, [*shipped, broken])
        assert conn.execute("SELECT to_regclass('x')").fetchone() == (None,)
        assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone() == (len(shipped),)


def test_event_tables_are_keyed_in_time_order_with_no_other_time_index(empty_database: IsolatedDatabase) -> None:
    # Inserts of one batch land on the few index pages at the key's time edge (a random UUID first
    # spread them over the whole index); the key serves the time-range reads that a separate
    # `occurred_at DESC` index used to.
    with empty_database.connect() as conn:
        migrate(conn)
        indexes = conn.execute(
            "SELECT tablename, indexdef FROM pg_indexes"
            " WHERE tablename IN ('portal_dossier_events', 'payment_transactions', 'coverage_samples')"
            " ORDER BY tablename, indexname"
        ).fetchall()
    assert [(table, definition.split(" USING ")[1]) for table, definition in indexes] == [
        ("coverage_samples", "btree (occurred_at, event_id, publisher_id)"),
        ("payment_transactions", "btree (occurred_at, event_id, publisher_id)"),
        ("portal_dossier_events", "btree (dossier_id, occurred_at DESC)"),
        ("portal_dossier_events", "btree (occurred_at, event_id, publisher_id)"),
    ]
