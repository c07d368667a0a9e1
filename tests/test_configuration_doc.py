"""docs/configuration.md is generated from the settings classes, and `--check` catches a stale page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cli.configuration_doc import BEGIN, END, SECTIONS, main, render_page
from deploy.settings import Settings

PAGE = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_the_committed_page_is_what_the_settings_classes_generate() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert render_page(page) == page, "regenerate with: python -m cli.configuration_doc docs/configuration.md"


def test_the_page_has_one_row_per_variable_and_a_meaning_for_each() -> None:
    generated = PAGE.read_text(encoding="utf-8").partition(BEGIN)[2].partition(END)[0]
    rows = re.findall(r"^\| `(IOC_[A-Z_]+)` \| ([^|]+) \| (.*) \|$", generated, flags=re.MULTILINE)
    assert sorted(name for name, _, _ in rows) == sorted("IOC_" + name.upper() for name in Settings.model_fields)
    assert all(default.strip() and meaning.strip() for _, default, meaning in rows)
    assert [f"## {section.title}" for section in SECTIONS] == re.findall(r"^## .*$", generated, flags=re.MULTILINE)


def test_the_bounds_follow_the_default() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert "| `IOC_INGEST_RESEND_HORIZON_DAYS` | 7 (7 to 90) |" in page
    assert "| `IOC_API_MAX_CONNECTIONS` | unset (at least 16) |" in page
    assert "| `IOC_API_KEY_RECHECK_SECONDS` | 5 (more than 0, at most 10) |" in page


def test_check_fails_with_a_diff_on_a_stale_page_and_a_rewrite_keeps_the_prose(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    committed = PAGE.read_text(encoding="utf-8")
    stale = committed.replace("| batch size limit |", "| how many rows a batch holds |")
    stale = stale.replace("Not settings of the system's processes:", "Hand-written prose, kept:")
    page = tmp_path / "configuration.md"
    page.write_text(stale, encoding="utf-8")

    assert main(["--check", str(page)]) == 1
    error = capsys.readouterr().err
    assert "-| `IOC_INGEST_BATCH_MAX_ROWS` | 2000 (1 to 100000) | how many rows a batch holds |" in error
    assert "+| `IOC_INGEST_BATCH_MAX_ROWS` | 2000 (1 to 100000) | batch size limit |" in error
    assert "python -m cli.configuration_doc" in error
    assert page.read_text(encoding="utf-8") == stale  # --check never writes

    assert main([str(page)]) == 0
    rewritten = page.read_text(encoding="utf-8")
    assert rewritten == committed.replace("Not settings of the system's processes:", "Hand-written prose, kept:")
    assert main(["--check", str(page)]) == 0


def test_a_page_without_the_markers_is_refused_and_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "configuration.md"
    page.write_text(f"# Configuration\n\n{BEGIN}\nno end marker\n", encoding="utf-8")
    assert main([str(page)]) == 2
    assert "marker" in capsys.readouterr().err
    assert page.read_text(encoding="utf-8") == f"# Configuration\n\n{BEGIN}\nno end marker\n"
