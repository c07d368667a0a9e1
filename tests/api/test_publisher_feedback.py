"""Every dead-letter reason, as a publisher meets it: the validate endpoint answers it without storing
anything, and the real ingest tells the publisher on its own feedback topic within a second. Hostile:
feedback topics of others, publishing on one's own, a publisher spraying garbage, bodies the validate
endpoint must refuse."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest

from api.http.auth.keys import ApiKeyRepository, Scope
from deploy.stack.manager import LocalStack
from ingest.contract import RejectReason, examples
from tests.fixtures.api import bearer
from tests.fixtures.ingest import RunningIngest, trace_counts, wait_for
from tests.fixtures.mqtt import BlockingClient, open_client, unique_publisher_id

pytestmark = pytest.mark.integration

REFUSED_AMOUNT = 4_040  # refused by a CHECK constraint the contract does not know: storage_rejected


def _encode(payload: object) -> bytes:
    return json.dumps(payload).encode()


@dataclass
class Registered:
    id: str
    password: str

    @property
    def topic(self) -> str:
        return f"ioc/v1/payments/{self.id}/transaction"

    @property
    def feedback(self) -> str:
        return f"ioc/feedback/v1/{self.id}"


def _register(client: httpx.Client, admin: dict[str, str], area: str = "24611") -> Registered:
    publisher_id = unique_publisher_id("counter")
    answer = client.post(
        "/api/v1/publishers", json={"id": publisher_id, "source": "payments", "area_code": area}, headers=admin
    )
    assert answer.status_code == 201, answer.text
    return Registered(publisher_id, answer.json()["mqtt_password"])


def _connect(stack: LocalStack, who: Registered, clients: list[BlockingClient]) -> BlockingClient:
    connection = open_client(stack, who.id, who.password)
    clients.append(connection)
    assert not connection.wait_connected().is_failure
    connection.subscribe(who.feedback, qos=1)
    assert [code.value for code in connection.subscribe_codes[-1]] == [1]
    return connection


def _mistakes(topic: str, stored: dict[str, object]) -> dict[RejectReason, tuple[str, bytes]]:
    """One message per reason a publisher's own connection can cause, on its own topics."""
    later = datetime.now(UTC) + timedelta(hours=1)
    without_outcome = examples.transaction()
    del without_outcome["outcome"]
    deep: object = 1
    for _ in range(9):
        deep = [deep]
    return {
        RejectReason.TOPIC_INVALID: (topic.replace("/transaction", "/sample"), _encode(examples.transaction())),
        RejectReason.TOO_LARGE: (topic, b'{"pad":"' + b"a" * 70_000 + b'"}'),
        RejectReason.NOT_UTF8: (topic, b'{"event_id":"\xff\xfe"}'),
        RejectReason.NUL_CHARACTER: (topic, _encode(examples.transaction()).replace(b'"health"', b'"hea\\u0000lth"')),
        RejectReason.NOT_JSON: (topic, b'{"event_id": '),
        RejectReason.NON_FINITE_NUMBER: (topic, _encode(examples.transaction(amount_vnd=float("nan")))),
        RejectReason.TOO_DEEP: (topic, _encode(examples.transaction(extra=deep))),
        RejectReason.NOT_OBJECT: (topic, b"[1, 2, 3]"),
        RejectReason.UNKNOWN_FIELD: (topic, _encode(examples.transaction(currency="VND"))),
        RejectReason.MISSING_FIELD: (topic, _encode(without_outcome)),
        RejectReason.INVALID_VALUE: (topic, _encode(examples.transaction(amount_vnd=0))),
        RejectReason.FUTURE_EVENT: (topic, _encode(examples.transaction(occurred_at=later))),
        RejectReason.TOO_OLD: (topic, _encode(examples.transaction(occurred_at="2019-06-01T00:00:00+07:00"))),
        RejectReason.UNKNOWN_AREA: (topic, _encode(examples.transaction(area_code="99999"))),
        RejectReason.AREA_NOT_ALLOWED: (topic, _encode(examples.transaction(area_code="24615"))),
        RejectReason.SOURCE_MISMATCH: (topic, _encode(examples.sample())),
        RejectReason.CONFLICTING_DUPLICATE: (topic, _encode(stored | {"amount_vnd": 1})),
        RejectReason.STORAGE_REJECTED: (topic, _encode(examples.transaction(amount_vnd=REFUSED_AMOUNT))),
    }


def _validate(client: httpx.Client, key: dict[str, str], topic: str, payload: bytes) -> httpx.Response:
    body = {"topic": topic, "payload_base64": base64.b64encode(payload).decode()}
    return client.post("/api/v1/contract/validate", json=body, headers=key)


