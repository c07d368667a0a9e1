"""Parsing an areas file: every bad row reported by line number, nothing accepted half-way."""

from __future__ import annotations

import pytest

from ingest.registry.areas import AreasImportRejected, RowProblem, parse_areas_csv, pilot_areas_csv

HEADER = "code,parent_code,level,unit_type,name_vi,name_en\n"
STORED = {"67": "province", "663": "district", "24733": "commune"}


def test_pilot_file_is_valid_and_complete() -> None:
    areas = parse_areas_csv(pilot_areas_csv(), {})
    by_level: dict[str, int] = {}
    for a in areas:
        by_level[a.level] = by_level.get(a.level, 0) + 1
    assert by_level == {"province": 1, "district": 8, "commune": 71, "village": 44}
    names = {a.code: a.name_vi for a in areas}
    assert names["67"] == "Đắk Nông"
    assert names["660"] == "Gia Nghĩa"


def test_rows_may_reference_stored_areas_and_earlier_lines() -> None:
    text = HEADER + "24733-09,24733,village,Bon,Bu Đăk,Bon Bu Dak Village\n24999,663,commune,Xã,Mới,Moi Commune\n"
    areas = parse_areas_csv(text, STORED)
    assert [(a.code, a.parent_code, a.level) for a in areas] == [
        ("24733-09", "24733", "village"),
        ("24999", "663", "commune"),
    ]


def test_every_bad_row_is_reported_with_its_line_number() -> None:
    text = (
        HEADER
        + "24999,663,commune,Xã,Mới,Moi Commune\n"  # line 2: fine
        + "bad code!,663,commune,Xã,A,A\n"  # line 3
        + "25000,999,commune,Xã,B,B\n"  # line 4: unknown parent
        + "25001,67,commune,Xã,C,C\n"  # line 5: commune under a province
        + "24999,663,commune,Xã,D,D\n"  # line 6: duplicate
        + "25002,663,hamlet,Xã,E,E\n"  # line 7: bad level
        + "25003,663,commune,Xã,,F\n"  # line 8: empty name
        + "25004,663,commune\n"  # line 9: too few fields
        + "68,67,province,Tỉnh,G,G\n"  # line 10: province with a parent
    )
    with pytest.raises(AreasImportRejected) as rejected:
        parse_areas_csv(text, STORED)
    assert rejected.value.problems == [
        RowProblem(3, "code 'bad code!' must match [0-9A-Za-z._-]{1,32}"),
        RowProblem(4, "parent_code 999 is neither stored nor on an earlier line"),
        RowProblem(5, "a commune must sit under a district, not a province"),
        RowProblem(6, "code 24999 appears twice in the file"),
        RowProblem(7, "level 'hamlet' must be one of province, district, commune, village"),
        RowProblem(8, "unit_type, name_vi and name_en must not be empty"),
        RowProblem(9, "expected 6 fields, found 3"),
        RowProblem(10, "a province has no parent_code"),
    ]


def test_a_wrong_header_is_rejected_on_line_1() -> None:
    with pytest.raises(AreasImportRejected) as rejected:
        parse_areas_csv("code,name\n1,x\n", {})
    assert rejected.value.problems == [
        RowProblem(1, "header must be exactly: code,parent_code,level,unit_type,name_vi,name_en")
    ]
