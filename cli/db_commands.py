"""`ioc db migrate` and `ioc areas import FILE.csv`."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from psycopg.conninfo import conninfo_to_dict

from cli._context import connect, with_connections
from cli.home import existing_stack
from deploy.backup import BackupError, backup_database, restore_database
from deploy.database_setup import migrate_and_seed
from deploy.migrations.runner import MigrationError
from deploy.settings import Settings
from ingest.registry.areas import AreasImportRejected, import_areas


def register(commands: Any) -> None:
    db = commands.add_parser("db", help="database schema")
    db_actions = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    db_actions.add_parser(
        "migrate", help="migrate; seed areas, targets, alert rules where empty", epilog="example: ioc db migrate"
    )
    backup = db_actions.add_parser(
        "backup", help="pg_dump the database (custom format) to FILE", epilog="example: ioc db backup /backups/ioc.dump"
    )
    backup.add_argument("file", type=Path, help="the dump file to write (e.g. /backups/ioc.dump)")
    restore = db_actions.add_parser(
        "restore", help="restore FILE into the (new, empty) database of IOC_DATABASE_URL",
        epilog="example: ioc db restore /backups/ioc.dump",
    )  # fmt: skip
    restore.add_argument("file", type=Path, help="a dump made by `ioc db backup` (e.g. /backups/ioc.dump)")
    restore.add_argument(
        "--admin-url",
        help="a superuser's URL for the same database (default: the local stack's own superuser;"
        " e.g. --admin-url postgresql://postgres@db:5432/ioc)",
    )
    db.set_defaults(handler=run_db)

    areas = commands.add_parser("areas", help="administrative areas")
    area_actions = areas.add_subparsers(dest="action", required=True, metavar="ACTION")
    importer = area_actions.add_parser(
        "import", help="add or update units from a CSV file (all or nothing)",
        epilog="example: ioc areas import areas_2025.csv",
    )  # fmt: skip
    importer.add_argument(
        "file", type=Path, help="CSV with code,parent_code,level,unit_type,name_vi,name_en (e.g. areas_2025.csv)"
    )
    areas.set_defaults(handler=run_areas)


def run_db(args: argparse.Namespace, settings: Settings) -> int:
    if args.action in ("backup", "restore"):
        return _backup_or_restore(args.action, args.file, settings, getattr(args, "admin_url", None))
    with connect(settings) as conn:
        try:
            done = migrate_and_seed(
                conn,
                settings.streams_targets_file,
                settings.streams_alert_rules_file,
                compress_after=timedelta(days=settings.compress_after_days),
            )
        except MigrationError as exc:
            print(f"ioc db migrate: {exc}", file=sys.stderr)
            return 1
    for migration in done.applied:
        print(f"applied {migration.version:04d}_{migration.name}")
    if not done.applied:
        print("database schema is up to date")
    if done.areas_seeded:
        print(f"loaded {done.areas_seeded} pilot areas of Đắk Nông")
    if done.targets_seeded or done.rules_seeded:
        print(
            f"loaded {done.targets_seeded} targets and {done.rules_seeded} alert rules"
            " (edit them through the API from now on)"
        )
    if done.compression is not None:
        state = "on" if done.compression.enabled else "skipped"
        print(f"compression {state}: {done.compression.reason}")
    return 0


def _backup_or_restore(action: str, file: Path, settings: Settings, admin_url: str | None) -> int:
    url = with_connections(settings).database_url
    assert url is not None
    database = str(conninfo_to_dict(url.get_secret_value())["dbname"])

    admin = admin_url if admin_url is not None else existing_stack(settings).postgres.admin_conninfo(database)
    try:
        if action == "backup":
            backup_database(url.get_secret_value(), file)
        else:
            restore_database(url.get_secret_value(), file, admin)
    except BackupError as exc:
        print(f"ioc db {action}: {exc}", file=sys.stderr)
        return 1
    print(f"{'backed up to' if action == 'backup' else 'restored from'} {file}")
    return 0


def run_areas(args: argparse.Namespace, settings: Settings) -> int:
    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"ioc areas import: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    with connect(settings) as conn:
        try:
            result = import_areas(conn, text)
        except AreasImportRejected as exc:
            print(f"ioc areas import: {exc}", file=sys.stderr)
            return 1
    print(f"areas imported: {result.inserted} added, {result.updated} updated")
    return 0
