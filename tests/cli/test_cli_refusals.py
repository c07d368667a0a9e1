"""`ioc` says what went wrong in one line with a non-zero exit, never a traceback unless `-v`; a reader
that goes away ends it quietly; run outside the project it says where it looked and creates nothing
(real services)."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from deploy.stack.manager import LocalStack
from streams.alerts.evaluator import AlertOpened
from streams.alerts.rules import AlertRule
from streams.alerts.store import AlertStore
from tests.fixtures.ingest import free_port
from tests.fixtures.stack import IsolatedDatabase, cli_environment
from tests.streams.kpi_data import NOW_US

pytestmark = pytest.mark.integration

IOC = [sys.executable, "-m", "cli"]
_WHERE_THE_STACK_IS = {
    "IOC_HOME", "IOC_DATABASE_URL", "IOC_REDIS_URL", "IOC_MQTT_PASSWORD", "IOC_MQTT_ADMIN_PASSWORD",
    "IOC_MQTT_SWEEPER_PASSWORD",
}  # fmt: skip
REASONS = (
    "topic_invalid, too_large, not_utf8, nul_character, not_json, non_finite_number, too_deep, not_object,"
    " unknown_field, missing_field, invalid_value, future_event, too_old, unknown_area, area_not_allowed,"
    " unknown_publisher, publisher_disabled, source_mismatch, conflicting_duplicate, storage_rejected"
)


def ioc(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*IOC, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def outcome(result: subprocess.CompletedProcess[str]) -> tuple[int, str]:
    return result.returncode, result.stderr


def test_unknown_ids_areas_and_reasons_are_refused_in_one_line(stack: LocalStack, database: IsolatedDatabase) -> None:
    env = cli_environment(stack, IOC_DATABASE_URL=database.url)
    for args, message in (
        (("alerts", "history", "999"), "ioc alerts history: alert 999 does not exist"),
        (("alerts", "ack", "999"), "ioc alerts ack: no open alert 999"),
        (("publishers", "gaps", "nosuch"), "ioc publishers gaps: publisher nosuch does not exist"),
        (("dead-letters", "list", "--reason", "bogus"),
         f"ioc dead-letters list: no dead-letter reason 'bogus'; the reasons are {REASONS}"),
        (("dead-letters", "replay", "--reason", "bogus"),
         f"ioc dead-letters replay: no dead-letter reason 'bogus'; the reasons are {REASONS}"),
        (("kpis", "show", "24698"),
         "ioc kpis show: no area '24698' in the areas table (GET /api/v1/areas lists them)"),
    ):  # fmt: skip
        assert outcome(ioc(env, *args)) == (1, message + "\n"), args
    # A known publisher with nothing sent is no refusal: its (empty) gaps.
    known = ioc(env, "publishers", "gaps", "sim-nothing")
    assert known.returncode == 1  # not registered in this database either
    with database.connect() as conn:
        conn.execute("INSERT INTO publishers (id, source, area_code) VALUES ('counter-9', 'payments', '24611')")
    registered = ioc(env, "publishers", "gaps", "counter-9")
    assert (registered.returncode, registered.stdout) == (0, "0 seq missing in 0 gaps in the last 24 h\n")


def test_services_that_cannot_be_reached_are_one_line_and_a_traceback_only_with_v(
    stack: LocalStack, database: IsolatedDatabase
) -> None:
    closed = free_port()
    no_database = cli_environment(stack, IOC_DATABASE_URL=f"postgresql://ioc:secret@127.0.0.1:{closed}/ioc")
    refused = f'connection to server at "127.0.0.1", port {closed} failed: Connection refused'
    expected = f"the database cannot be reached ({refused})"
    assert outcome(ioc(no_database, "alerts", "list")) == (1, f"ioc alerts list: {expected}\n")
    assert outcome(ioc(no_database, "dead-letters", "list")) == (1, f"ioc dead-letters list: {expected}\n")
    verbose = ioc(no_database, "-v", "alerts", "list")
    assert verbose.returncode == 1
    assert verbose.stderr.startswith("Traceback (most recent call last):")
    assert verbose.stderr.endswith(f"ioc alerts list: {expected}\n")

    no_redis = cli_environment(stack, IOC_DATABASE_URL=database.url, IOC_REDIS_URL=f"redis://127.0.0.1:{closed}/0")
    assert outcome(ioc(no_redis, "kpis", "show", "67")) == (
        1, f"ioc kpis show: Redis cannot be reached (Error 111 connecting to 127.0.0.1:{closed}. Connection refused.)\n"
    )  # fmt: skip

    no_broker = cli_environment(stack, IOC_DATABASE_URL=database.url, IOC_MQTT_PORT=str(closed))
    with database.connect() as conn:
        conn.execute("INSERT INTO publishers (id, source, area_code) VALUES ('counter-9', 'payments', '24611')")
    assert outcome(ioc(no_broker, "publishers", "password", "counter-9")) == (
        1,
        f"ioc publishers password: the broker at 127.0.0.1:{closed} is unreachable (Connection refused);"
        " the old password stays\n",
    )  # fmt: skip


def test_a_reader_that_goes_away_ends_the_listing_quietly(stack: LocalStack, database: IsolatedDatabase) -> None:
    with database.connect() as conn:
        # Far more than a pipe holds (64 KiB), so that the listing is still writing when `head` leaves.
        conn.execute(
            "INSERT INTO dead_letters (received_at, topic, publisher_id, reason, detail, payload, fingerprint)"
            " SELECT now(), 'ioc/v1/payments/counter-9/transaction', 'counter-9', 'unknown_publisher',"
            " 'not registered ' || g, '\\x7b7d', sha256(g::text::bytea) FROM generate_series(1, 3000) AS g"
        )
    env = cli_environment(stack, IOC_DATABASE_URL=database.url)
    command = f"set -o pipefail; {shlex.join(IOC)} dead-letters list --limit 3000 | head -1"
    piped = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=120)
    assert piped.stderr == ""
    assert piped.stdout.split()[3:] == ["unknown_publisher", "open", "ioc/v1/payments/counter-9/transaction"]
    assert piped.returncode == 141  # 128 + SIGPIPE, as any Unix tool whose reader left


def test_outside_the_project_it_says_where_it_looked_and_creates_nothing(stack: LocalStack, tmp_path: Path) -> None:
    # The ports stay (the test stack's), but nothing that says where the stack or its secrets are.
    env = {k: v for k, v in cli_environment(stack).items() if k not in _WHERE_THE_STACK_IS}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    nowhere = (
        f"IOC_HOME is not set and neither {elsewhere} nor a folder above it holds the project"
        " (a pyproject.toml of daknong-ioc)"
    )
    assert outcome(ioc(env, "alerts", "list", cwd=elsewhere)) == (
        1, f"ioc alerts list: no local stack: {nowhere}; run it in the project folder or set IOC_HOME\n"
    )  # fmt: skip
    assert outcome(ioc(env, "stack", "up", cwd=elsewhere)) == (
        1, f"ioc stack up: nowhere to create the local stack: {nowhere}; run it in the project folder or set IOC_HOME\n"
    )  # fmt: skip
    assert list(elsewhere.iterdir()) == []

    project = tmp_path / "project"
    deeper = project / "deploy" / "k8s"
    deeper.mkdir(parents=True)
    (project / "pyproject.toml").write_text('[project]\nname = "daknong-ioc"\n')
    assert outcome(ioc(env, "publishers", "list", cwd=deeper)) == (
        1,
        f"ioc publishers list: no local stack in {project}/.ioc (the project folder is {project});"
        " start it with `ioc up` (or `ioc stack up`), or set IOC_HOME to an existing one\n",
    )
    assert sorted(p.name for p in project.iterdir()) == ["deploy", "pyproject.toml"]

    # The project's home is found from a folder below it: here, the test stack's.
    (project / ".ioc").symlink_to(stack.paths.home)
    found = ioc(env, "stack", "status", cwd=deeper)
    assert (found.returncode, found.stderr) == (0, "")
    assert found.stdout.splitlines()[0].split()[:3] == ["postgres", "ok", f"127.0.0.1:{stack.settings.pg_port}"]


def test_an_alert_history_lists_its_lifecycle(stack: LocalStack, database: IsolatedDatabase) -> None:
    rule = AlertRule(id="coverage-drop", kpi="coverage.usable_share", window="1h", below=50, severity="major")
    with database.connect() as conn:
        AlertStore(conn).apply([AlertOpened(rule, "24615", 41.0, "usable share 41 % in 24615", NOW_US)])
        (alert_id,) = _one(conn)
    result = ioc(cli_environment(stack, IOC_DATABASE_URL=database.url), "alerts", "history", str(alert_id))
    assert result.returncode == 0
    assert result.stdout.split()[2:4] == ["open", "engine"]


def _one(conn: psycopg.Connection[tuple[object, ...]]) -> tuple[object]:
    row = conn.execute("SELECT id FROM alerts").fetchone()
    assert row is not None
    return (row[0],)
