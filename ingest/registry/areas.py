"""Administrative areas (province > district > commune > village), imported from CSV all-or-nothing."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

import psycopg

from ingest.errors import Invalid

COLUMNS = ("code", "parent_code", "level", "unit_type", "name_vi", "name_en")
LEVELS = ("province", "district", "commune", "village")
_CODE = re.compile(r"[0-9A-Za-z._-]{1,32}")


@dataclass(frozen=True, slots=True)
class Area:
    code: str
    parent_code: str | None
    level: str
    unit_type: str
    name_vi: str
    name_en: str


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class AreasImportRejected(Invalid):
    """Nothing was imported; `problems` says which lines are wrong and why."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__("areas file rejected, nothing imported:\n" + "\n".join(map(str, problems)), field="file")
        self.problems = problems


@dataclass(frozen=True, slots=True)
class ImportResult:
    inserted: int
    updated: int


def parse_areas_csv(text: str, known_levels: dict[str, str]) -> list[Area]:
    """Validate every row against the file and the areas already stored (`code -> level`)."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != COLUMNS:
        raise AreasImportRejected([RowProblem(1, f"header must be exactly: {','.join(COLUMNS)}")])
    problems: list[RowProblem] = []
    areas: list[Area] = []
    levels = dict(known_levels)
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        if not any(field.strip() for field in row):
            continue
        area, problem = _parse_row(row, levels, seen)
        if problem is not None:
            problems.append(RowProblem(line, problem))
            continue
        assert area is not None
        seen.add(area.code)
        levels[area.code] = area.level
        areas.append(area)
    if problems:
        raise AreasImportRejected(problems)
    return areas


def _parse_row(row: list[str], levels: dict[str, str], seen: set[str]) -> tuple[Area | None, str | None]:
    if len(row) != len(COLUMNS):
        return None, f"expected {len(COLUMNS)} fields, found {len(row)}"
    code, parent, level, unit_type, name_vi, name_en = (field.strip() for field in row)
    if any("\x00" in field for field in row):
        return None, "contains a NUL character"
    if not _CODE.fullmatch(code):
        return None, f"code {code!r} must match {_CODE.pattern}"
    if code in seen:
        return None, f"code {code} appears twice in the file"
    if level not in LEVELS:
        return None, f"level {level!r} must be one of {', '.join(LEVELS)}"
    if not unit_type or not name_vi or not name_en:
        return None, "unit_type, name_vi and name_en must not be empty"
    if level == "province":
        if parent:
            return None, "a province has no parent_code"
    elif not parent:
        return None, f"a {level} needs a parent_code"
    elif parent not in levels:
        return None, f"parent_code {parent} is neither stored nor on an earlier line"
    elif LEVELS.index(levels[parent]) != LEVELS.index(level) - 1:
        return None, f"a {level} must sit under a {LEVELS[LEVELS.index(level) - 1]}, not a {levels[parent]}"
    return Area(code, parent or None, level, unit_type, name_vi, name_en), None


class UnknownArea(Invalid):
    """An area code that is not in the areas table: a read for it would answer nothing, which looks
    like a quiet area rather than a typo."""

    def __init__(self, code: str, *, field: str = "area") -> None:
        super().__init__(f"no area {code!r} in the areas table (GET /api/v1/areas lists them)", field=field)
        self.code = code


class AreaRepository:
    def __init__(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        self._conn = conn

    def require_known(self, codes: Iterable[str], *, field: str = "area") -> None:
        """Raise `UnknownArea` for the first of `codes` that is not in the table."""
        wanted = list(dict.fromkeys(codes))
        if not wanted:
            return
        rows = self._conn.execute("SELECT code FROM areas WHERE code = ANY(%s)", (wanted,)).fetchall()
        known = {str(code) for (code,) in rows}
        for code in wanted:
            if code not in known:
                raise UnknownArea(code, field=field)

    def levels(self) -> dict[str, str]:
        return {str(c): str(lv) for c, lv in self._conn.execute("SELECT code, level FROM areas").fetchall()}

    def count(self) -> int:
        row = self._conn.execute("SELECT count(*) FROM areas").fetchone()
        return int(str(row[0])) if row else 0

    def upsert(self, areas: list[Area]) -> ImportResult:
        cur = self._conn.cursor()
        cur.execute("CREATE TEMP TABLE areas_import (LIKE areas INCLUDING DEFAULTS) ON COMMIT DROP")
        with cur.copy("COPY areas_import (code, parent_code, level, unit_type, name_vi, name_en) FROM STDIN") as cp:
            for a in areas:
                cp.write_row((a.code, a.parent_code, a.level, a.unit_type, a.name_vi, a.name_en))
        rows = cur.execute(
            "INSERT INTO areas AS a (code, parent_code, level, unit_type, name_vi, name_en)"
            " SELECT code, parent_code, level, unit_type, name_vi, name_en FROM areas_import"
            " ON CONFLICT (code) DO UPDATE SET parent_code = EXCLUDED.parent_code, level = EXCLUDED.level,"
            "  unit_type = EXCLUDED.unit_type, name_vi = EXCLUDED.name_vi, name_en = EXCLUDED.name_en,"
            "  updated_at = now()"
            " RETURNING (xmax = 0)"
        ).fetchall()
        inserted = sum(1 for (was_insert,) in rows if was_insert)
        return ImportResult(inserted=inserted, updated=len(rows) - inserted)


def import_areas(conn: psycopg.Connection[tuple[object, ...]], text: str) -> ImportResult:
    """Validate the whole file, then add or update its units in one transaction."""
    with conn.transaction():
        repository = AreaRepository(conn)
        conn.execute("LOCK TABLE areas IN SHARE ROW EXCLUSIVE MODE")
        return repository.upsert(parse_areas_csv(text, repository.levels()))


def pilot_areas_csv() -> str:
    """The Đắk Nông pilot list shipped with the project (GSO codes, 2022)."""
    return resources.files("deploy.migrations").joinpath("data/areas_dak_nong.csv").read_text(encoding="utf-8")


def seed_pilot_areas(conn: psycopg.Connection[tuple[object, ...]]) -> ImportResult | None:
    """Load the pilot list into an empty areas table; leave a table that already has data alone."""
    if AreaRepository(conn).count() > 0:
        return None
    return import_areas(conn, pilot_areas_csv())
