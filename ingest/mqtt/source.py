"""MQTT source for the ingest service: persistent session, shared subscription, manual acknowledgement.

MQTT 3.1.1 with `clean_session=False`: the broker keeps the session (subscription and unacknowledged
messages) while we are away, for its `persistent_client_expiration`. Measured with `ioc bench
ingest`, paho spends less CPU per message on 3.1.1 than on MQTT 5, whose per-message property
parsing dominates (docs/performance.md#design-figures); nothing the ingest needs is MQTT 5-only.
What the broker sends unacknowledged is bounded by its `max_inflight_messages`.

paho runs without a thread of its own: the ingest loop calls `poll()`, which waits on the socket,
reads what has arrived (handing each message to the callback), and writes what is queued. That
keeps one thread per process and lets acknowledgements go out in bulk after a commit (`ack()`
only queues a PUBACK; `flush()` writes them) instead of waking a network thread per message.

Stop contract: `close_intake()` stops handing messages to the callback (later deliveries stay
unacknowledged, so the broker keeps them for the next session); `stop()` makes sure the broker
has every acknowledgement, then disconnects. A message is acknowledged only on the connection that
delivered it: after a reconnect the broker redelivers whatever was not acknowledged, and the
database's unique keys absorb the repeat.
"""

from __future__ import annotations

import logging
import select
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from ingest.records import RawMessage

log = logging.getLogger(__name__)
# Never subscribed to: unsubscribing from it is a harmless round trip to the broker.
_BARRIER_TOPIC = "ioc/v1/-/-/barrier"
# Packets read per readiness check; bounded so that housekeeping and commits are never starved.
_MAX_READS_PER_POLL = 2000


@dataclass(frozen=True, slots=True)
class MqttSourceConfig:
    host: str
    port: int
    username: str
    password: str
    subscription: str  # "ioc/v1/#", or "$share/ingest/ioc/v1/#" to share the stream between processes
    # The other form, dropped on connect: a session switched from one form to the other must not
    # receive every message twice.
    stale_subscription: str
    keepalive_seconds: int
    tls: ssl.SSLContext | None = None  # verifying context (runtime.tls); None: plain MQTT
    # What we publish ourselves (feedback to publishers) waits in paho's queue: at most this many.
    max_outgoing: int = 1000


