"""`--json` on every list and show command prints one JSON document that a script can read (real services)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
import redis

from api.http.auth.keys import ApiKeyRepository, Scope
from deploy.stack.manager import LocalStack
from runtime.redis_names import KPI_CURRENT
from streams.alerts.evaluator import AlertOpened
from streams.alerts.rules import AlertRule
from streams.alerts.store import AlertStore
from streams.frames import KpiFrame
from tests.fixtures.stack import IsolatedDatabase, cli_environment
from tests.streams.kpi_data import NOW_US

pytestmark = pytest.mark.integration


def test_every_list_and_show_command_prints_json(stack: LocalStack, database: IsolatedDatabase, redis_url: str) -> None:
    rule = AlertRule(id="coverage-drop", kpi="coverage.usable_share", window="1h", below=50, severity="major")
    with database.connect() as conn:
        AlertStore(conn).apply([AlertOpened(rule, "24615", 41.0, "usable share 41 % in 24615", NOW_US)])
        row = conn.execute("SELECT id FROM alerts").fetchone()
        assert row is not None
        alert_id = int(str(row[0]))
        conn.execute("INSERT INTO publishers (id, source, area_code) VALUES ('counter-9', 'payments', '24611')")
        conn.execute(
            "INSERT INTO dead_letters (received_at, topic, publisher_id, reason, detail, payload, fingerprint)"
            " VALUES (now(), 'ioc/v1/payments/counter-9/transaction', 'counter-9', 'too_old', 'a day late',"
            " '\\x7b7d', '\\x01')"
        )
        ApiKeyRepository(conn).create("wall-2", Scope.READ)
    frame = KpiFrame(
        "payments.cashless_share", "24611", "1h", 62.5, 5, 8, "%", 65.0, "2026-12-07T08:00:00Z",
        "2026-12-07T08:00:01Z", "epoch-1", 7,
    )  # fmt: skip
    with redis.Redis.from_url(redis_url) as client:
        client.hset(KPI_CURRENT, frame.key, frame.encode())
    env = cli_environment(stack, IOC_DATABASE_URL=database.url, IOC_REDIS_URL=redis_url)

    def read(*args: str) -> Any:
        result = subprocess.run(
            [sys.executable, "-m", "cli", *args, "--json"], env=env, capture_output=True, text=True, timeout=120
        )
        assert (result.returncode, result.stderr) == (0, ""), args
        return json.loads(result.stdout)

    [alert] = read("alerts", "list")
    assert (alert["id"], alert["rule_id"], alert["state"], alert["area_code"]) == (
        alert_id, "coverage-drop", "open", "24615"
    )  # fmt: skip
    [opened] = read("alerts", "history", str(alert_id))
    assert (opened["state"], opened["actor"]) == ("open", "engine")
    [letter] = read("dead-letters", "list", "--reason", "too_old")
    assert (letter["reason"], letter["detail"], letter["resolved_at"]) == ("too_old", "a day late", None)
    [publisher] = read("publishers", "list")
    assert (publisher["id"], publisher["source"], publisher["disabled_at"]) == ("counter-9", "payments", None)
    assert read("publishers", "gaps", "counter-9") == {"publisher": "counter-9", "hours": 24, "gaps": []}
    shown = read("publishers", "show", "counter-9")
    assert (shown["publisher"]["id"], shown["publisher"]["source"], shown["actions"]) == ("counter-9", "payments", [])
    [incident] = read("alerts", "incidents")  # the alert's incident, of its own area
    assert (incident["rule_id"], incident["area_code"], incident["state"]) == ("coverage-drop", "24615", "open")
    assert read("alerts", "mutes") == []
    assert [(k["name"], k["scope"], k["revoked_at"]) for k in read("apikeys", "list")] == [("wall-2", "read", None)]
    [value] = read("kpis", "show", "24611")
    assert value == {**frame._asdict()}
    assert read("kpis", "show", "24611", "--window", "5m") == []
    assert set(read("services", "status")) == {"ingest", "streams", "streams-2", "api", "notify", "simulator"}
    assert read("stack", "status")["healthy"] is True
