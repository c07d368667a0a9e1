"""TLS: clients verify the broker against the configured CA and its host name, and nothing turns that off."""

from __future__ import annotations

import gc
import json
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from deploy.settings import Settings
from deploy.stack.manager import LocalStack
from deploy.stack.mosquitto import MONITOR_USERNAME, MosquittoService, probe_connect
from ingest.mqtt.source import MqttSource, MqttSourceConfig
from ingest.records import RawMessage
from ingest.registry.connection_kit import BrokerAddress, connection_kit
from ingest.registry.publishers import Publisher as RegisteredPublisher
from publisher import Publisher, PublisherConfig
from runtime.tls import CertificateFiles, ensure_local_certificates, mqtt_client_context, sign_server_certificate
from tests.fixtures.ingest import free_port
from tests.fixtures.stack import IsolatedDatabase, cli_environment

ROOT = Path(__file__).resolve().parents[2]
# What turns verification off in ssl, paho, httpx/requests and psycopg (sslmode below verify-*
# is a server choice in a DSN, not code). Matched in the code of every package the system ships.
DISABLING_PATTERNS = {
    "CERT_NONE": re.compile(r"\bCERT_NONE\b"),
    "check_hostname = False": re.compile(r"check_hostname\s*=\s*False"),
    "tls_insecure_set(True)": re.compile(r"tls_insecure_set\(\s*True\s*\)"),
    "verify=False": re.compile(r"verify\s*=\s*False"),
    "_create_unverified_context": re.compile(r"_create_unverified_context"),
}


def test_nothing_in_the_code_disables_certificate_verification() -> None:
    found = []
    for package in ("ingest", "api", "streams", "deploy", "dashboards"):
        for path in sorted((ROOT / package).rglob("*")):
            if path.suffix not in {".py", ".sh", ".conf", ".yaml", ".js", ".mjs"} or "__pycache__" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            found += [f"{path.relative_to(ROOT)}: {name}" for name, p in DISABLING_PATTERNS.items() if p.search(text)]
    assert found == []


def test_the_client_context_verifies_the_chain_and_the_host_name(tmp_path: Path) -> None:
    assert mqtt_client_context(Settings()) is None  # TLS only when configured
    certificates = ensure_local_certificates(tmp_path)
    context = mqtt_client_context(Settings(mqtt_tls_ca_file=certificates.ca_cert))
    assert context is not None
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.minimum_version is ssl.TLSVersion.TLSv1_2


@pytest.fixture(scope="module")
def certificates(stack: LocalStack) -> Iterator[CertificateFiles]:
    # Under the stack's service directory: reachable by the broker's user, as the stack's own files.
    directory = stack.paths.services / f"tls-test-{id(stack)}"
    yield ensure_local_certificates(directory / "ca")
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def tls_broker(stack: LocalStack, certificates: CertificateFiles) -> Iterator[MosquittoService]:
    directory = certificates.ca_cert.parents[1] / "mosquitto"
    broker = MosquittoService(directory, free_port(), "service-pw", "admin-pw", certificates)
    broker.start()  # returns once the stack's own probe connected over TLS, verifying the CA
    yield broker
    broker.stop()


@pytest.mark.integration
@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_a_client_verifying_against_the_generated_ca_connects(
    tls_broker: MosquittoService, certificates: CertificateFiles, host: str
) -> None:
    context = mqtt_client_context(Settings(mqtt_tls_ca_file=certificates.ca_cert))
    port = int(tls_broker.address.rsplit(":", 1)[1])
    assert probe_connect(port, MONITOR_USERNAME, "service-pw", tls=context, host=host) is None
    # The listener speaks TLS only: a plain client gets no CONNACK.
    assert probe_connect(port, MONITOR_USERNAME, "service-pw", timeout=1.0) is not None


