"""The publisher: events into the queue, from the queue to the broker in order, MQTT 5 over TLS.

A sending thread hands the oldest messages of the queue to paho, at most `in_flight` unacknowledged
at a time (QoS 1), and marks each done when its PUBACK arrives: a reason below 0x80 is delivered; a
refusal (0x80 and above: a topic not the publisher's own, a payload too large) is logged, counted
in `refused` and not sent again, since sending it again would be refused again. Messages paho holds
when the link drops it sends again on reconnect; what a restart finds in the queue is sent again.

Status: on every connection the publisher sets its last will to `offline` and publishes `online`,
retained, both with the same `at`, the moment that connection was prepared: if the will fires, the
tie makes `offline` the latest state (the system breaks ties towards offline), which an earlier `at`
in the will could not do. Both carry `dropped`, what the queue's bound has discarded so far. A clean
`stop()` publishes `offline` with the current time.

Stop contract: `stop()` refuses new events, waits up to `drain_seconds` for the queue to empty (while
connected), stops the sending thread, publishes `offline`, disconnects and closes the queue, which
saves its position: what was not acknowledged is sent by the next start.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from publisher import messages
from publisher.disk_queue import DEFAULT_MAX_BYTES, DiskQueue
from publisher.memory_queue import MemoryQueue
from publisher.queue_base import EventQueue, QueuedMessage

log = logging.getLogger(__name__)
_IDLE_SECONDS = 0.2  # the upkeep cadence when idle; events and acknowledgements wake the thread at once


@dataclass(frozen=True)
class PublisherConfig:
    publisher_id: str  # also the MQTT username and client id
    password: str
    source: str  # portal, payments or coverage
    host: str = "localhost"
    port: int = 8883
    ca_file: str | None = None  # the broker's CA: TLS (always, in production)
    tls_context: ssl.SSLContext | None = None  # or a context of one's own
    queue_dir: Path | str | None = None  # store-and-forward folder; None keeps the queue in memory
    max_queue_bytes: int = DEFAULT_MAX_BYTES
    fsync_interval_ms: int = 200  # 0: fsync after every event
    in_flight: int = 100  # unacknowledged messages at a time
    keepalive_seconds: int = 30
    offline_expiry_seconds: int | None = None  # MQTT 5 expiry of the `offline` status; None: kept


@dataclass(frozen=True)
class PublisherStats:
    acknowledged: int  # PUBACK below 0x80
    refused: int  # PUBACK 0x80 or above: logged, not sent again
    dropped: int  # discarded unsent by the queue's bound
    pending: int  # in the queue, not yet acknowledged
    connected: bool


class Publisher:
    def __init__(self, config: PublisherConfig, queue: EventQueue | None = None) -> None:
        self._config = config
        self._queue = queue or _default_queue(config)
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=config.publisher_id, protocol=mqtt.MQTTv5)
        if config.ca_file is not None:
            self._client.tls_set(ca_certs=config.ca_file)
        elif config.tls_context is not None:
            self._client.tls_set_context(config.tls_context)
        self._client.username_pw_set(config.publisher_id, config.password)
        self._client.max_inflight_messages_set(config.in_flight)
        self._client.reconnect_delay_set(1, 30)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self._acks: deque[tuple[int, ReasonCode]] = deque()  # from paho's thread to the sending thread
        self._handed: dict[int, QueuedMessage] = {}  # paho's message id -> message; sending thread only
        self._wake = threading.Event()
        self._connected = threading.Event()
        self._stopping = threading.Event()
        self._closed = threading.Event()
        self._sender = threading.Thread(target=self._send_loop, name=f"publisher-{config.publisher_id}", daemon=True)
        self._acknowledged = self._refused = 0
        self._session_at = messages.now()

    # The public surface.

    def start(self) -> Publisher:
        self._set_will()
        self._client.connect_async(self._config.host, self._config.port, keepalive=self._config.keepalive_seconds)
        self._client.loop_start()
        self._sender.start()
        return self

    def publish(
        self,
        event_type: str,
        area_code: str,
        fields: Mapping[str, object] | None = None,
        occurred_at: datetime | None = None,
    ) -> str:
        """Queues one event (a new `event_id`, the next `seq`) and returns its `event_id`."""
        if self._stopping.is_set():
            raise RuntimeError("the publisher is stopping")
        event_id, at = messages.new_event_id(), occurred_at or messages.now()
        topic = messages.topic(self._config.source, self._config.publisher_id, event_type)
        self._queue.append_numbered(
            topic, lambda seq: messages.event_payload(event_id, seq, area_code, at, fields or {})
        )
        self._wake.set()
        return event_id

    def publish_raw(self, topic: str, payload: bytes) -> None:
        """Queues a message as it is (no envelope, no `seq`): for tools that make their own."""
        if self._stopping.is_set():
            raise RuntimeError("the publisher is stopping")
        self._queue.append(topic, payload)
        self._wake.set()

    @property
    def stats(self) -> PublisherStats:
        return PublisherStats(
            self._acknowledged, self._refused, self._queue.dropped, self._queue.pending, self._connected.is_set()
        )

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def wait_drained(self, timeout: float) -> bool:
        """Until everything queued is acknowledged or refused; gives up at once when not connected."""
        deadline = time.monotonic() + timeout
        while self._queue.pending and self._connected.is_set() and time.monotonic() < deadline:
            time.sleep(0.02)
        return self._queue.pending == 0

    def stop(self, drain_seconds: float = 10.0, clear_status: bool = False) -> None:
        self._stopping.set()
        self.wait_drained(drain_seconds)
        self._closed.set()
        self._wake.set()
        if self._sender.is_alive():  # not when never started
            self._sender.join()
        self._settle()
        self._queue.abandon_in_flight()  # before the last status, which reports them
        expiry = _expiry(self._config.offline_expiry_seconds, PacketTypes.PUBLISH)
        offline = self._status("offline", messages.now())
        infos = [self._client.publish(self._status_topic, offline, qos=1, retain=True, properties=expiry)]
        if clear_status:
            infos.append(self._client.publish(self._status_topic, b"", qos=1, retain=True))
        if self._connected.is_set():
            for info in infos:
                info.wait_for_publish(min(5.0, max(drain_seconds, 0.5)))
        self._client.disconnect()
        self._client.loop_stop()
        self._queue.close()

    def __enter__(self) -> Publisher:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # The sending thread.

    def _send_loop(self) -> None:
        while not self._closed.is_set():
            self._wake.wait(_IDLE_SECONDS)
            self._wake.clear()
            try:
                self._settle()
                # Handed to paho only while connected: what waits for the link waits in the queue,
                # where the bound counts it, not in paho's memory.
                room = self._config.in_flight - len(self._handed) if self._connected.is_set() else 0
                for message in self._queue.take(room) if room > 0 else []:
                    self._hand_over(message)
                self._queue.maintain()
            except Exception:  # a dead sending thread would strand the queue: log, pause, go on
                log.exception("publisher %s: sending failed; retrying", self._config.publisher_id)
                self._closed.wait(1.0)

    def _hand_over(self, message: QueuedMessage) -> None:
        try:
            info = self._client.publish(message.topic, message.payload, qos=1)
        except ValueError as exc:  # a topic or payload MQTT itself cannot carry
            log.warning("publisher %s: message on %r refused: %s", self._config.publisher_id, message.topic, exc)
            self._refused += 1
            self._queue.done(message)
            return
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            raise RuntimeError(f"paho refused the message: {mqtt.error_string(info.rc)}")
        self._handed[info.mid] = message  # paho sends it again by itself after a reconnect

    def _settle(self) -> None:
        while self._acks:
            mid, reason = self._acks.popleft()
            message = self._handed.pop(mid, None)
            if message is None:
                continue  # a status message
            if reason.is_failure:
                self._refused += 1
                log.warning(
                    "publisher %s: broker refused the message on %r (%s); not sent again",
                    self._config.publisher_id, message.topic, reason.getName(),
                )  # fmt: skip
            else:
                self._acknowledged += 1
            self._queue.done(message)

    # paho's thread.

    def _on_connect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: ReasonCode, props: Properties | None
    ) -> None:
        if reason.is_failure:
            log.warning("publisher %s: connection refused: %s", self._config.publisher_id, reason.getName())
            return
        if not self._stopping.is_set():
            client.publish(self._status_topic, self._status("online", self._session_at), qos=1, retain=True)
        self._connected.set()
        self._wake.set()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: ReasonCode, props: Properties | None
    ) -> None:
        self._connected.clear()
        if not self._stopping.is_set():
            self._session_at = messages.now()
            self._set_will()  # the next connection's, with its own `at`

    def _on_publish(
        self, client: mqtt.Client, userdata: object, mid: int, reason: ReasonCode, props: Properties | None
    ) -> None:
        self._acks.append((mid, reason))
        self._wake.set()

    def _set_will(self) -> None:
        expiry = _expiry(self._config.offline_expiry_seconds, PacketTypes.WILLMESSAGE)
        offline = self._status("offline", self._session_at)
        self._client.will_set(self._status_topic, offline, qos=1, retain=True, properties=expiry)

    @property
    def _status_topic(self) -> str:
        return messages.topic(self._config.source, self._config.publisher_id, "status")

    def _status(self, state: str, at: datetime) -> bytes:
        return messages.status_payload(state, at, self._queue.dropped)


def _default_queue(config: PublisherConfig) -> EventQueue:
    if config.queue_dir is None:
        return MemoryQueue(config.max_queue_bytes)
    return DiskQueue(config.queue_dir, config.max_queue_bytes, config.fsync_interval_ms)


def _expiry(seconds: int | None, packet_type: int) -> Properties | None:
    if seconds is None:
        return None
    properties = Properties(packet_type)  # type: ignore[no-untyped-call]  # paho leaves its __init__ unannotated
    properties.MessageExpiryInterval = seconds
    return properties
