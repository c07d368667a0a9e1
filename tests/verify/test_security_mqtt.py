"""Security of the broker, as the broker itself answers (MQTT 5 reason codes): anonymous clients,
publishing outside a publisher's topics, any SUBSCRIBE of a publisher (refused at SUBACK), the ingest
client id, usernames with `+`/`#` (refused by `ioc publishers add`, the API and the broker). The basic
refusals are the deploy suite's tests (`tests/deploy/test_broker_security.py`), run here again for the
report."""

from __future__ import annotations

import subprocess
import sys

import httpx
import psycopg
import pytest
from paho.mqtt.reasoncodes import ReasonCode

from api.http.auth.keys import ApiKeyRepository, Scope
from deploy.stack.manager import LocalStack
from deploy.stack.mosquitto import INGEST_USERNAMES
from ingest.broker.roles import InvalidUsername, publisher_role
from tests.deploy.test_broker_security import (
    test_a_publisher_cannot_take_the_ingest_client_id as ingest_client_id_cannot_be_taken,
)
from tests.deploy.test_broker_security import test_anonymous_client_is_refused as anonymous_is_refused
from tests.fixtures.api import bearer
from tests.fixtures.mqtt import BlockingClient, PublisherAccount, open_client, unique_publisher_id
from tests.fixtures.stack import IsolatedDatabase, cli_environment
from tests.verify.report import ScenarioResult

pytestmark = pytest.mark.integration
NOT_AUTHORIZED = 0x87
WILDCARD_NAMES = ("pub+evil", "pub#evil", "+", "a/+")


def connected(stack: LocalStack, clients: list[BlockingClient], username: str, password: str) -> BlockingClient:
    client = open_client(stack, username, password)
    clients.append(client)
    assert not client.wait_connected().is_failure, username
    return client


def puback(client: BlockingClient, topic: str) -> ReasonCode:
    info = client.publish(topic, b"{}")
    assert info.is_published(), topic
    return client.publish_codes[info.mid]


def _publisher_account(stack: LocalStack, username: str) -> tuple[str, str]:
    stack.mosquitto.accounts.set_publisher(username, "portal", "pw-" + username)
    return username, "pw-" + username


def suback(client: BlockingClient, topic: str) -> int:
    client.subscribe(topic)
    return int(client.subscribe_codes[-1][0].value)


def test_broker_refuses_anonymous_clients_foreign_topics_and_the_ingest_client_id(
    stack: LocalStack,
    broker_account: PublisherAccount,
    mqtt_clients: list[BlockingClient],
    scenario: ScenarioResult,
) -> None:
    scenario.scenario = "Security: broker refuses anonymous clients, foreign topics, the ingest client id"
    anonymous_is_refused(stack, mqtt_clients)
    ingest_client_id_cannot_be_taken(stack, broker_account, mqtt_clients)
    me = broker_account.username
    publisher = connected(stack, mqtt_clients, me, broker_account.password)
    other = unique_publisher_id()
    own = [f"ioc/v1/portal/{me}/dossier", f"ioc/v1/portal/{me}/x/y"]
    foreign = [f"ioc/v1/portal/{other}/dossier", f"ioc/v1/portal/{INGEST_USERNAMES[0]}/dossier", "ioc/v1/portal",
               f"ioc/v1/payments/{me}/transaction", f"ioc/v1/anything/{me}/x", "$SYS/broker/x", "elsewhere",
               f"ioc/v2/portal/{me}/dossier", f"{me}/ioc/v1/portal"]  # fmt: skip
    assert [puback(publisher, t).value for t in own] == [0] * len(own)  # success (or 0x10, no subscribers)
    assert {t: puback(publisher, t).value for t in foreign} == dict.fromkeys(foreign, NOT_AUTHORIZED)
    # Every SUBSCRIBE of a publisher is refused at SUBACK: no subscription, no share of any group.
    reads = ["ioc/v1/#", "#", "$share/ingest/ioc/v1/#", f"ioc/v1/portal/{other}/+", "ioc/v1/+/+/+", "$SYS/#",
             f"ioc/v1/portal/{me}/#"]  # fmt: skip
    assert {t: suback(publisher, t) for t in reads} == dict.fromkeys(reads, NOT_AUTHORIZED)
    try:
        writer = connected(stack, mqtt_clients, *_publisher_account(stack, other))
        assert puback(writer, f"ioc/v1/portal/{other}/dossier").value in (0, 0x10)
        puback(publisher, own[0])  # a round trip after the writer's PUBACK: a delivery would be here by now
    finally:
        stack.mosquitto.accounts.delete(other)
    assert publisher.wait_messages(1, timeout=1.0) == []
    scenario.load = "MQTT 5 client, reason codes from the broker"
    scenario.measure("publishes refused (PUBACK 0x87)", len(foreign))
    scenario.measure("subscriptions refused (SUBACK 0x87)", f"{len(reads)} of {len(reads)}")
    scenario.measure("anonymous refused", "yes")
    scenario.measure("ingest client id taken over", "no")


