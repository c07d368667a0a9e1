"""The pages' pure logic (alert order, freshness, resume bookkeeping, layout, formats) under Node's test runner,
and the wall's shipped layout against the KPI catalog."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

from dashboards import asset_root
from streams.catalog import CATALOG


def test_every_page_logic_test_passes_under_node() -> None:
    node = shutil.which("node")
    assert node is not None, "Node.js (v20 or later) is needed to test the pages' logic"
    files = sorted(str(p.relative_to(asset_root())) for p in asset_root().rglob("*.test.mjs"))
    assert len(files) >= 6, files
    run = subprocess.run(
        [node, "--test", "--test-reporter=tap", *files],
        cwd=asset_root(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    summary = dict(re.findall(r"^# (tests|pass|fail|cancelled) (\d+)$", run.stdout, re.MULTILINE))
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert (summary["fail"], summary["cancelled"]) == ("0", "0"), summary
    assert int(summary["pass"]) == int(summary["tests"]) >= 30, summary


def test_the_shipped_wall_layout_shows_every_kpi_of_the_catalog_and_no_other() -> None:
    layout = json.loads((asset_root() / "wall" / "layout.json").read_text(encoding="utf-8"))
    shown = {kpi for view in layout["views"] for kpi in view.get("kpis", [view.get("kpi", "coverage.usable_share")])}
    assert shown == {kpi.id for kpi in CATALOG.kpis}
