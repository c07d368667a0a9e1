"""The project's Mosquitto: no anonymous access; a publisher writes only its own topics (its source, its id)
and subscribes to nothing, refused at SUBACK; disabling it disconnects it at once."""

from __future__ import annotations

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.reasoncodes import ReasonCode

from deploy.stack.manager import LocalStack
from deploy.stack.mosquitto import INGEST_USERNAMES
from tests.fixtures.mqtt import BlockingClient, PublisherAccount, open_client, unique_publisher_id

pytestmark = pytest.mark.integration
# What a publisher might try to read: the ingest's shared subscription above all (its share of the
# stream would be thrown away), the whole tree, other publishers, the broker's metrics, its own topics.
READS = (
    "$share/ingest/ioc/v1/#", "$share/x/ioc/v1/#", "ioc/v1/#", "#", "ioc/v1/+/+/+", "$SYS/#", "ioc/v1/portal/+/status"
)  # fmt: skip


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


def test_publisher_writes_only_its_own_source_and_id(
    stack: LocalStack, broker_account: PublisherAccount, mqtt_clients: list[BlockingClient]
) -> None:
    reader = open_client(stack, INGEST_USERNAMES[-1], stack.secrets.mqtt_service_password)
    mqtt_clients.append(reader)
    assert reader.wait_connected() == ReasonCode(2, identifier=0)  # CONNACK success
    reader.subscribe("ioc/v1/#", qos=1)
    publisher = open_client(stack, broker_account.username, broker_account.password)
    mqtt_clients.append(publisher)
    assert not publisher.wait_connected().is_failure
    me, other = broker_account.username, unique_publisher_id()

    own = publisher.publish(f"ioc/v1/portal/{me}/dossier", b"{}")
    refused = [f"ioc/v1/portal/{other}/dossier", f"ioc/v1/payments/{me}/transaction", "elsewhere/topic"]
    infos = [publisher.publish(topic, b"{}") for topic in refused]
    assert own.rc == 0
    # The broker answers a refused QoS 1 publish with PUBACK 0x87 (not authorised) and drops it.
    assert [publisher.publish_codes[i.mid].value for i in infos] == [0x87] * len(refused)
    publisher.publish(f"ioc/v1/portal/{me}/dossier", b"marker")
    messages = reader.wait_messages(2)
    assert [(m.topic, m.payload) for m in messages] == [
        (f"ioc/v1/portal/{me}/dossier", b"{}"),
        (f"ioc/v1/portal/{me}/dossier", b"marker"),
    ]


@pytest.mark.parametrize(("protocol", "refused"), [(mqtt.MQTTv5, 0x87), (mqtt.MQTTv311, 0x80)])
def test_every_publisher_subscription_is_refused_at_suback(
    stack: LocalStack,
    broker_account: PublisherAccount,
    mqtt_clients: list[BlockingClient],
    protocol: mqtt.MQTTProtocolVersion,
    refused: int,
) -> None:
    """Refused at SUBACK, no subscription exists: a publisher cannot join the ingest's shared group (whose
    round robin would hand it a share of the stream that nobody stores)."""
    spy = open_client(stack, broker_account.username, broker_account.password, protocol=protocol)
    mqtt_clients.append(spy)
    assert not spy.wait_connected().is_failure
    me = broker_account.username
    codes = {}
    for topic in (*READS, f"ioc/v1/portal/{me}/#"):
        spy.subscribe(topic)
        codes[topic] = spy.subscribe_codes[-1][0].value
    assert codes == dict.fromkeys(codes, refused)


def test_publisher_cannot_read_the_stream(
    stack: LocalStack, broker_account: PublisherAccount, mqtt_clients: list[BlockingClient]
) -> None:
    spy = open_client(stack, broker_account.username, broker_account.password)
    mqtt_clients.append(spy)
    spy.wait_connected()
    spy.client.subscribe("ioc/v1/#", qos=1)
    writer_account = unique_publisher_id()
    stack.mosquitto.accounts.set_publisher(writer_account, "portal", "pw")
    try:
        writer = open_client(stack, writer_account, "pw")
        mqtt_clients.append(writer)
        writer.wait_connected()
        writer.publish(f"ioc/v1/portal/{writer_account}/dossier", b"secret")
        spy.publish(f"ioc/v1/portal/{broker_account.username}/dossier", b"own")  # a round-trip as a barrier
        assert spy.wait_messages(1, timeout=1.0) == []
    finally:
        stack.mosquitto.accounts.delete(writer_account)


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


def test_disabling_a_publisher_disconnects_it_at_once(
    stack: LocalStack, broker_account: PublisherAccount, mqtt_clients: list[BlockingClient]
) -> None:
    publisher = open_client(stack, broker_account.username, broker_account.password)
    mqtt_clients.append(publisher)
    assert not publisher.wait_connected().is_failure
    stack.mosquitto.accounts.disable_publisher(broker_account.username)
    publisher.wait_disconnected(timeout=2.0)
    again = open_client(stack, broker_account.username, broker_account.password)
    mqtt_clients.append(again)
    assert again.wait_connected().getName() == "Not authorized"


def test_a_publisher_role_of_an_earlier_release_gets_its_feedback_topic_from_ensure_system(
    stack: LocalStack, mqtt_clients: list[BlockingClient]
) -> None:
    accounts = stack.mosquitto.accounts
    publisher_id = unique_publisher_id()
    accounts.set_publisher(publisher_id, "payments", "pw-earlier")
    try:
        # As a release without feedback made it: its own topics, nothing to read.
        own = {"acltype": "publishClientSend", "topic": f"ioc/v1/payments/{publisher_id}/#", "allow": True}
        (answer,) = accounts.control.execute(
            [{"command": "modifyRole", "rolename": f"publisher-{publisher_id}", "acls": [own]}]
        )
        answer.raise_for_error()
        feedback = f"ioc/feedback/v1/{publisher_id}"
        before = open_client(stack, publisher_id, "pw-earlier")
        mqtt_clients.append(before)
        assert not before.wait_connected().is_failure
        before.subscribe(feedback)
        assert before.subscribe_codes[-1][0].value == 0x87

        accounts.ensure_system()
        accounts.ensure_system()  # again: nothing to add, no error

        after = open_client(stack, publisher_id, "pw-earlier")
        mqtt_clients.append(after)
        assert not after.wait_connected().is_failure
        after.subscribe(feedback, qos=1)
        after.subscribe("ioc/feedback/v1/+", qos=1)
        assert [codes[0].value for codes in after.subscribe_codes] == [1, 0x87]
    finally:
        accounts.delete(publisher_id)
