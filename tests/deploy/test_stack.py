"""The local stack starts from nothing, reports its health, and hands out its connection settings."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from deploy.settings import Settings
from deploy.stack.manager import LocalStack
from deploy.stack.paths import remove_paths
from deploy.stack.service import ServiceStartError
from tests.fixtures.ingest import free_port
from tests.fixtures.stack import cli_environment

pytestmark = pytest.mark.integration


def test_stack_starts_from_nothing_and_stops(tmp_path: Path) -> None:
    # tmp_path sits under a root-only directory: the service data must move somewhere reachable.
    settings = Settings(
        home=tmp_path / "fresh",
        pg_port=free_port(),
        mqtt_port=free_port(),
        redis_port=free_port(),
        alertmanager_port=free_port(),
    )
    stack = LocalStack(settings)
    try:
        stack.up()
        status = {h.name: h for h in stack.status()}
        assert {name: h.state for name, h in status.items()} == {
            "postgres": "ok",
            "mosquitto": "ok",
            "redis": "ok",
            "alertmanager": "ok",
        }
        assert status["alertmanager"].extra["version"].startswith("0.")
        assert status["postgres"].extra["timescaledb_version"].startswith("2.")
        stack.up()  # idempotent: a second `up` changes nothing and succeeds
        with psycopg.connect(stack.postgres.app_dsn()) as conn:
            row = conn.execute("SELECT current_user, current_database()").fetchone()
        assert row == ("ioc", "ioc")
        stack.down()
        assert {h.name: h.state for h in stack.status()} == {
            "postgres": "down",
            "mosquitto": "down",
            "redis": "down",
            "alertmanager": "down",
        }
    finally:
        stack.down()
        remove_paths(stack.paths)


def test_status_json_and_env_from_the_command_line(stack: LocalStack) -> None:
    env = cli_environment(stack)
    out = subprocess.run(
        [sys.executable, "-m", "cli", "stack", "status", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(out.stdout)
    assert report["healthy"] is True
    assert sorted(report["services"]) == ["alertmanager", "mosquitto", "postgres", "redis"]
    assert report["services"]["postgres"]["extra"]["timescaledb_license"] == "apache"
    shell = subprocess.run(
        [sys.executable, "-m", "cli", "stack", "env"], env=env, capture_output=True, text=True, check=True
    ).stdout
    names = [line.split("=", 1)[0].removeprefix("export ") for line in shell.splitlines()]
    assert names == [
        "IOC_HOME",
        "IOC_DATABASE_URL",
        "IOC_REDIS_URL",
        "IOC_MQTT_HOST",
        "IOC_MQTT_PORT",
        "IOC_MQTT_USERNAME",
        "IOC_MQTT_PASSWORD",
        "IOC_MQTT_ADMIN_PASSWORD",
        "IOC_MQTT_SWEEPER_PASSWORD",
        "IOC_API_URL",
        "IOC_NOTIFY_ALERTMANAGER_URL",
    ]


def test_timescaledb_is_loaded_and_a_hypertable_can_be_created(
    db: psycopg.Connection[tuple[object, ...]],
) -> None:
    assert db.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'").fetchone() == ("2.19.3",)
    db.execute("CREATE TABLE probe (at timestamptz NOT NULL, value double precision)")
    db.execute("SELECT create_hypertable('probe', by_range('at', INTERVAL '1 day'))")
    db.execute("INSERT INTO probe VALUES ('2026-01-01T00:00Z', 1), ('2026-01-03T00:00Z', 2)")
    chunks = db.execute("SELECT count(*) FROM show_chunks('probe')").fetchone()
    assert chunks == (2,)


def test_a_service_that_cannot_start_names_its_log_file(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy_port = int(taken.getsockname()[1])
        settings = Settings(home=tmp_path / "busy", pg_port=free_port(), mqtt_port=busy_port, redis_port=free_port())
        stack = LocalStack(settings)
        try:
            with pytest.raises(ServiceStartError) as failed:
                stack.mosquitto.start()
        finally:
            stack.down()
            remove_paths(stack.paths)
    assert failed.value.name == "mosquitto"
    assert failed.value.log_file == stack.paths.mosquitto / "mosquitto.log"
    assert str(stack.paths.mosquitto / "mosquitto.log") in str(failed.value)