def test_every_reason_from_the_validate_endpoint_and_on_the_feedback_topic_within_a_second(
    stack: LocalStack,
    db: psycopg.Connection[tuple[object, ...]],
    client: httpx.Client,
    start_ingest: Callable[..., RunningIngest],
    mqtt_clients: list[BlockingClient],
) -> None:
    admin = bearer(ApiKeyRepository(db).create("ops-admin", Scope.ADMIN))
    reader = bearer(ApiKeyRepository(db).create("integrator", Scope.READ))
    db.execute(f"ALTER TABLE payment_transactions ADD CONSTRAINT refused CHECK (amount_vnd <> {REFUSED_AMOUNT})")
    counter, disabled = _register(client, admin), _register(client, admin)
    ghost = Registered(unique_publisher_id("ghost"), "pw-ghost")  # a broker account without a registry row
    stack.mosquitto.accounts.set_publisher(ghost.id, "payments", ghost.password)
    try:
        assert client.post(f"/api/v1/publishers/{disabled.id}/disable", headers=admin).status_code == 200
        start_ingest()
        connection = _connect(stack, counter, mqtt_clients)
        stored = examples.transaction()
        connection.publish(counter.topic, _encode(stored))
        assert wait_for(lambda: trace_counts(db)["payment_transactions"] == 1)
        mistakes = _mistakes(counter.topic, stored)
        assert set(mistakes) | {RejectReason.UNKNOWN_PUBLISHER, RejectReason.PUBLISHER_DISABLED} == set(RejectReason)

        before = trace_counts(db)
        answers = {reason: _validate(client, reader, topic, payload) for reason, (topic, payload) in mistakes.items()}
        answers[RejectReason.UNKNOWN_PUBLISHER] = _validate(client, reader, ghost.topic, _encode(stored))
        answers[RejectReason.PUBLISHER_DISABLED] = _validate(client, reader, disabled.topic, _encode(stored))
        for reason, answer in answers.items():
            assert answer.status_code == 200, answer.text
            assert (answer.json()["decision"], answer.json()["reason"]) == ("dead_letter", reason.value), reason
            assert answer.json()["detail"]
        assert trace_counts(db) == before  # nothing stored, not even a dead letter

        for reason, (topic, payload) in mistakes.items():
            started = time.monotonic()
            connection.publish(topic, payload)
            received = connection.wait_messages(len(connection.received) + 1, timeout=2)
            took = time.monotonic() - started
            told = json.loads(received[-1].payload)
            assert (told["reason"], told["topic"], took < 1.0) == (reason.value, topic, True), (reason, took)
            assert told["detail"] == answers[reason].json()["detail"] or reason in _TIME_DEPENDENT
            if reason in (RejectReason.UNKNOWN_FIELD, RejectReason.CONFLICTING_DUPLICATE):
                assert told["event_id"] == json.loads(payload)["event_id"]

        ghost_connection = _connect(stack, ghost, mqtt_clients)
        ghost_connection.publish(ghost.topic, _encode(stored))
        (told,) = ghost_connection.wait_messages(1, timeout=2)
        assert json.loads(told.payload)["reason"] == "unknown_publisher"
        # A disabled publisher is refused at CONNECT: nothing it sends reaches the system, nothing is told.
        assert open_client(stack, disabled.id, disabled.password).wait_connected().is_failure

        after = trace_counts(db)
        assert after["payment_transactions"] == 1
        assert after["dead_letters"] == before["dead_letters"] + len(mistakes) + 1
    finally:
        stack.mosquitto.accounts.delete(ghost.id)
        for who in (counter, disabled):
            stack.mosquitto.accounts.delete(who.id)


def test_time_to_first_feedback_is_under_a_second(
    stack: LocalStack,
    db: psycopg.Connection[tuple[object, ...]],
    client: httpx.Client,
    start_ingest: Callable[..., RunningIngest],
    mqtt_clients: list[BlockingClient],
) -> None:
    admin = bearer(ApiKeyRepository(db).create("ops-admin", Scope.ADMIN))
    counter = _register(client, admin)
    try:
        start_ingest()
        connection = _connect(stack, counter, mqtt_clients)
        sent = examples.transaction(area_code="24615")
        started = time.monotonic()
        connection.publish(counter.topic, _encode(sent))
        (message,) = connection.wait_messages(1, timeout=5)
        took = time.monotonic() - started
        assert took < 1.0, f"feedback after {took:.3f} s"
        told = json.loads(message.payload)
        assert (told["event_id"], told["reason"], told["topic"]) == (
            sent["event_id"],
            "area_not_allowed",
            counter.topic,
        )
        assert told["detail"].startswith("area_code 24615 is outside area 24611")
        assert (message.qos, message.retain) == (1, False)
    finally:
        stack.mosquitto.accounts.delete(counter.id)


# Their detail names the server time, which differs between the two answers.
_TIME_DEPENDENT = frozenset({RejectReason.FUTURE_EVENT, RejectReason.TOO_OLD, RejectReason.CONFLICTING_DUPLICATE})


