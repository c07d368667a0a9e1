"""`ioc broker init`: a deployment's broker gets the system's roles and service accounts from the command
that the pilot's Kubernetes Job runs, the same as the local stack's; bad input changes nothing."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from deploy.stack.manager import LocalStack
from ingest.broker.roles import ServiceRole
from tests.fixtures.mqtt import BlockingClient, open_client, unique_publisher_id
from tests.fixtures.stack import cli_environment

pytestmark = pytest.mark.integration


def broker_init(stack: LocalStack, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = cli_environment(stack, IOC_MQTT_SWEEPER_PASSWORD="", **env)
    return subprocess.run(
        [sys.executable, "-m", "cli", "broker", "init", *args],
        env=environment, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.fixture
def usernames(stack: LocalStack) -> Iterator[list[str]]:
    names = [unique_publisher_id("ioc-ingest"), unique_publisher_id("ioc-ingest")]
    yield names
    for name in names:
        stack.mosquitto.accounts.delete(name)


def test_ingest_accounts_are_made_with_the_ingest_role_and_read_the_stream(
    stack: LocalStack, usernames: list[str], mqtt_clients: list[BlockingClient]
) -> None:
    args = [arg for name in usernames for arg in ("--ingest-account", name)]
    first = broker_init(stack, *args, IOC_MQTT_PASSWORD="replica-secret")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        f"account {usernames[0]}: role ioc-ingest",
        f"account {usernames[1]}: role ioc-ingest",
        "no IOC_MQTT_SWEEPER_PASSWORD: no sweeper account (ingest then runs no retained sweeper)",
        "broker roles and service accounts ready",
    ]
    for name in usernames:
        client = stack.mosquitto.accounts.client(name)
        assert client is not None
        assert client.roles == (ServiceRole.INGEST.value,)
    # Run again (every release does): the same accounts, now with a rotated password.
    again = broker_init(stack, *args, IOC_MQTT_PASSWORD="rotated-secret")
    assert again.returncode == 0, again.stderr
    old = open_client(stack, usernames[0], "replica-secret")
    mqtt_clients.append(old)
    assert old.wait_connected().getName() == "Not authorized"
    replica = open_client(stack, usernames[1], "rotated-secret")
    mqtt_clients.append(replica)
    assert replica.wait_connected().getName() == "Success"
    replica.subscribe("$share/ingest/ioc/v1/#")
    assert [code.value for code in replica.subscribe_codes[-1]] == [1]  # granted QoS 1


def test_bad_input_and_a_wrong_admin_password_change_nothing(stack: LocalStack, usernames: list[str]) -> None:
    hostile = broker_init(stack, "--ingest-account", "ioc-ingest/#", IOC_MQTT_PASSWORD="x")
    assert hostile.returncode == 2
    assert "invalid account name 'ioc-ingest/#'" in hostile.stderr
    no_password = broker_init(stack, "--ingest-account", usernames[0], IOC_MQTT_PASSWORD="")
    assert no_password.returncode == 2
    assert "set IOC_MQTT_PASSWORD" in no_password.stderr
    refused = broker_init(
        stack, "--ingest-account", usernames[0], IOC_MQTT_PASSWORD="x", IOC_MQTT_ADMIN_PASSWORD="not-the-admin"
    )
    assert refused.returncode == 1
    assert refused.stderr.startswith("ioc broker init: ")
    assert stack.mosquitto.accounts.client(usernames[0]) is None
