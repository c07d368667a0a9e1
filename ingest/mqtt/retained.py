"""One sweep for retained messages: find those the broker keeps under a filter and delete the unwanted.

A new subscription receives every retained message it matches, flagged retain=1, before whatever the
broker sends it afterwards. So a sweep subscribes afresh at QoS 0 (the broker writes those messages
at once, not through the in-flight window), then sends an UNSUBSCRIBE for a topic it never subscribed
to: the UNSUBACK comes after the last retained message. Each one to delete gets the empty retained
message that deletes it (MQTT's own rule), at QoS 1, and counts once the broker acknowledged it.

A sweep is a short connection of its own (MQTT 5, clean start, no session kept), driven from the
caller's thread; it gives up at its deadline or when `stopping` is set, and says what it did so far.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from ingest.broker.control import BrokerEndpoint, disconnect, step

# Never subscribed to: its UNSUBACK only marks the end of what came before it.
_BARRIER_TOPIC = "ioc/v1/-/-/sweep-barrier"
# PUBACK "no matching subscribers" (0x10) is a success: the deletion was done.
_NO_SUBSCRIBERS = 0x10


class SweepFailed(Exception):
    """The sweep could not look (connection, login or subscription refused, or no answer in time)."""


@dataclass(slots=True)
class SweepResult:
    cleared: list[str] = field(default_factory=list)  # topics whose retained message was deleted
    kept: int = 0  # retained messages left where they are (the caller's choice)
    refused: list[str] = field(default_factory=list)  # deletions the broker refused (PUBACK ≥ 0x80)


class _Sweep:
    def __init__(self, endpoint: BrokerEndpoint, deadline: float, stopping: threading.Event) -> None:
        self._endpoint = endpoint
        self._deadline = deadline
        self._stopping = stopping
        self._connack: ReasonCode | None = None
        self._acks: dict[int, list[ReasonCode]] = {}  # SUBACK and UNSUBACK codes by message id
        self._pubacks: dict[int, ReasonCode] = {}
        self.retained: dict[str, bool] = {}  # topic → seen (the newest copy is the one that counts)
        self._collecting = True
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=endpoint.username, protocol=mqtt.MQTTv5)
        if endpoint.tls is not None:
            client.tls_set_context(endpoint.tls)
        client.username_pw_set(endpoint.username, endpoint.password)
        client.on_connect = lambda c, u, f, rc, p: setattr(self, "_connack", rc)
        client.on_subscribe = lambda c, u, mid, codes, p: self._acks.__setitem__(mid, list(codes))
        client.on_unsubscribe = lambda c, u, mid, codes, p: self._acks.__setitem__(mid, list(codes or []))
        client.on_publish = lambda c, u, mid, rc, p: self._pubacks.__setitem__(mid, rc)
        client.on_message = self._on_message
        self.client = client

    def connect(self) -> None:
        where = self._endpoint
        self.client.connect_timeout = max(1.0, self._deadline - time.monotonic())
        try:
            self.client.connect(where.host, where.port, keepalive=30, clean_start=True)
        except OSError as exc:
            raise SweepFailed(f"broker {where.host}:{where.port} unreachable ({exc.strerror or exc})") from None
        self.wait(lambda: self._connack is not None, "CONNACK")
        assert self._connack is not None
        if self._connack.is_failure:
            raise SweepFailed(f"the broker refused {where.username}: {self._connack}")

    def subscribe(self, topic_filter: str) -> None:
        _, mid = self.client.subscribe(topic_filter, options=SubscribeOptions(qos=0, noLocal=True))
        assert mid is not None
        self.wait(lambda: mid in self._acks, "SUBACK")
        if any(code.is_failure for code in self._acks[mid]):
            raise SweepFailed(f"the broker refused {self._endpoint.username} {topic_filter}: {self._acks[mid][0]}")
        _, barrier = self.client.unsubscribe(_BARRIER_TOPIC)
        self.wait(lambda: barrier in self._acks, "the UNSUBACK after the retained messages")
        self._collecting = False
        self.client.unsubscribe(topic_filter)  # our deletions and live traffic need not come back

    def delete(self, topics: list[str], result: SweepResult) -> None:
        mids = {self.client.publish(topic, b"", qos=1, retain=True).mid: topic for topic in topics}
        try:
            self.wait(lambda: all(mid in self._pubacks for mid in mids), "PUBACK for every deletion")
        finally:
            for mid, topic in mids.items():
                code = self._pubacks.get(mid)
                if code is None:
                    continue
                if code.is_failure:
                    result.refused.append(topic)
                elif code.value in (0, _NO_SUBSCRIBERS):
                    result.cleared.append(topic)

    def close(self) -> None:
        disconnect(self.client)

    def wait(self, condition: Callable[[], bool], what: str) -> None:
        while not condition():
            if self._stopping.is_set():
                raise SweepFailed("stopped")
            if time.monotonic() > self._deadline:
                raise SweepFailed(f"no {what} in time")
            if not step(self.client, 0.05):
                raise SweepFailed(f"connection lost while waiting for {what}")

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        # Live messages (retain=0) and empty ones (nothing retained) are no business of the sweep.
        if self._collecting and message.retain and message.payload:
            self.retained[message.topic] = True


def sweep_retained(
    endpoint: BrokerEndpoint,
    topic_filter: str,
    should_delete: Callable[[str], bool],
    timeout_seconds: float,
    stopping: threading.Event,
) -> SweepResult:
    """Delete the retained messages under `topic_filter` whose topic `should_delete`; raises SweepFailed
    when it could not look, and returns what it did (possibly part of it) otherwise."""
    sweep = _Sweep(endpoint, time.monotonic() + timeout_seconds, stopping)
    result = SweepResult()
    try:
        sweep.connect()
        sweep.subscribe(topic_filter)
        doomed = [topic for topic in sweep.retained if should_delete(topic)]
        result.kept = len(sweep.retained) - len(doomed)
        if doomed:
            sweep.delete(doomed, result)
    except SweepFailed:
        if not result.cleared and not result.refused:
            raise
    finally:
        sweep.close()
    return result
