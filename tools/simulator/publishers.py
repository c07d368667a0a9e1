"""The simulated publishers on the broker: registered like real ones, one paho client each.

Each client connects with its own broker credentials (QoS 1, MQTT 3.1.1), sets its last will to a
retained `offline` status and announces `online` on every connect. Both carry the same `at` (the
time the client was created): when the will fires, the tie makes `offline` the latest state
(the engine breaks ties towards offline), which a later `at` in the will could not do, since a
will is fixed when the client connects. A clean close publishes `offline` at the current time.
The `offline` status (will or close) expires from the broker after `OFFLINE_EXPIRY_SECONDS` (MQTT 5
message expiry): the ingest, subscribed, has it at once, and a stopped simulator leaves no retained
status of publishers that a later subscriber's registry does not know (the test suite's, on the same
local broker as `make up`). `ioc services stop` therefore stops the simulator before the ingest.
Queues are bounded: a publish that finds paho's queue full is refused and counted, never buffered.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from ingest.registry.publishers import BrokerAccounts, PublisherRepository, add_publisher, new_password
from tools.simulator.areas import SimPublisher
from tools.simulator.payloads import status_payload

OFFLINE_EXPIRY_SECONDS = 10
_QUEUE_LIMIT = 2000  # per client: at the simulator's rates, seconds of a broker outage
_LAST_SEQ = (
    "SELECT coalesce(max(seq), 0) FROM (SELECT max(seq) AS seq FROM portal_dossier_events WHERE publisher_id = %(p)s"
    " UNION ALL SELECT max(seq) FROM payment_transactions WHERE publisher_id = %(p)s"
    " UNION ALL SELECT max(seq) FROM coverage_samples WHERE publisher_id = %(p)s) AS latest"
)


def register(
    conn: psycopg.Connection[tuple[object, ...]],
    accounts: BrokerAccounts,
    planned: Iterable[SimPublisher],
    silent_after_seconds: int | None,
) -> dict[str, tuple[str, int]]:
    """Registers each publisher (or, if it exists from an earlier run, gives it a new broker password)
    and returns its password and the last `seq` stored for it, so a new run carries on counting."""
    repository = PublisherRepository(conn)
    out: dict[str, tuple[str, int]] = {}
    for p in planned:
        existing = repository.get(p.id)
        if existing is None:
            password = add_publisher(conn, accounts, p.id, p.source, p.area_code, "simulated by ioc simulate").password
        else:
            if existing.disabled_at is not None:
                raise ValueError(f"publisher {p.id} is disabled; enable it or choose another --prefix")
            password = new_password(conn, accounts, p.id).password
        repository.set_silent_after(p.id, silent_after_seconds)
        row = conn.execute(_LAST_SEQ, {"p": p.id}).fetchone()
        out[p.id] = (password, int(str(row[0])) if row else 0)
    return out


class PublisherClient:
    def __init__(
        self, publisher: SimPublisher, password: str, host: str, port: int, tls: ssl.SSLContext | None = None
    ) -> None:
        self.publisher = publisher
        self.created_at = datetime.now(UTC)
        self._lock = threading.Lock()
        self._pending = 0  # accepted by paho, not yet acknowledged by the broker
        self.acknowledged = 0
        self._connected = threading.Event()
        self._closing = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=publisher.id, protocol=mqtt.MQTTv5)
        if tls is not None:
            self._client.tls_set_context(tls)
        self._client.username_pw_set(publisher.id, password)
        offline = status_payload("offline", self.created_at)
        self._client.will_set(
            publisher.status_topic, offline, qos=1, retain=True, properties=_expiring(PacketTypes.WILLMESSAGE)
        )
        self._client.max_queued_messages_set(_QUEUE_LIMIT)
        self._client.reconnect_delay_set(1, 15)
        self._client.on_connect = self._on_connect
        self._client.on_publish = self._on_publish
        self._host, self._port = host, port

    def start(self) -> None:
        self._client.connect_async(self._host, self._port, keepalive=30)
        self._client.loop_start()

    def wait_connected(self, deadline: float) -> bool:
        """Until the first CONNACK, or the `time.monotonic()` deadline."""
        return self._connected.wait(max(0.0, deadline - time.monotonic()))

    def publish(self, topic: str, payload: bytes, retain: bool = False, properties: Properties | None = None) -> bool:
        """Hands a message to paho (QoS 1); False when the bounded queue is full."""
        info = self._client.publish(topic, payload, qos=1, retain=retain, properties=properties)
        # While disconnected paho keeps QoS 1 messages and sends them on reconnect (NO_CONN).
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            return False
        with self._lock:
            self._pending += 1
        return True

    @property
    def pending(self) -> int:
        with self._lock:
            return self._pending

    def announce_offline(self, clear_status: bool = False) -> None:
        """Publishes `offline` now; `clear_status` then removes the retained status altogether
        (tests: a later subscriber on the same broker must not receive it)."""
        self._closing.set()
        offline = status_payload("offline", datetime.now(UTC))
        self.publish(self.publisher.status_topic, offline, retain=True, properties=_expiring(PacketTypes.PUBLISH))
        if clear_status:
            self.publish(self.publisher.status_topic, b"", retain=True)

    def wait_drained(self, deadline: float) -> bool:
        """Until the broker acknowledged everything handed over, or the `time.monotonic()` deadline;
        at once for a client that never connected (nothing of it can be acknowledged)."""
        while self.pending and self._connected.is_set() and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.pending == 0

    def disconnect(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: ReasonCode, props: Properties | None
    ) -> None:
        if reason.is_failure:
            return
        if self._closing.is_set():
            # Connected only now, with `offline` already queued: paho sends it first, and a retained
            # `online` after it would outlive the run.
            self._connected.set()
            return
        self.publish(self.publisher.status_topic, status_payload("online", self.created_at), retain=True)
        self._connected.set()

    def _on_publish(
        self, client: mqtt.Client, userdata: object, mid: int, reason: ReasonCode, props: Properties | None
    ) -> None:
        with self._lock:
            self._pending -= 1
            self.acknowledged += 1


def _expiring(packet_type: int) -> Properties:
    properties = Properties(packet_type)  # type: ignore[no-untyped-call]  # paho leaves its __init__ unannotated
    properties.MessageExpiryInterval = OFFLINE_EXPIRY_SECONDS
    return properties
