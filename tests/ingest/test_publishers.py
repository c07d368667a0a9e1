"""`ioc publishers add | disable | list`: the registry row and the broker credentials go together."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC

import psycopg
import pytest

from deploy.stack.manager import LocalStack
from ingest.registry.publishers import InvalidPublisher, PublisherExists, PublisherRepository, add_publisher
from tests.fixtures.ingest import free_port
from tests.fixtures.mqtt import BlockingClient, open_client, unique_publisher_id
from tests.fixtures.stack import IsolatedDatabase, cli_environment

pytestmark = pytest.mark.integration


def _run(
    stack: LocalStack, database: IsolatedDatabase, *args: str, **env_overrides: str
) -> subprocess.CompletedProcess[str]:
    env = cli_environment(stack, IOC_DATABASE_URL=database.url, **env_overrides)
    return subprocess.run([sys.executable, "-m", "cli", "publishers", *args], env=env, capture_output=True, text=True)


def test_add_prints_a_working_password_once_and_disable_revokes_it(
    stack: LocalStack, database: IsolatedDatabase, mqtt_clients: list[BlockingClient]
) -> None:
    publisher_id = unique_publisher_id("desk")
    added = _run(stack, database, "add", publisher_id, "--source", "portal", "--area", "24615")
    assert added.returncode == 0, added.stderr
    lines = added.stdout.splitlines()
    assert lines[0] == f"publisher {publisher_id} added (portal, area 24615)"
    assert f"username:     {publisher_id}" in lines  # with the rest of the connection kit
    (password_line,) = [line for line in lines if line.startswith("password:")]
    password = password_line.split()[1]
    client = open_client(stack, publisher_id, password)
    mqtt_clients.append(client)
    assert not client.wait_connected().is_failure

    disabled = _run(stack, database, "disable", publisher_id)
    assert disabled.returncode == 0, disabled.stderr
    again = open_client(stack, publisher_id, password)
    mqtt_clients.append(again)
    assert again.wait_connected().getName() == "Not authorized"
    with database.connect() as conn:
        row = conn.execute("SELECT source, area_code, disabled_at IS NOT NULL FROM publishers WHERE id = %s",
                           (publisher_id,)).fetchone()  # fmt: skip
    assert row == ("portal", "24615", True)


def test_bad_registrations_are_refused_with_nothing_created(
    stack: LocalStack, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    existing = unique_publisher_id("dup")
    add_publisher(db, stack.mosquitto.accounts, existing, "payments", "24611")
    with pytest.raises(PublisherExists):
        add_publisher(db, stack.mosquitto.accounts, existing, "payments", "24611")
    for bad_id, source, area in [
        ("Bad+Id", "portal", "67"),
        ("ok-id", "weather", "67"),
        ("ok-id-2", "portal", "0"),
        ("ioc-ingest", "portal", "67"),
    ]:
        with pytest.raises(InvalidPublisher):
            add_publisher(db, stack.mosquitto.accounts, bad_id, source, area)
    assert db.execute("SELECT id FROM publishers").fetchall() == [(existing,)]
    assert "ok-id-2" not in stack.mosquitto.accounts.usernames()
    stack.mosquitto.accounts.delete(existing)


def test_unknown_publisher_disable_is_a_clear_error(stack: LocalStack, database: IsolatedDatabase) -> None:
    result = _run(stack, database, "disable", "nobody-here")
    assert result.returncode == 1
    assert result.stderr == "ioc publishers disable: publisher nobody-here does not exist\n"


def test_a_publisher_gets_its_own_silence_threshold_and_back_the_default(
    stack: LocalStack, database: IsolatedDatabase
) -> None:
    probe = unique_publisher_id("probe")
    added = _run(stack, database, "add", probe, "--source", "coverage", "--area", "24667")
    assert added.returncode == 0, added.stderr

    def threshold() -> object:
        with database.connect() as conn:
            row = conn.execute("SELECT silent_after_seconds FROM publishers WHERE id = %s", (probe,)).fetchone()
        assert row is not None
        return row[0]

    assert _run(stack, database, "silent-after", probe, "3600").stdout == f"publisher {probe}: silent after 3600 s\n"
    assert threshold() == 3600
    assert _run(stack, database, "silent-after", probe, "default").returncode == 0
    assert threshold() is None
    assert _run(stack, database, "silent-after", probe, "30m").stdout == f"publisher {probe}: silent after 1800 s\n"
    assert threshold() == 1800
    for args, message in (
        (("nobody", "60"), "publisher nobody does not exist"),
        ((probe, "soon"), "'soon' is not a duration (90s, 30m, 2h, 1d, seconds) nor 'default'"),
        ((probe, "0"), "the silence threshold must be 1 s to 31 days, not 0 s"),
        ((probe, "32d"), "the silence threshold must be 1 s to 31 days, not 2764800 s"),
    ):
        refused = _run(stack, database, "silent-after", *args)
        assert (refused.returncode, refused.stderr) == (1, f"ioc publishers silent-after: {message}\n")
    assert _run(stack, database, "disable", probe).returncode == 0


def test_a_broker_that_is_down_leaves_the_registry_as_it_was(
    stack: LocalStack, database: IsolatedDatabase, mqtt_clients: list[BlockingClient]
) -> None:
    """Registering or disabling needs the broker: while it is away, a clear error and nothing changed."""
    desk = unique_publisher_id("desk")
    assert _run(stack, database, "add", desk, "--source", "portal", "--area", "24611").returncode == 0
    port = free_port()
    down = {"IOC_MQTT_PORT": str(port)}
    unreachable = f"the broker at 127.0.0.1:{port} is unreachable (Connection refused)"
    refused = _run(stack, database, "add", unique_publisher_id("desk"), "--source", "portal", "--area", "24611", **down)
    assert (refused.returncode, refused.stderr) == (1, f"ioc publishers add: {unreachable}; nothing was registered\n")
    kept = _run(stack, database, "disable", desk, **down)
    assert (kept.returncode, kept.stderr) == (
        1, f"ioc publishers disable: {unreachable}; publisher {desk} is still enabled\n"
    )  # fmt: skip
    with database.connect() as conn:
        rows = conn.execute("SELECT id, disabled_at FROM publishers").fetchall()
    assert rows == [(desk, None)]
    no_admin = _run(stack, database, "add", unique_publisher_id("desk"), "--source", "portal", "--area", "24611",
                    IOC_MQTT_ADMIN_PASSWORD="")  # fmt: skip
    assert (no_admin.returncode, no_admin.stderr) == (
        1,
        "ioc publishers add: no broker admin account: set IOC_MQTT_ADMIN_PASSWORD (and IOC_MQTT_ADMIN_USERNAME)\n",
    )
    stack.mosquitto.accounts.delete(desk)


def test_list_shows_what_the_sweeper_cleared_for_a_publisher(stack: LocalStack, database: IsolatedDatabase) -> None:
    desk, quiet = unique_publisher_id("desk"), unique_publisher_id("quiet")
    for publisher_id in (desk, quiet):
        assert _run(stack, database, "add", publisher_id, "--source", "portal", "--area", "24611").returncode == 0
    with database.connect() as conn:
        PublisherRepository(conn).count_retained_cleared({desk: 3})
        PublisherRepository(conn).count_retained_cleared({desk: 2})
        (at,) = conn.execute("SELECT retained_cleared_at FROM publishers WHERE id = %s", (desk,)).fetchone()  # type: ignore[misc]
    lines = {line.split()[0]: line for line in _run(stack, database, "list").stdout.splitlines()}
    # Both registered, never heard from: onboarding, and silent (never online).
    assert lines[desk].endswith(
        f"onboarding  silent  retained cleared: 5 (last {at.astimezone(UTC):%Y-%m-%d %H:%M:%SZ})"
    )
    assert lines[quiet].endswith("onboarding  silent")
    for publisher_id in (desk, quiet):
        stack.mosquitto.accounts.delete(publisher_id)


def test_password_gives_a_registered_publisher_a_new_one_and_the_old_stops_working(
    stack: LocalStack, database: IsolatedDatabase, mqtt_clients: list[BlockingClient]
) -> None:
    desk = unique_publisher_id("desk")
    added = _run(stack, database, "add", desk, "--source", "payments", "--area", "24611")
    old = added.stdout.splitlines()[2].split()[2]
    renewed = _run(stack, database, "password", desk)
    assert renewed.returncode == 0, renewed.stderr
    assert renewed.stdout.splitlines()[0] == f"MQTT username: {desk}"
    new = renewed.stdout.splitlines()[1].split()[2]
    refused = open_client(stack, desk, old)
    accepted = open_client(stack, desk, new)
    mqtt_clients += [refused, accepted]
    assert refused.wait_connected().getName() == "Not authorized"
    assert not accepted.wait_connected().is_failure
    assert accepted.publish_codes[accepted.publish(f"ioc/v1/payments/{desk}/transaction", b"{}").mid].value in (0, 16)
    assert _run(stack, database, "disable", desk).returncode == 0
    assert _run(stack, database, "password", desk).stderr == f"ioc publishers password: publisher {desk} is disabled\n"
    assert (
        _run(stack, database, "password", "nobody").stderr
        == "ioc publishers password: publisher nobody does not exist\n"
    )
    stack.mosquitto.accounts.delete(desk)
