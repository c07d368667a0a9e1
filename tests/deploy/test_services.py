"""`ioc services start | status | stop`: what `make up` and `make down` run."""

from __future__ import annotations

import subprocess
import sys

import pytest

from deploy.stack.manager import LocalStack
from tests.fixtures.ingest import IngestAccount, free_port
from tests.fixtures.stack import IsolatedDatabase, cli_environment

pytestmark = pytest.mark.integration


def _ioc(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, capture_output=True, text=True)


def test_start_is_idempotent_and_stop_is_clean(
    stack: LocalStack, database: IsolatedDatabase, ingest_account: IngestAccount
) -> None:
    port = free_port()
    env = cli_environment(
        stack,
        IOC_DATABASE_URL=database.url,
        IOC_INGEST_HEALTH_PORT=str(port),
        IOC_MQTT_USERNAME=ingest_account.username,
        IOC_MQTT_PASSWORD=ingest_account.password,
        IOC_INGEST_SHARED_GROUP=ingest_account.group,
    )
    try:
        started = _ioc(env, "services", "start")
        assert started.returncode == 0, started.stderr
        pid = started.stdout.split("(pid ")[1].split(")")[0]
        assert started.stdout == f"ingest: running (pid {pid}), health http://127.0.0.1:{port}/health\n"
        again = _ioc(env, "services", "start")
        assert again.stdout == f"ingest: already running (pid {pid})\n"
        assert _ioc(env, "services", "status").stdout == f"ingest     running (pid {pid})\n"
    finally:
        stopped = _ioc(env, "services", "stop")
    assert stopped.stdout == "ingest: stopped\n"
    assert _ioc(env, "services", "status").stdout == "ingest     stopped\n"
    log = (stack.paths.logs / "ingest.log").read_text()
    assert "ingest stopped" in log.splitlines()[-1]