@pytest.mark.integration
def test_ingest_receives_over_tls(tls_broker: MosquittoService, certificates: CertificateFiles) -> None:
    settings = Settings(mqtt_tls_ca_file=certificates.ca_cert)
    port = int(tls_broker.address.rsplit(":", 1)[1])
    tls_broker.accounts.set_publisher("tls-probe", "portal", "probe-pw")  # over the control topic, verifying the CA
    received: list[RawMessage] = []
    config = MqttSourceConfig(
        host="localhost", port=port, username="ioc-ingest", password="service-pw",
        subscription="$share/ingest/ioc/v1/#", stale_subscription="ioc/v1/#", keepalive_seconds=30,
        tls=mqtt_client_context(settings),
    )  # fmt: skip
    source = MqttSource(config, received.append)
    source.start()
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="tls-probe", protocol=mqtt.MQTTv311)
    context = mqtt_client_context(settings)
    assert context is not None
    publisher.tls_set_context(context)
    publisher.username_pw_set("tls-probe", "probe-pw")
    publisher.connect("localhost", port)
    publisher.loop_start()
    try:
        deadline = time.monotonic() + 10
        while not source.connected and time.monotonic() < deadline:
            source.poll(0.05)
        publisher.publish("ioc/v1/portal/tls-probe/dossier", b"{}", qos=1).wait_for_publish(5)
        while not received and time.monotonic() < deadline:
            source.poll(0.05)
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        source.stop()
    assert [(m.topic, m.payload) for m in received] == [("ioc/v1/portal/tls-probe/dossier", b"{}")]


@contextmanager
def tls_server(cert: Path, key: Path) -> Iterator[int]:
    """A TLS listener that only handshakes: the client's verdict is what the tests look at."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve() -> None:
        try:
            conn, _ = listener.accept()
            with conn, context.wrap_socket(conn, server_side=True):
                pass
        except (OSError, ssl.SSLError):
            pass  # the client refused the certificate: expected

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        thread.join(10)
        listener.close()


# paho leaves the socket of a failed handshake to the collector (it raises before keeping it), which
# Python reports as an unraisable ResourceWarning: that is paho's, and the refusal is what we test.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize(
    ("names", "self_signed", "refusal"),
    [
        (("mqtt.example.invalid",), False, "Hostname mismatch, certificate is not valid for 'localhost'"),
        (("localhost", "127.0.0.1"), True, "self-signed certificate"),
    ],
    ids=["wrong-hostname", "self-signed"],
)
def test_a_certificate_the_ca_did_not_issue_for_this_host_is_refused(
    tmp_path: Path, names: tuple[str, ...], self_signed: bool, refusal: str
) -> None:
    ca = ensure_local_certificates(tmp_path / "ca")
    cert, key = tmp_path / "other.crt", tmp_path / "other.key"
    sign_server_certificate(ca.ca_cert, tmp_path / "ca" / "ca.key", cert, key, names, self_signed=self_signed)
    context = mqtt_client_context(Settings(mqtt_tls_ca_file=ca.ca_cert))
    with tls_server(cert, key) as port:
        reason = probe_connect(port, "anyone", "pw", timeout=2.0, tls=context, host="localhost")
    assert reason is not None
    assert "certificate verify failed" in reason
    assert refusal in reason


@pytest.mark.integration
def test_the_api_serves_https_with_the_configured_certificate(
    stack: LocalStack, database: IsolatedDatabase, redis_url: str, certificates: CertificateFiles
) -> None:
    port = free_port()
    env = cli_environment(
        stack, IOC_DATABASE_URL=database.url, IOC_REDIS_URL=redis_url, IOC_API_PORT=str(port),
        IOC_API_OPS_PORT=str(free_port()),
        IOC_API_TLS_CERT_FILE=str(certificates.cert), IOC_API_TLS_KEY_FILE=str(certificates.key),
    )  # fmt: skip
    process = subprocess.Popen([sys.executable, "-m", "cli", "api"], env=env, stderr=subprocess.DEVNULL)
    trusting = ssl.create_default_context(cafile=str(certificates.ca_cert))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"https://localhost:{port}/openapi.json", verify=trusting, timeout=2)
                break
            except httpx.ConnectError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert response.status_code == 200
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"https://localhost:{port}/openapi.json", timeout=2)  # the system's CAs do not know ours
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(f"http://localhost:{port}/openapi.json", timeout=2)  # no plain HTTP on the TLS port
    finally:
        process.terminate()
        process.wait(30)


def test_the_stack_in_tls_mode_hands_its_clients_the_ca_and_https(tmp_path: Path) -> None:
    local = LocalStack(Settings(home=tmp_path / "home", tls=True, api_port=18999))
    plain = LocalStack(Settings(home=tmp_path / "plain"))
    try:
        env = local.environment()
        ca = str(tmp_path / "home" / "tls" / "ca.crt")
        assert {k: env[k] for k in ("IOC_TLS", "IOC_MQTT_TLS_CA_FILE", "IOC_API_URL")} == {
            "IOC_TLS": "true",
            "IOC_MQTT_TLS_CA_FILE": ca,
            "IOC_API_URL": "https://127.0.0.1:18999",
        }
        assert local.connected_settings().mqtt_tls_ca_file == Path(ca)
        assert "IOC_TLS" not in plain.environment()
    finally:
        for stack in (local, plain):  # service data may live under /var/tmp (a root-only tmp_path)
            shutil.rmtree(stack.paths.services, ignore_errors=True)


@pytest.mark.integration
def test_the_connection_kits_tls_command_reaches_the_ingest(
    tls_broker: MosquittoService, certificates: CertificateFiles
) -> None:
    """The kit's `mosquitto_pub -V mqttv5 … --cafile` line, run as printed, over TLS verifying the CA."""
    port = int(tls_broker.address.rsplit(":", 1)[1])
    tls_broker.accounts.set_publisher("tls-counter", "payments", "counter-pw")
    registered = RegisteredPublisher("tls-counter", "payments", "24611", "", datetime.now(UTC), None)
    broker = BrokerAddress(f"mqtts://localhost:{port}", None, certificates.ca_cert)
    kit = connection_kit(registered, "counter-pw", broker)
    assert kit.mqtt.tls_ca_pem == certificates.ca_cert.read_text()
    received: list[RawMessage] = []
    config = MqttSourceConfig(
        host="localhost", port=port, username="ioc-ingest", password="service-pw",
        subscription="ioc/v1/#", stale_subscription="$share/ingest/ioc/v1/#", keepalive_seconds=30,
        tls=mqtt_client_context(Settings(mqtt_tls_ca_file=certificates.ca_cert)),
    )  # fmt: skip
    source = MqttSource(config, received.append)
    source.start()
    try:
        deadline = time.monotonic() + 10
        while not source.connected and time.monotonic() < deadline:
            source.poll(0.05)
        sent = subprocess.run(shlex.split(kit.commands["publish"]), capture_output=True, text=True, timeout=30)
        assert sent.returncode == 0, sent.stderr
        # The earlier test's session left its message unacknowledged: the broker delivers it again.
        while not [m for m in received if m.topic.startswith("ioc/v1/payments/")] and time.monotonic() < deadline:
            source.poll(0.05)
    finally:
        source.stop()
    mine = [m for m in received if m.topic.startswith("ioc/v1/payments/")]
    assert [(m.topic, json.loads(m.payload)) for m in mine] == [
        ("ioc/v1/payments/tls-counter/transaction", kit.examples["transaction"])
    ]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # paho leaves the refused socket
