"""Requests to Mosquitto's dynamic-security plugin over its control topic, synchronously, with a timeout.

A request is one MQTT 5 message to `$CONTROL/dynamic-security/v1` holding a list of commands; the
plugin answers each (tagged with our correlation data) on `…/v1/response`. Each command succeeds or
fails on its own, so a caller sends a batch and reads every answer.

The broker takes the username as the client id, so two connections of the admin account replace
each other: calls within a process are serialised by a lock, and a call whose connection the broker
closed (another process, the same account) is tried again on a new one. Callers therefore send only
commands that are safe to repeat.

Errors are typed and caught by class (`BrokerControlError` and its subclasses): a broker that is
down, a refused login, no answer in time, a command refused. Their messages are fit for an operator.
"""

from __future__ import annotations

import json
import random
import select
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import SecretStr

from runtime.settings import SharedSettings
from runtime.tls import mqtt_client_context

CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = f"{CONTROL_TOPIC}/response"

Command = dict[str, object]


class BrokerControlError(Exception):
    """Base of the control client's errors; the message is fit to show an operator."""


class BrokerUnreachable(BrokerControlError):
    pass


class BrokerLoginRefused(BrokerControlError):
    pass


class BrokerNoAnswer(BrokerControlError):
    pass


class BrokerCommandFailed(BrokerControlError):
    def __init__(self, command: str, error: str) -> None:
        super().__init__(f"the broker refused {command}: {error}")
        self.command = command
        self.error = error


@dataclass(frozen=True, slots=True)
class BrokerEndpoint:
    host: str
    port: int
    username: str
    password: str = field(repr=False)
    tls: ssl.SSLContext | None = None

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"

    @classmethod
    def of(cls, settings: SharedSettings, username: str, password: SecretStr) -> BrokerEndpoint:
        """The broker of `settings` (its host, port and TLS), as this account."""
        tls = mqtt_client_context(settings)
        return cls(settings.mqtt_host, settings.mqtt_port, username, password.get_secret_value(), tls)


@dataclass(frozen=True, slots=True)
class Answer:
    command: str
    error: str | None
    data: dict[str, object]

    def raise_for_error(self, *harmless: str) -> None:
        if self.error is not None and self.error not in harmless:
            raise BrokerCommandFailed(self.command, self.error)


class _ConnectionLost(Exception):
    """The broker closed the connection before answering (most likely: the same account connected again)."""


class BrokerControl:
    def __init__(self, endpoint: BrokerEndpoint, timeout_seconds: float = 5.0) -> None:
        self.endpoint = endpoint
        self._timeout = timeout_seconds
        self._lock = threading.RLock()
        self._held: _Connection | None = None

    def execute(self, commands: Sequence[Command]) -> list[Answer]:
        """Send the commands as one request; one answer per command, in order."""
        with self._lock:
            deadline = time.monotonic() + self._timeout * 3
            backoff, closed = 0.05, 0
            while True:
                try:
                    if self._held is not None:
                        return self._held.request(commands)
                    with self._connection() as connection:
                        return connection.request(commands)
                except _ConnectionLost:
                    self._drop_held()
                    closed += 1
                    if time.monotonic() + backoff > deadline:
                        raise BrokerUnreachable(
                            f"the broker at {self.endpoint} closed the control connection {closed} times"
                            f" (is another client connected as {self.endpoint.username} all the time?)"
                        ) from None
                    # Jittered and growing: the other holder of the account finishes in between.
                    time.sleep(random.uniform(0, backoff))
                    backoff = min(backoff * 2, 1.0)

    @contextmanager
    def session(self) -> Iterator[None]:
        """Keep one connection for every call inside (many accounts at once: a benchmark, the simulator)."""
        with self._lock:
            if self._held is not None:
                yield
                return
            self._held = _Connection(self.endpoint, self._timeout)
            try:
                self._held.open()
                yield
            finally:
                self._drop_held()

    @contextmanager
    def _connection(self) -> Iterator[_Connection]:
        connection = _Connection(self.endpoint, self._timeout)
        try:
            connection.open()
            yield connection
        finally:
            connection.close()

    def _drop_held(self) -> None:
        if self._held is not None:
            self._held.close()
            self._held = None


