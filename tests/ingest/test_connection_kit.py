"""The connection kit (pure): broker addresses from the settings, the CA, and commands a shell runs as printed."""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest.contract import decode
from ingest.registry.connection_kit import BrokerAddress, connection_kit, render_text
from ingest.registry.publishers import Publisher
from runtime.settings import SharedSettings

PEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"


def _publisher(source: str = "coverage", area: str = "24615") -> Publisher:
    return Publisher("probe-7", source, area, "", datetime(2026, 1, 1, tzinfo=UTC), None)


def test_without_tls_the_broker_is_the_services_own_plain_address() -> None:
    broker = BrokerAddress.from_settings(SharedSettings(mqtt_host="10.0.0.5", mqtt_port=1883))

    assert (broker.urls(), broker.ca_file) == (["mqtt://10.0.0.5:1883"], None)


def test_public_urls_and_ca_win_and_tls_comes_first(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text(PEM)
    settings = SharedSettings(
        mqtt_host="mosquitto",
        mqtt_port=8883,
        mqtt_tls_ca_file=tmp_path / "internal.crt",
        mqtt_public_tls_url="mqtts://mqtt.ioc.daknong.gov.vn:8883",
        mqtt_public_url="mqtt://10.20.0.4:1883",
        mqtt_public_ca_file=ca,
    )
    broker = BrokerAddress.from_settings(settings)
    kit = connection_kit(_publisher(), "p@ss 'word", broker)

    assert kit.mqtt.urls == ["mqtts://mqtt.ioc.daknong.gov.vn:8883", "mqtt://10.20.0.4:1883"]
    assert (kit.mqtt.tls_ca_file, kit.mqtt.tls_ca_pem) == (str(ca), PEM)
    argv = shlex.split(kit.commands["publish"])
    assert argv[:9] == [
        "mosquitto_pub",
        "-V",
        "mqttv5",
        "-h",
        "mqtt.ioc.daknong.gov.vn",
        "-p",
        "8883",
        "--cafile",
        str(ca),
    ]
    assert argv[argv.index("-P") + 1] == "p@ss 'word"  # quoted for the shell, whatever the password holds


def test_with_only_the_services_ca_the_tls_url_is_theirs() -> None:
    settings = SharedSettings(mqtt_host="broker.local", mqtt_port=18883, mqtt_tls_ca_file=Path("/nonexistent/ca.crt"))
    kit = connection_kit(_publisher(), "pw", BrokerAddress.from_settings(settings))

    assert kit.mqtt.urls == ["mqtts://broker.local:18883"]
    assert (kit.mqtt.tls_ca_file, kit.mqtt.tls_ca_pem) == ("/nonexistent/ca.crt", None)  # unreadable: no PEM


@pytest.mark.parametrize("bad", ["mqtt://host:1883", "https://host", "mqtts://host/path", "mqtts://ho st"])
def test_a_public_tls_url_must_be_mqtts_host_and_port(bad: str) -> None:
    with pytest.raises(ValueError, match="mqtt_public_tls_url"):
        SharedSettings(mqtt_public_tls_url=bad)


@pytest.mark.parametrize(
    ("source", "types"), [("coverage", {"sample"}), ("payments", {"transaction"}), ("portal", {"dossier"})]
)
def test_the_examples_are_valid_for_the_publishers_own_topics_and_area(source: str, types: set[str]) -> None:
    kit = connection_kit(_publisher(source, "24615-01"), "pw", BrokerAddress(None, "mqtt://h:1883", None))

    assert set(kit.examples) == types
    now = datetime.now(UTC)
    for event_type, payload in {**kit.examples, "status": kit.status.online}.items():
        decoded = decode(kit.topics[event_type], json.dumps(payload).encode(), now=now, max_future_skew=timedelta(0))
        assert decoded.topic.publisher_id == "probe-7"
    assert {p["area_code"] for p in kit.examples.values()} == {"24615-01"}
    assert kit.topics["feedback"] == "ioc/feedback/v1/probe-7"
    published = shlex.split(kit.commands["publish"])
    assert json.loads(published[published.index("-m") + 1]) == next(iter(kit.examples.values()))
    assert "-r" in shlex.split(kit.commands["status"])


def test_the_text_says_mqtt_5_and_why_and_shows_the_password_once_outside_the_commands() -> None:
    kit = connection_kit(_publisher(), "Secret-Pw_1", BrokerAddress(None, "mqtt://h:1883", None))
    text = render_text(kit)

    assert "0x87" in text
    assert "MQTT 3.1.1" in text
    assert text.count("password:     Secret-Pw_1") == 1


def test_a_tls_broker_with_a_public_certificate_is_verified_against_the_devices_own_cas() -> None:
    kit = connection_kit(_publisher(), "pw", BrokerAddress("mqtts://mqtt.example.vn", None, None))

    argv = shlex.split(kit.commands["publish"])
    assert argv[3:9] == ["-h", "mqtt.example.vn", "-p", "8883", "--capath", "/etc/ssl/certs"]
    assert "TLS CA:       a public CA" in render_text(kit)
