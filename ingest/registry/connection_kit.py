"""Everything a new publisher needs to connect, in one answer: `ioc publishers add` prints it,
`POST /api/v1/publishers` returns it, and the integrator guide (docs/integrators.md) starts from it.

Built from what the system already knows (the registry row, the contract's topics and examples, the
broker's public address from the settings), so that what it says cannot drift from what is enforced.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from ingest.contract import ALLOWED_EVENT_TYPES, EventType, Source
from ingest.contract.examples import Payload, example
from ingest.contract.feedback import feedback_topic
from ingest.registry.publishers import Publisher
from runtime.settings import SharedSettings

WHY_MQTT_5: Final = (
    "Use MQTT 5 (mosquitto_pub -V mqttv5): a publish the broker refuses (a topic that is not yours, a typo in "
    "the id or the source) is answered with reason code 0x87 'not authorized'. Over MQTT 3.1.1 the same publish "
    "gets a plain PUBACK and the message is dropped without a trace: it never reaches the system, so no dead "
    "letter and no feedback can tell you."
)
CLIENT_ID_RULE: Final = (
    "The client id is always taken to be the username (the publisher id): a second connection with the same "
    "username replaces the first, so publish and read the feedback topic on one connection."
)
_PEM_LIMIT: Final = 64 * 1024  # a CA bundle; anything larger is not one
_SYSTEM_CAS: Final = "/etc/ssl/certs"


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """The broker as publishers reach it: its URLs (TLS first) and the CA that vouches for it."""

    tls_url: str | None
    plain_url: str | None
    ca_file: Path | None

    @classmethod
    def from_settings(cls, settings: SharedSettings) -> BrokerAddress:
        ca = settings.mqtt_public_ca_file or settings.mqtt_tls_ca_file
        own = f"{settings.mqtt_host}:{settings.mqtt_port}"
        tls = settings.mqtt_public_tls_url or (f"mqtts://{own}" if settings.mqtt_tls_ca_file else None)
        plain = settings.mqtt_public_url or (None if settings.mqtt_tls_ca_file else f"mqtt://{own}")
        return cls(tls, plain, ca)

    def urls(self) -> list[str]:
        return [url for url in (self.tls_url, self.plain_url) if url]


class MqttAccess(BaseModel):
    protocol_version: str = Field(description="MQTT 5; why: `why_mqtt_5`.")
    why_mqtt_5: str
    urls: list[str] = Field(description="The broker, TLS first (`mqtts://`); `mqtt://` only on a closed network.")
    tls_ca_file: str | None = Field(description="The CA that signs the broker's certificate (on the server).")
    tls_ca_pem: str | None = Field(description="That CA itself, to install on the device.")
    username: str
    password: str = Field(description="Shown once: the broker keeps only its hash.")
    client_id: str
    client_id_rule: str
    qos: int = Field(description="Publish every event with QoS 1 (at least once; re-sends are deduplicated).")


class StatusMessage(BaseModel):
    topic: str
    retain: bool = Field(description="Published retained: the operators see the latest state at any time.")
    qos: int
    online: Payload = Field(description="Publish this (with the time) right after connecting.")
    last_will: Payload = Field(description="Set as the MQTT last will, retained, QoS 1: sent if the link dies.")


class Feedback(BaseModel):
    topic: str
    qos: int
    description: str


class ConnectionKit(BaseModel):
    """What a publisher needs to connect and send its first event."""

    publisher_id: str
    source: str
    area_code: str = Field(description="Its events name this area or one below it (a village of its commune).")
    mqtt: MqttAccess
    topics: dict[str, str] = Field(description="Per event type it may send (and `feedback`, to read).")
    examples: dict[str, Payload] = Field(description="One valid payload per event type it may send.")
    status: StatusMessage
    feedback: Feedback
    commands: dict[str, str] = Field(description="Ready to run: `publish` (first event), `status`, `feedback`.")
    docs: str = Field(description="The integrator guide.")


def connection_kit(publisher: Publisher, password: str, broker: BrokerAddress) -> ConnectionKit:
    source = Source(publisher.source)
    event_types = sorted(ALLOWED_EVENT_TYPES[source] - {EventType.STATUS})
    topics = {t.value: f"ioc/v1/{source.value}/{publisher.id}/{t.value}" for t in event_types}
    status_topic = f"ioc/v1/{source.value}/{publisher.id}/{EventType.STATUS.value}"
    topics[EventType.STATUS.value] = status_topic
    topics["feedback"] = feedback_topic(publisher.id)
    now = datetime.now(UTC).replace(microsecond=0)
    examples = {t.value: example(t, area_code=publisher.area_code, occurred_at=now, seq=1) for t in event_types}
    online = example(EventType.STATUS, state="online", at=now)
    access = MqttAccess(
        protocol_version="5",
        why_mqtt_5=WHY_MQTT_5,
        urls=broker.urls(),
        tls_ca_file=None if broker.ca_file is None else str(broker.ca_file),
        tls_ca_pem=_pem(broker.ca_file),
        username=publisher.id,
        password=password,
        client_id=publisher.id,
        client_id_rule=CLIENT_ID_RULE,
        qos=1,
    )
    first = event_types[0].value
    connect = _connect_options(broker, publisher.id, password)
    return ConnectionKit(
        publisher_id=publisher.id,
        source=source.value,
        area_code=publisher.area_code,
        mqtt=access,
        topics=topics,
        examples=examples,
        status=StatusMessage(
            topic=status_topic,
            retain=True,
            qos=1,
            online=online,
            last_will=example(EventType.STATUS, state="offline", at=now),
        ),
        feedback=Feedback(
            topic=topics["feedback"],
            qos=1,
            description="Subscribe (MQTT 5, QoS 1) on the connection you publish on: one message per dead letter "
            "of yours within a second (event_id, reason, detail, topic, received_at). Only you may read it.",
        ),
        commands={
            "publish": _command("mosquitto_pub", connect, "-q", "1", "-t", topics[first], "-m", _json(examples[first])),
            "status": _command("mosquitto_pub", connect, "-q", "1", "-r", "-t", status_topic, "-m", _json(online)),
            "feedback": _command("mosquitto_sub", connect, "-q", "1", "-v", "-t", topics["feedback"]),
        },
        docs="docs/integrators.md",
    )


def render_text(kit: ConnectionKit) -> str:
    """The kit for a person at a terminal; `--format json` gives the same for a script."""
    m = kit.mqtt
    lines = [
        f"publisher {kit.publisher_id} added ({kit.source}, area {kit.area_code})",
        "",
        f"broker:       {', '.join(m.urls) or '(set IOC_MQTT_PUBLIC_TLS_URL)'}   MQTT 5, QoS 1",
        f"TLS CA:       {_ca_line(kit)}",
        f"username:     {m.username}",
        f"password:     {m.password}   (shown once; store it now)",
        f"client id:    {m.client_id}   (always your username: a second connection replaces the first)",
        "",
        "topics:",
        *(f"  {name:<12} {topic}" for name, topic in kit.topics.items()),
        "",
        "example payloads (valid; give each event a new event_id and its own occurred_at):",
        *(f"  {name}: {_json(payload)}" for name, payload in kit.examples.items()),
        f"  status (retained, right after connecting): {_json(kit.status.online)}",
        f"  last will (retained, QoS 1, set when connecting): {_json(kit.status.last_will)}",
        "",
        "why MQTT 5: " + m.why_mqtt_5,
        "",
        "send the first event:",
        f"  {kit.commands['publish']}",
        "publish the status:",
        f"  {kit.commands['status']}",
        "read your dead letters (stops the publishing connection if it runs at the same time):",
        f"  {kit.commands['feedback']}",
        "",
        f"guide: {kit.docs}; scripts: ioc publishers add ... --format json",
    ]
    return "\n".join(lines)


def _ca_line(kit: ConnectionKit) -> str:
    if kit.mqtt.tls_ca_file:
        return kit.mqtt.tls_ca_file + ("" if kit.mqtt.tls_ca_pem else "   (on the server; not readable here)")
    if any(url.startswith("mqtts://") for url in kit.mqtt.urls):
        return f"a public CA: the device's trusted ones ({_SYSTEM_CAS})"
    return "(none: plain MQTT, for a closed network only)"


def _connect_options(broker: BrokerAddress, username: str, password: str) -> list[str]:
    url = broker.tls_url or broker.plain_url
    parts = urlsplit(url or "mqtt://BROKER_HOST:8883")
    port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
    options = ["-V", "mqttv5", "-h", parts.hostname or "BROKER_HOST", "-p", str(port)]
    if parts.scheme == "mqtts":
        # Without a CA of the deployment's own, the broker's certificate is from a public one.
        options += ["--cafile", str(broker.ca_file)] if broker.ca_file else ["--capath", _SYSTEM_CAS]
    return [*options, "-i", username, "-u", username, "-P", password]


def _command(program: str, connect: list[str], *rest: str) -> str:
    return shlex.join([program, *connect, *rest])


def _json(payload: Payload) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def _pem(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        with path.open("rb") as file:
            text = file.read(_PEM_LIMIT + 1)
    except OSError:
        return None
    if len(text) > _PEM_LIMIT or b"-----BEGIN CERTIFICATE-----" not in text:
        return None
    return text.decode("ascii", errors="replace")