class _Connection:
    """One MQTT 5 connection of the admin account, driven from the caller's thread (no network thread)."""

    def __init__(self, endpoint: BrokerEndpoint, timeout_seconds: float) -> None:
        self._endpoint = endpoint
        self._timeout = timeout_seconds
        self._connack: ReasonCode | None = None
        self._suback: list[ReasonCode] | None = None
        self._lost = False
        self._answers: dict[str, dict[str, object]] = {}
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=endpoint.username, protocol=mqtt.MQTTv5)
        client.connect_timeout = timeout_seconds
        if endpoint.tls is not None:
            client.tls_set_context(endpoint.tls)
        client.username_pw_set(endpoint.username, endpoint.password)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.on_disconnect = self._on_disconnect
        self._client = client

    def open(self) -> None:
        where = self._endpoint
        try:
            self._client.connect(where.host, where.port, keepalive=max(10, int(self._timeout * 2)))
        except OSError as exc:
            raise BrokerUnreachable(f"the broker at {where} is unreachable ({exc.strerror or exc})") from None
        try:
            self._wait(lambda: self._connack is not None, "CONNACK")
        except _ConnectionLost:
            raise BrokerUnreachable(f"the broker at {where} closed the connection before CONNACK") from None
        assert self._connack is not None
        if self._connack.is_failure:
            raise BrokerLoginRefused(f"the broker at {where} refused {where.username}: {self._connack}")
        self._client.subscribe(RESPONSE_TOPIC, qos=0)
        self._wait(lambda: self._suback is not None, "SUBACK")
        assert self._suback is not None
        if any(code.is_failure for code in self._suback):
            raise BrokerLoginRefused(f"{where.username} may not read {RESPONSE_TOPIC} on the broker at {where}")

    def request(self, commands: Sequence[Command]) -> list[Answer]:
        tag = uuid.uuid4().hex
        tagged = [{**command, "correlationData": f"{tag}:{i}"} for i, command in enumerate(commands)]
        # QoS 0 both ways: a lost request is a lost connection (tried again), and with QoS 1 the broker's
        # answer waited behind its PUBACK for our delayed TCP ACK (Nagle), some 40 ms a request.
        self._client.publish(CONTROL_TOPIC, json.dumps({"commands": tagged}), qos=0)
        keys = [str(c["correlationData"]) for c in tagged]
        self._wait(lambda: all(k in self._answers for k in keys), f"an answer on {RESPONSE_TOPIC}")
        answers = [self._answers.pop(k) for k in keys]
        return [
            Answer(str(a.get("command", "")), _text_or_none(a.get("error")), _object(a.get("data"))) for a in answers
        ]

    def close(self) -> None:
        disconnect(self._client)

    def _wait(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self._timeout
        while not condition():
            if self._lost:
                raise _ConnectionLost
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrokerNoAnswer(
                    f"no {what} from the broker at {self._endpoint} within {self._timeout:g} s"
                    " (is its dynamic-security plugin loaded?)"
                )
            if not step(self._client, min(remaining, 0.1)):
                self._lost = True

    def _on_connect(self, c: mqtt.Client, u: object, f: object, rc: ReasonCode, p: Properties | None) -> None:
        self._connack = rc

    def _on_subscribe(self, c: mqtt.Client, u: object, mid: int, codes: list[ReasonCode], p: object) -> None:
        self._suback = list(codes)

    def _on_disconnect(self, c: mqtt.Client, u: object, f: object, rc: ReasonCode, p: object) -> None:
        self._lost = True

    def _on_message(self, c: mqtt.Client, u: object, message: mqtt.MQTTMessage) -> None:
        try:
            body = json.loads(message.payload)
        except ValueError:
            return
        responses = body.get("responses") if isinstance(body, dict) else None
        for response in responses if isinstance(responses, list) else ():
            if isinstance(response, dict) and isinstance(response.get("correlationData"), str):
                self._answers[response["correlationData"]] = response


def step(client: mqtt.Client, timeout_seconds: float) -> bool:
    """One turn of a paho client driven from the caller's thread (no network thread, and none of the
    wake-up socket pair that `loop()` makes): wait for the socket, read what arrived, write what is
    queued, keep alive. False once the connection is gone."""
    sock = client.socket()
    if sock is None:
        return False
    # TLS may hold decrypted bytes the socket no longer signals.
    pending = isinstance(sock, ssl.SSLSocket) and sock.pending() > 0
    try:
        readable, _, _ = select.select([sock], [], [], 0 if pending else timeout_seconds)
    except (OSError, ValueError):
        return False
    if (readable or pending) and client.loop_read() != mqtt.MQTT_ERR_SUCCESS:
        return False
    if client.want_write() and client.loop_write() != mqtt.MQTT_ERR_SUCCESS:
        return False
    return client.loop_misc() == mqtt.MQTT_ERR_SUCCESS and client.socket() is not None


def disconnect(client: mqtt.Client, timeout_seconds: float = 1.0) -> None:
    """Send DISCONNECT and close the socket, from the caller's thread, within `timeout_seconds`."""
    sock = client.socket()
    if sock is None:
        return
    client.disconnect()
    deadline = time.monotonic() + timeout_seconds
    while client.socket() is not None and time.monotonic() < deadline:
        step(client, 0.05)
    if client.socket() is not None:
        sock.close()  # the broker did not answer in time: our end goes anyway


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _object(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}
