"""`ioc services start | status | stop`: what `make up` and `make down` run."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import pytest

from deploy.stack.manager import LocalStack
from tests.fixtures.ingest import IngestAccount, free_port
from tests.fixtures.stack import IsolatedDatabase, cli_environment

pytestmark = pytest.mark.integration


def _role(health_port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{health_port}/health", timeout=2) as response:
        return str(json.loads(response.read())["role"])


def _ioc(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli", *args], env=env, capture_output=True, text=True)


def test_start_is_idempotent_and_stop_is_clean(
    stack: LocalStack, database: IsolatedDatabase, ingest_account: IngestAccount, redis_url: str
) -> None:
    port, streams_port, api_port, ops_port, notify_port = (free_port() for _ in range(5))
    env = cli_environment(
        stack,
        IOC_DATABASE_URL=database.url,
        IOC_REDIS_URL=redis_url,
        IOC_INGEST_HEALTH_PORT=str(port),
        IOC_STREAMS_HEALTH_PORT=str(streams_port),
        IOC_API_PORT=str(api_port),
        IOC_API_OPS_PORT=str(ops_port),
        IOC_NOTIFY_HEALTH_PORT=str(notify_port),
        IOC_MQTT_USERNAME=ingest_account.username,
        IOC_MQTT_PASSWORD=ingest_account.password,
        IOC_INGEST_SHARED_GROUP=ingest_account.group,
    )
    try:
        started = _ioc(env, "services", "start")
        assert started.returncode == 0, started.stderr
        pid, streams_pid, standby_pid, api_pid, notify_pid = [
            part.split(")")[0] for part in started.stdout.split("(pid ")[1:]
        ]
        assert started.stdout == (
            f"ingest: running (pid {pid}), health http://127.0.0.1:{port}/health\n"
            f"streams: running (pid {streams_pid}), health http://127.0.0.1:{streams_port}/health\n"
            f"streams-2: running (pid {standby_pid}), health http://127.0.0.1:{streams_port + 10}/health\n"
            f"api: running (pid {api_pid}), health http://127.0.0.1:{ops_port}/health\n"
            f"notify: running (pid {notify_pid}), health http://127.0.0.1:{notify_port}/health\n"
        )
        roles = [_role(streams_port), _role(streams_port + 10)]
        assert roles == ["active", "standby"]
        again = _ioc(env, "services", "start")
        assert again.stdout == (
            f"ingest: already running (pid {pid})\nstreams: already running (pid {streams_pid})\n"
            f"streams-2: already running (pid {standby_pid})\napi: already running (pid {api_pid})\n"
            f"notify: already running (pid {notify_pid})\n"
        )
        assert _ioc(env, "services", "status").stdout == (
            f"ingest     running (pid {pid})\nstreams    running (pid {streams_pid})\n"
            f"streams-2  running (pid {standby_pid})\napi        running (pid {api_pid})\n"
            f"notify     running (pid {notify_pid})\n"
        )
    finally:
        stopped = _ioc(env, "services", "stop")
    assert stopped.stdout == "ingest: stopped\nstreams: stopped\nstreams-2: stopped\napi: stopped\nnotify: stopped\n"
    assert _ioc(env, "services", "status").stdout == (
        "ingest     stopped\nstreams    stopped\nstreams-2  stopped\napi        stopped\nnotify     stopped\n"
    )
    for name, last_words in (
        ("ingest", "ingest stopped"),
        ("streams", "streams engine stopped"),
        ("streams-2", "streams engine stopped"),
        ("notify", "notify: stopped"),
    ):
        log = (stack.paths.logs / f"{name}.log").read_text()
        assert last_words in log.splitlines()[-1]
