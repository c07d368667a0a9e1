"""`ioc simulate` as a process: SIGTERM or SIGINT ends it cleanly, with every message acknowledged and its summary."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deploy.stack.manager import LocalStack
from tests.fixtures.mqtt import unique_publisher_id
from tests.fixtures.stack import IsolatedDatabase, cli_environment
from tools.simulator.publishers import OFFLINE_EXPIRY_SECONDS

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_run_cleanly_with_its_summary(
    stack: LocalStack, database: IsolatedDatabase, tmp_path: Path, stop_signal: signal.Signals
) -> None:
    prefix = unique_publisher_id("sim")
    summary_file = tmp_path / "summary.json"
    with subprocess.Popen(
        [sys.executable, "-m", "cli", "simulate", "--rate", "20", "--communes", "24615", "--prefix", prefix,
         "--seed", "5", "--bad-ratio", "0.2", "--summary-json", str(summary_file)],
        env=cli_environment(stack, IOC_DATABASE_URL=database.url), stdout=subprocess.PIPE, text=True,
    ) as process:  # fmt: skip
        try:
            assert process.stdout is not None
            assert process.stdout.readline().startswith("simulating 12 publishers (seed 5)")
            assert process.stdout.readline() == "12 publishers connected\n"
            time.sleep(2)
            process.send_signal(stop_signal)
            assert process.wait(30) == 0
            output = process.stdout.read()
        finally:
            process.kill()
    summary = json.loads(summary_file.read_text())
    assert summary["sent"] > 0
    assert (summary["unacknowledged"], summary["refused"]) == (0, 0)
    assert f"sent {summary['sent']} messages" in output
    assert sum(summary["dead_letters"].values()) > 0
    with database.connect() as conn:
        registered = [str(p) for (p,) in conn.execute("SELECT id FROM publishers WHERE id LIKE %s", (f"{prefix}-%",))]
    assert len(registered) == 12
    assert set(stack.mosquitto.accounts.usernames()) >= set(registered)
    for publisher_id in registered:
        stack.mosquitto.accounts.delete(publisher_id)
    # Its retained `offline` statuses expire from the broker; later tests' ingest must not receive them.
    time.sleep(OFFLINE_EXPIRY_SECONDS + 1)
