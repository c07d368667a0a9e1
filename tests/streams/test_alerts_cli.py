"""`ioc alerts list | ack | history | incidents | ack-incident` against the real database."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from deploy.stack.manager import LocalStack
from streams.alerts.evaluator import AlertOpened
from streams.alerts.rules import AlertRule
from streams.alerts.store import AlertStore
from tests.fixtures.stack import IsolatedDatabase, cli_environment
from tests.streams.kpi_data import NOW_US

pytestmark = pytest.mark.integration


def test_an_operator_lists_acknowledges_and_reads_the_history(
    stack: LocalStack, database: IsolatedDatabase, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    rule = AlertRule(id="coverage-drop", kpi="coverage.usable_share", window="1h", below=50, severity="major")
    AlertStore(db).apply(
        [AlertOpened(rule, "24615", 41.0, "coverage.usable_share (1h) in 24615 is 41, below 50", NOW_US)]
    )
    env = cli_environment(stack, IOC_DATABASE_URL=database.url)

    def ioc(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "cli", "alerts", *args], env=env, capture_output=True, text=True)

    [alert] = AlertStore(db).in_states()
    listed = ioc("list")
    assert listed.stdout == (
        f"{alert.id:>6}  2026-11-26 02:30:17  major    open                     "
        "coverage.usable_share (1h) in 24615 is 41, below 50\n"
    )
    incidents = ioc("incidents")
    assert incidents.stdout == (
        f"{alert.incident_id:>6}  2026-11-26 02:30:17  major    open                     "
        "coverage-drop in 24615: 1 of 1 alerts open\n"
    )
    assert ioc("ack", str(alert.id), "--by", "night-shift", "--comment", "trạm BTS mất điện").stdout == (
        f"alert {alert.id} acknowledged\n"
    )
    again = ioc("ack", str(alert.id))
    assert (again.returncode, again.stderr) == (1, f"ioc alerts ack: no open alert {alert.id}\n")
    assert "acknowledged by night-shift" in ioc("list").stdout
    history = ioc("history", str(alert.id)).stdout.splitlines()
    assert [line.split()[2:4] for line in history] == [["open", "engine"], ["acknowledged", "night-shift"]]
    assert history[1].endswith("trạm BTS mất điện")
    # The incident's only alert was acknowledged: so is the incident (nothing open left to acknowledge).
    assert "acknowledged by night-shift" in ioc("incidents", "--state", "acknowledged").stdout
    refused = ioc("ack-incident", str(alert.incident_id))
    assert (refused.returncode, refused.stderr) == (
        1,
        f"ioc alerts ack-incident: no open incident {alert.incident_id}\n",
    )