def test_only_the_publisher_reads_its_feedback_and_nobody_but_the_ingest_writes_it(
    stack: LocalStack,
    db: psycopg.Connection[tuple[object, ...]],
    client: httpx.Client,
    mqtt_clients: list[BlockingClient],
) -> None:
    admin = bearer(ApiKeyRepository(db).create("ops-admin", Scope.ADMIN))
    mine, other = _register(client, admin), _register(client, admin)
    try:
        connection = _connect(stack, mine, mqtt_clients)
        for refused in (other.feedback, "ioc/feedback/v1/+", "ioc/feedback/v1/#", "ioc/feedback/#"):
            connection.subscribe(refused, qos=1)
            assert [code.value for code in connection.subscribe_codes[-1]] == [0x87], refused
        for target in (mine.feedback, other.feedback):
            info = connection.publish(target, b'{"reason":"forged"}')
            assert connection.publish_codes[info.mid].value == 0x87, target
        time.sleep(0.5)
        assert connection.received == []  # the forged message reached not even its own subscription
    finally:
        for who in (mine, other):
            stack.mosquitto.accounts.delete(who.id)


def test_a_publisher_spraying_garbage_gets_feedback_at_its_rate_and_the_rest_is_counted(
    stack: LocalStack,
    db: psycopg.Connection[tuple[object, ...]],
    client: httpx.Client,
    start_ingest: Callable[..., RunningIngest],
    mqtt_clients: list[BlockingClient],
) -> None:
    admin = bearer(ApiKeyRepository(db).create("ops-admin", Scope.ADMIN))
    sprayer = _register(client, admin)
    try:
        running = start_ingest(ingest_feedback_rate=5)
        connection = _connect(stack, sprayer, mqtt_clients)
        started = time.monotonic()
        infos = [connection.client.publish(sprayer.topic, b"garbage %d" % i, qos=1) for i in range(300)]
        for info in infos:
            info.wait_for_publish(10)
        assert wait_for(lambda: trace_counts(db)["dead_letters"] == 300)  # every one kept as a dead letter
        elapsed = time.monotonic() - started
        time.sleep(0.5)
        told = len(connection.received)
        registry = running.service.metrics.registry
        dropped = registry.get_sample_value("ioc_ingest_feedback_dropped_total", {"why": "rate"})
        sent = registry.get_sample_value("ioc_ingest_feedback_sent_total")
        assert 5 <= told <= 5 + 5 * (elapsed + 0.5) + 1, (told, elapsed)
        assert (sent, dropped) == (told, 300 - told)
        assert running.service.health().status == "ok"
    finally:
        stack.mosquitto.accounts.delete(sprayer.id)


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b'{"topic": "ioc/v1/payments/a/transaction", "payload": "' + b"x" * 10_000_000 + b'"}', 413, "at most"),
        (b'{"topic": "ioc/v1/payments/a/transaction", "payload": "\xff\xfe"}', 400, "not UTF-8"),
        (b'{"topic": "ioc/v1/payments/+/transaction", "payload": {}}', 400, "wildcards"),
        (b'{"topic": "ioc/v1/#", "payload": {}}', 400, "wildcards"),
        (b'{"topic": "ioc/v1/payments/a/transaction"}', 400, "exactly one of"),
        (b'{"topic": "ioc/v1/payments/a/transaction", "payload": {}, "payload_base64": ""}', 400, "exactly one of"),
        (b'{"topic": "ioc/v1/payments/a/transaction", "payload_base64": "***"}', 400, "not valid base64"),
        (b'{"topic": "ioc/v1/payments/a/transaction", "payload": {}', 400, "Invalid JSON"),
        (b"[]", 400, "body"),
    ],
    ids=["10-MB", "not-utf8", "plus", "hash", "no-payload", "two-payloads", "bad-base64", "broken-json", "array"],
)
def test_the_validate_endpoint_refuses_hostile_bodies_clearly(
    db: psycopg.Connection[tuple[object, ...]], client: httpx.Client, body: bytes, status: int, says: str
) -> None:
    reader = bearer(ApiKeyRepository(db).create("integrator", Scope.READ))
    before = trace_counts(db)

    answer = client.post(
        "/api/v1/contract/validate", content=body, headers=reader | {"Content-Type": "application/json"}
    )

    assert answer.status_code == status, answer.text
    assert says in answer.json()["error"]["message"]
    assert trace_counts(db) == before


def test_the_validate_endpoint_needs_a_key(client: httpx.Client) -> None:
    answer = client.post("/api/v1/contract/validate", json={"topic": "ioc/v1/payments/a/transaction", "payload": {}})

    assert answer.status_code == 401


def test_the_validate_endpoint_stores_a_status_and_ignores_an_empty_message_as_the_ingest_does(
    stack: LocalStack, db: psycopg.Connection[tuple[object, ...]], client: httpx.Client
) -> None:
    admin = bearer(ApiKeyRepository(db).create("ops-admin", Scope.ADMIN))
    counter = _register(client, admin)
    status_topic = counter.topic.replace("/transaction", "/status")
    before = trace_counts(db)

    try:
        status = _validate(client, admin, status_topic, _encode(examples.status()))
        empty = _validate(client, admin, counter.topic, b"")
    finally:
        stack.mosquitto.accounts.delete(counter.id)

    assert (status.json()["decision"], status.json()["event_type"], status.json()["publisher_id"]) == (
        "stored",
        "status",
        counter.id,
    )
    assert (empty.json()["decision"], empty.json()["reason"]) == ("ignored", None)
    assert trace_counts(db) == before