def test_usernames_with_wildcards_are_refused_everywhere(
    stack: LocalStack,
    database: IsolatedDatabase,
    client: httpx.Client,
    db: psycopg.Connection[tuple[object, ...]],
    mqtt_clients: list[BlockingClient],
    scenario: ScenarioResult,
) -> None:
    scenario.scenario = (
        "Security: publisher ids with '+' or '#' refused by `ioc publishers add`, the API and the broker"
    )
    admin = bearer(ApiKeyRepository(db).create("wildcards", Scope.ADMIN))
    env = cli_environment(stack, IOC_DATABASE_URL=database.url)
    for name in WILDCARD_NAMES:
        cli = subprocess.run(
            [sys.executable, "-m", "cli", "publishers", "add", name, "--source", "payments", "--area", "24611"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert cli.returncode != 0, (name, cli.stdout)
        assert "must match" in cli.stderr, (name, cli.stderr)
        answer = client.post(
            "/api/v1/publishers", json={"id": name, "source": "payments", "area_code": "24611"}, headers=admin
        )
        assert answer.status_code == 400, (name, answer.text)
    assert not set(WILDCARD_NAMES) & set(stack.mosquitto.accounts.usernames())
    refused_by_broker = _broker_refuses_a_wildcard_account_written_by_hand(stack, mqtt_clients)
    scenario.load = f"{len(WILDCARD_NAMES)} names"
    scenario.measure("refused by the CLI", len(WILDCARD_NAMES))
    scenario.measure("refused by the API (400)", len(WILDCARD_NAMES))
    scenario.measure("broker, for an account written by hand", refused_by_broker)


def _broker_refuses_a_wildcard_account_written_by_hand(stack: LocalStack, clients: list[BlockingClient]) -> str:
    """Past every validation (the account made by hand over the control topic), the broker still gives a
    `+`/`#` username nothing: no role of the system names it, and no publisher role can be built for it."""
    for name in WILDCARD_NAMES:
        with pytest.raises(InvalidUsername):
            publisher_role(name, "payments")
    control = stack.mosquitto.accounts.control
    (created,) = control.execute([{"command": "createClient", "username": "pub+evil", "password": "pw"}])
    created.raise_for_error("Client already exists")
    try:
        evil = open_client(stack, "pub+evil", "pw")
        clients.append(evil)
        if evil.wait_connected().is_failure:
            return f"connection refused ({evil.connect_reason})"
        codes = {t: puback(evil, t).value for t in ("ioc/v1/payments/pub/transaction", "ioc/v1/portal/x/dossier")}
        assert set(codes.values()) == {NOT_AUTHORIZED}, codes
        assert suback(evil, "ioc/v1/#") == NOT_AUTHORIZED
        return "every publish and subscribe refused (0x87)"
    finally:
        stack.mosquitto.accounts.delete("pub+evil")
