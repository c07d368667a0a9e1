"""The project's Mosquitto: no anonymous access, and a publisher writes only under its own id."""

from __future__ import annotations

import pytest
from paho.mqtt.reasoncodes import ReasonCode

from deploy.stack.broker_accounts import AccountRole
from deploy.stack.manager import LocalStack
from deploy.stack.mosquitto import INGEST_USERNAMES
from tests.fixtures.mqtt import BlockingClient, PublisherAccount, open_client, unique_publisher_id

pytestmark = pytest.mark.integration


def test_anonymous_client_is_refused(stack: LocalStack, mqtt_clients: list[BlockingClient]) -> None:
    client = open_client(stack, None, None)
    mqtt_clients.append(client)
    assert client.wait_connected().getName() == "Not authorized"


def test_wrong_password_is_refused(
    stack: LocalStack, broker_account: PublisherAccount, mqtt_clients: list[BlockingClient]
) -> None:
    client = open_client(stack, broker_account.username, "wrong")
    mqtt_clients.append(client)
    assert client.wait_connected().getName() == "Not authorized"


def test_publisher_writes_only_under_its_own_id(
    stack: LocalStack, broker_account: PublisherAccount, mqtt_clients: list[BlockingClient]
) -> None:
    reader = open_client(stack, INGEST_USERNAMES[-1], stack.secrets.mqtt_service_password)
    mqtt_clients.append(reader)
    assert reader.wait_connected() == ReasonCode(2, identifier=0)  # CONNACK success
    reader.subscribe("ioc/v1/#", qos=1)
    publisher = open_client(stack, broker_account.username, broker_account.password)
    mqtt_clients.append(publisher)
    assert not publisher.wait_connected().is_failure
    other = unique_publisher_id()

    own = publisher.publish(f"ioc/v1/portal/{broker_account.username}/dossier", b"{}")
    publisher.publish(f"ioc/v1/portal/{other}/dossier", b"{}")
    publisher.publish("elsewhere/topic", b"{}")
    assert own.rc == 0
    # The broker answers a refused QoS 1 publish with PUBACK 135 (not authorised) and drops it; the
    # marker, published last, proves the refused ones were handled before it.
    reader.wait_messages(1)
    publisher.publish(f"ioc/v1/portal/{broker_account.username}/dossier", b"marker")
    messages = reader.wait_messages(2)
    assert [m.topic for m in messages] == [
        f"ioc/v1/portal/{broker_account.username}/dossier",
        f"ioc/v1/portal/{broker_account.username}/dossier",
    ]


def test_publisher_cannot_read_the_stream(
    stack: LocalStack, broker_account: PublisherAccount, mqtt_clients: list[BlockingClient]
) -> None:
    spy = open_client(stack, broker_account.username, broker_account.password)
    mqtt_clients.append(spy)
    spy.wait_connected()
    spy.client.subscribe("ioc/v1/#", qos=1)
    writer_account = unique_publisher_id()
    stack.mosquitto.accounts.set(writer_account, "pw", AccountRole.PUBLISHER)
    try:
        writer = open_client(stack, writer_account, "pw")
        mqtt_clients.append(writer)
        writer.wait_connected()
        writer.publish(f"ioc/v1/portal/{writer_account}/dossier", b"secret")
        spy.publish(f"ioc/v1/portal/{broker_account.username}/dossier", b"own")  # a round-trip as a barrier
        assert spy.wait_messages(1, timeout=1.0) == []
    finally:
        stack.mosquitto.accounts.remove(writer_account)


def test_a_publisher_cannot_take_the_ingest_client_id(
    stack: LocalStack, broker_account: PublisherAccount, mqtt_clients: list[BlockingClient]
) -> None:
    """The broker uses the username as the client id: a publisher asking for the ingest service's
    id neither disconnects the ingest session nor receives its messages."""
    ingest = open_client(stack, INGEST_USERNAMES[-1], stack.secrets.mqtt_service_password)
    mqtt_clients.append(ingest)
    ingest.wait_connected()
    ingest.client.subscribe("ioc/v1/#", qos=1)
    impostor = open_client(stack, broker_account.username, broker_account.password, client_id=INGEST_USERNAMES[-1])
    mqtt_clients.append(impostor)
    assert not impostor.wait_connected().is_failure
    impostor.publish(f"ioc/v1/portal/{broker_account.username}/dossier", b"after-takeover-attempt")
    messages = ingest.wait_messages(1)
    assert [m.payload for m in messages] == [b"after-takeover-attempt"]
    assert ingest.client.is_connected()
