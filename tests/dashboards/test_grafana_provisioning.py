"""Grafana provisioning: the files load, no password is written in them, and every panel's SQL (macros
expanded as Grafana's PostgreSQL data source expands them) runs on the real migrated schema and finds the
rows it is meant to show."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from dashboards import asset_root
from streams.catalog import CATALOG

GRAFANA = asset_root() / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
ENV_REFERENCE = re.compile(r"\$\{[A-Z][A-Z0-9_]*\}|\$[A-Z][A-Z0-9_]*")
NOW = datetime.now(UTC).replace(microsecond=0)
RANGE = (NOW - timedelta(hours=1), NOW + timedelta(minutes=1))
AREA = "67"  # the province: every panel scoped to it sees the commune's rows below


def _yaml(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _datasource() -> dict[str, Any]:
    (source,) = _yaml(GRAFANA / "datasources" / "ioc-timescaledb.yaml")["datasources"]
    assert isinstance(source, dict)
    return source


def _secrets(node: object, path: str = "") -> list[tuple[str, object]]:
    """Every (path, value) whose key names a password or secret, at any depth."""
    found: list[tuple[str, object]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}"
            if re.search(r"password|secret|token", str(key), re.IGNORECASE) and not isinstance(value, dict):
                found.append((where, value))
            found.extend(_secrets(value, where))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_secrets(value, f"{path}[{i}]"))
    return found


def test_the_datasource_takes_every_connection_value_and_the_password_from_the_environment() -> None:
    source = _datasource()
    assert (source["type"], source["uid"], source["jsonData"]["timescaledb"]) == ("postgres", "ioc-timescaledb", True)
    secrets = _secrets(source)
    assert [where for where, _ in secrets] == [".secureJsonData.password"]
    for where, value in secrets:
        assert isinstance(value, str), where
        assert ENV_REFERENCE.fullmatch(value), f"{where} must be an environment reference, not a literal"
    for value in (source["url"], source["user"], source["jsonData"]["database"]):
        assert ENV_REFERENCE.search(value), value


def test_the_dashboard_provider_reads_this_folder_and_the_dashboards_load() -> None:
    (provider,) = _yaml(GRAFANA / "dashboards" / "ioc.yaml")["providers"]
    assert provider["type"] == "file"
    assert ENV_REFERENCE.fullmatch(provider["options"]["path"])
    assert [p.stem for p in DASHBOARDS] == ["coverage", "ingest-health", "payments", "portal"]
    uids = set()
    for path in DASHBOARDS:
        board = json.loads(path.read_text(encoding="utf-8"))
        uids.add(board["uid"])
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)) >= 5, path.name
        for p in board["panels"]:
            assert p["datasource"] == {"type": "postgres", "uid": "ioc-timescaledb"}, (path.name, p["title"])
            assert all(t["datasource"] == p["datasource"] and t["rawQuery"] for t in p["targets"]), p["title"]
    assert len(uids) == len(DASHBOARDS)


_INTERVAL = re.compile(r"'?(\d+)(s|m|h|d)'?")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def expand_macros(sql: str, interval: str = "5m", area: str = AREA) -> str:
    """The SQL as Grafana's PostgreSQL data source sends it with `timescaledb: true` (pkg/tsdb/
    grafana-postgresql-datasource/macros.go): the template variables first, then the macros."""
    sql = sql.replace("$__interval", interval).replace("${area}", area).replace("$area", area)
    start, end = (moment.strftime("%Y-%m-%dT%H:%M:%SZ") for moment in RANGE)

    def expand(match: re.Match[str]) -> str:
        name, args = match.group(1), [a.strip() for a in match.group(2).split(",")]
        if name == "__timeFilter":
            return f"{args[0]} BETWEEN '{start}' AND '{end}'"
        if name in ("__timeGroup", "__timeGroupAlias"):
            step = _INTERVAL.fullmatch(args[1])
            assert step is not None, f"interval {args[1]!r}"
            bucket = f"time_bucket('{int(step.group(1)) * _SECONDS[step.group(2)]:.3f}s',{args[0]})"
            return f'{bucket} AS "time"' if name == "__timeGroupAlias" else bucket
        if name in ("__timeFrom", "__timeTo"):
            return f"'{start if name == '__timeFrom' else end}'"
        raise AssertionError(f"macro ${name} is not expanded by this test")

    expanded = re.sub(r"\$([_a-zA-Z0-9]+)\(([^)]*)\)", expand, sql)
    assert "$" not in expanded, f"unexpanded variable or macro in: {expanded}"
    return expanded


def test_macro_expansion_matches_grafana() -> None:
    assert expand_macros("SELECT $__timeGroupAlias(at, $__interval) WHERE $__timeFilter(at) AND a = '$area'") == (
        "SELECT time_bucket('300.000s',at) AS \"time\" WHERE at BETWEEN "
        f"'{RANGE[0]:%Y-%m-%dT%H:%M:%SZ}' AND '{RANGE[1]:%Y-%m-%dT%H:%M:%SZ}' AND a = '67'"
    )
    with pytest.raises(AssertionError, match="unexpanded"):
        expand_macros("SELECT $other")


def _seed(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """A minute of every rollup and table the panels read, in a commune of the province, within the range,
    and a snapshot of every KPI of the catalog in every window for the province."""
    at = NOW - timedelta(minutes=10)
    commune = "24611"
    conn.execute(
        "INSERT INTO dossier_rollup_1m VALUES (%s, %s, 'submitted', 'online', true, 'none', 3),"
        " (%s, %s, 'resolved', 'desk', false, 'on_time', 2)",
        (at, commune, at, commune),
    )
    conn.execute("INSERT INTO payment_rollup_1m VALUES (%s, %s, 'health', 'cash', 'succeeded', 4, 400000),"
                 " (%s, %s, 'health', 'qr', 'succeeded', 6, 600000)", (at, commune, at, commune))  # fmt: skip
    conn.execute("INSERT INTO coverage_rollup_1m VALUES (%s, %s, 'viettel', '4g', 10, 7, 120.5, 800.0)", (at, commune))
    conn.execute(
        "INSERT INTO dead_letters (received_at, topic, publisher_id, reason, detail, payload, fingerprint)"
        " VALUES (%s, 'ioc/v1/payments/p-1/transaction', 'p-1', 'unknown_area', 'no area 1', '\\x7b7d', '\\x01')",
        (at,),
    )
    conn.execute("INSERT INTO publishers (id, source, area_code) VALUES ('p-1', 'payments', %s)", (commune,))
    conn.execute("INSERT INTO publisher_status VALUES (%s, 'p-1', 'online', %s)", (at, at))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO kpi_snapshots VALUES (%s, %s, %s, %s, 50, 1, 2, 60)",
            [(at, kpi.id, AREA, window) for kpi in CATALOG.kpis for window in ("5m", "1h", "24h", "today", "now")],
        )
    conn.execute("INSERT INTO kpi_snapshot_runs VALUES (%s, true, 1, 1)", (at,))  # a full snapshot taken then


def _panels() -> list[tuple[str, dict[str, Any]]]:
    return [(p.stem, panel) for p in DASHBOARDS for panel in json.loads(p.read_text(encoding="utf-8"))["panels"]]


@pytest.mark.integration
def test_every_panel_query_runs_read_only_on_the_real_schema_and_finds_its_rows(
    db: psycopg.Connection[tuple[object, ...]],
) -> None:
    _seed(db)
    checked = 0
    for board, panel in _panels():
        for target in panel["targets"]:
            where = f"{board}: {panel['title']}"
            with db.transaction(), db.cursor() as cur:
                cur.execute("SET TRANSACTION READ ONLY")  # Grafana's role should only read; so do the panels
                cur.execute(expand_macros(target["rawSql"]).encode())
                rows = cur.fetchall()
                columns = [c.name for c in cur.description or ()]
            assert rows, f"{where}: no rows"
            if target["format"] == "time_series":
                assert columns[0] == "time", where
                assert all(isinstance(r[0], datetime) for r in rows), where
                assert any(v is not None for r in rows for v in r[1:] if not isinstance(v, str)), f"{where}: only nulls"
            checked += 1
    assert checked == len(_panels()) >= 24


@pytest.mark.integration
def test_the_area_variable_lists_the_province_first(db: psycopg.Connection[tuple[object, ...]]) -> None:
    for path in DASHBOARDS:
        (variable,) = json.loads(path.read_text(encoding="utf-8"))["templating"]["list"]
        rows = db.execute(variable["query"].encode()).fetchall()
        assert rows[0] == ("67", "Đắk Nông (67)"), path.name
        assert len(rows) == 1 + 8 + 71, path.name  # the province, its 8 districts and 71 communes