class MqttSource:
    def __init__(self, config: MqttSourceConfig, on_message: Callable[[RawMessage], None]) -> None:
        self._config = config
        self._deliver = on_message
        self._generation = 0
        self._intake_open = True
        self._connected = False
        self._delivered = 0
        self._barrier_answered = False
        self._barrier_mid: int | None = None
        self._next_attempt = 0.0
        self._backoff = 1.0
        # The broker takes the username as the client id (the ACL protects it); name it the same.
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=config.username,
            protocol=mqtt.MQTTv311,
            clean_session=False,
            manual_ack=True,
        )
        if config.tls is not None:
            client.tls_set_context(config.tls)
        client.username_pw_set(config.username, config.password)
        client.max_queued_messages_set(config.max_outgoing)
        client.max_inflight_messages_set(min(config.max_outgoing, 100))
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_unsubscribe = self._on_unsubscribe
        # With this set, queuing a packet does not write it at once: `flush()` writes them in bulk.
        client.on_socket_register_write = lambda client, userdata, sock: None
        client.on_socket_open = self._on_socket_open
        self._client = client

    @property
    def connected(self) -> bool:
        return self._connected

    def start(self) -> None:
        self._client.connect_async(self._config.host, self._config.port, keepalive=self._config.keepalive_seconds)
        self._reconnect()

    def poll(self, timeout_seconds: float) -> int:
        """Wait up to `timeout_seconds` for traffic, read what arrived, write what is queued.

        Returns the number of messages handed to the callback.
        """
        before = self._delivered
        sock = self._client.socket()
        if sock is None:
            if time.monotonic() >= self._next_attempt:
                self._reconnect()
            else:
                time.sleep(max(0.0, min(timeout_seconds, self._next_attempt - time.monotonic())))
            return 0
        want_write = [sock] if self._client.want_write() else []
        try:
            readable, _, _ = select.select([sock], want_write, [], timeout_seconds)
        except (OSError, ValueError):
            readable = []  # the socket closed under us: paho notices in loop_misc
        if readable:
            self._read_available()
        self.flush()
        self._client.loop_misc()
        return self._delivered - before

    def ack(self, message: RawMessage) -> bool:
        """Queue the PUBACK; False when the message came on an earlier connection."""
        if message.generation != self._generation or not self._connected:
            return False
        self._client.ack(message.mid, message.qos)
        return True

    def publish(self, topic: str, payload: bytes) -> bool:
        """Queue a QoS 1 message of our own (written by the next `flush()`); False when not connected or
        when `max_outgoing` are already waiting: the caller drops it rather than wait."""
        if not self._connected:
            return False
        return self._client.publish(topic, payload, qos=1).rc == mqtt.MQTT_ERR_SUCCESS

    def keep_alive(self) -> None:
        """Send what is queued and the keepalive ping without reading anything."""
        if self._client.socket() is not None:
            self.flush()
            self._client.loop_misc()

    def flush(self) -> None:
        if self._client.socket() is not None and self._client.want_write():
            self._client.loop_write()

    def close_intake(self) -> None:
        self._intake_open = False

    def stop(self, timeout_seconds: float = 5.0) -> None:
        self.close_intake()
        if self._connected and not self._round_trip(timeout_seconds):
            log.warning("the broker did not confirm the last acknowledgements within %.0f s", timeout_seconds)
        if self._client.socket() is not None:
            self._client.disconnect()
            deadline = time.monotonic() + timeout_seconds
            while self._client.socket() is not None and time.monotonic() < deadline:
                self._client.loop_write()
                self._client.loop_misc()
        self._connected = False

    def _round_trip(self, timeout_seconds: float) -> bool:
        """A barrier: the broker handles a client's packets in order, so once it answers this
        UNSUBSCRIBE it has also handled every acknowledgement we sent before it. Measured: without
        it, a few dozen of the last acknowledgements before a DISCONNECT were lost, and the broker
        delivered those (already stored) messages again to the next session."""
        self._barrier_answered = False
        result, self._barrier_mid = self._client.unsubscribe(_BARRIER_TOPIC)
        deadline = time.monotonic() + timeout_seconds
        while result == mqtt.MQTT_ERR_SUCCESS and not self._barrier_answered and time.monotonic() < deadline:
            if self._client.socket() is None:
                return False
            self.poll(0.05)
        return self._barrier_answered

    def _read_available(self) -> None:
        for _ in range(_MAX_READS_PER_POLL):
            seen = self._delivered
            if self._client.loop_read() != mqtt.MQTT_ERR_SUCCESS or self._client.socket() is None:
                return
            if self._delivered == seen:
                return  # most likely drained (or a control packet): select tells us when there is more

    def _reconnect(self) -> None:
        try:
            self._client.reconnect()
        except OSError as exc:
            self._next_attempt = time.monotonic() + self._backoff
            log.warning("broker unreachable (%s); retrying in %.0f s", exc, self._backoff)
            self._backoff = min(self._backoff * 2, 15.0)

    def _on_socket_open(self, client: mqtt.Client, userdata: object, sock: object) -> None:
        # A silent partition (packets dropped, no reset) would otherwise take paho up to two
        # keepalives to notice: what we send and the broker never acknowledges ends the connection
        # after half of one, so it is noticed within one and a half.
        if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, self._config.keepalive_seconds * 500)

    def _on_connect(
        self, client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags, rc: ReasonCode, props: object
    ) -> None:
        if rc.is_failure:
            log.error("broker refused the connection: %s", rc)
            return
        self._generation += 1
        self._backoff = 1.0
        log.info("connected to the broker (session present: %s)", flags.session_present)
        # Resubscribe on every connect: a session may have expired while we were away.
        client.subscribe(self._config.subscription, qos=1)
        client.unsubscribe(self._config.stale_subscription)
        self._connected = True

    def _on_disconnect(
        self, client: mqtt.Client, userdata: object, flags: object, rc: ReasonCode, props: object
    ) -> None:
        self._connected = False
        self._next_attempt = time.monotonic() + self._backoff
        if rc.is_failure:
            log.warning("disconnected from the broker: %s; reconnecting", rc)

    def _on_unsubscribe(self, client: mqtt.Client, userdata: object, mid: int, codes: object, props: object) -> None:
        if mid == self._barrier_mid:
            self._barrier_answered = True

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        if not self._intake_open:
            return
        self._delivered += 1
        self._deliver(
            RawMessage(
                topic=message.topic,
                payload=bytes(message.payload),
                mid=message.mid,
                qos=message.qos,
                received_at=datetime.now(UTC),
                received_monotonic=time.monotonic(),
                generation=self._generation,
            )
        )