def test_the_publisher_library_publishes_over_tls_and_refuses_a_broker_its_ca_did_not_certify(
    tls_broker: MosquittoService, certificates: CertificateFiles, tmp_path: Path
) -> None:
    port = int(tls_broker.address.rsplit(":", 1)[1])
    tls_broker.accounts.set_publisher("tls-library", "coverage", "library-pw")
    sample = {
        "operator": "vnpt", "technology": "4g", "download_mbps": 8.0, "upload_mbps": 2.0, "latency_ms": 60.0,
        "packet_loss_pct": 1.0,
    }  # fmt: skip
    stranger = ensure_local_certificates(tmp_path / "stranger")  # a CA that did not issue the broker's certificate
    wary = Publisher(PublisherConfig("tls-library", "library-pw", "coverage", host="localhost", port=port,
                                     ca_file=str(stranger.ca_cert)))  # fmt: skip
    wary.start()
    assert not wary.wait_connected(3)
    wary.stop(drain_seconds=0)
    gc.collect()  # the unclosed socket's warning, here and not in a later test

    config = PublisherConfig(
        "tls-library", "library-pw", "coverage", host="localhost", port=port, ca_file=str(certificates.ca_cert),
        queue_dir=tmp_path / "queue",
    )  # fmt: skip
    publisher = Publisher(config).start()
    try:
        assert publisher.wait_connected(10)
        publisher.publish("sample", "24611", sample)
        assert publisher.wait_drained(10)
    finally:
        publisher.stop(clear_status=True)
    assert (publisher.stats.acknowledged, publisher.stats.refused, publisher.stats.pending) == (1, 0, 0)
