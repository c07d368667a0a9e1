"""`ioc areas import` against the real database: all or nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from deploy.stack.manager import LocalStack
from ingest.registry.areas import AreasImportRejected, ImportResult, import_areas
from tests.fixtures.stack import IsolatedDatabase, cli_environment

pytestmark = pytest.mark.integration

HEADER = "code,parent_code,level,unit_type,name_vi,name_en\n"


def _snapshot(db: psycopg.Connection[tuple[object, ...]]) -> list[tuple[object, ...]]:
    return db.execute("SELECT code, parent_code, level, name_vi, name_en FROM areas ORDER BY code").fetchall()


def test_import_adds_and_updates_units(db: psycopg.Connection[tuple[object, ...]]) -> None:
    text = (
        HEADER
        + "24733-99,24733,village,Bon,Ja Ráh Mới,Bon Ja Rah Moi Village\n"
        + "663,67,district,Huyện,Đắk Mil,Dak Mil\n"
    )
    result = import_areas(db, text)
    assert result == ImportResult(inserted=1, updated=1)
    rows = db.execute("SELECT code, name_en FROM areas WHERE code IN ('24733-99', '663') ORDER BY code").fetchall()
    assert rows == [("24733-99", "Bon Ja Rah Moi Village"), ("663", "Dak Mil")]


def test_a_bad_file_changes_nothing(database: IsolatedDatabase, stack: LocalStack, tmp_path: Path) -> None:
    with database.connect() as db:
        before = _snapshot(db)
        text = HEADER + "24733-98,24733,village,Bon,Tốt,Good Village\n25000,999,commune,Xã,Xấu,Bad\n"
        with pytest.raises(AreasImportRejected):
            import_areas(db, text)
        assert _snapshot(db) == before
    bad = tmp_path / "areas.csv"
    bad.write_text(text, encoding="utf-8")
    env = cli_environment(stack, IOC_DATABASE_URL=database.url)
    cli = subprocess.run(
        [sys.executable, "-m", "cli", "areas", "import", str(bad)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 1
    assert cli.stderr == (
        "ioc areas import: areas file rejected, nothing imported:\n"
        "line 3: parent_code 999 is neither stored nor on an earlier line\n"
    )
    with database.connect() as db:
        assert _snapshot(db) == before
