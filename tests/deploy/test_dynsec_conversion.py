"""An existing local stack keeps its broker accounts across the move to dynamic security: `ioc stack up`
stops a broker of an earlier release, converts its password-file accounts once (each keeps its password),
and every publisher gets a role of its own."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from deploy.stack.dynsec_file import DYNSEC_FILE, LEGACY_FILES, StoredPassword, dynsec_config
from deploy.stack.manager import LocalStack
from deploy.stack.mosquitto import MosquittoService
from deploy.stack.paths import MOSQUITTO_USER, chown_to
from deploy.stack.service import read_pid, terminate
from ingest.broker.roles import ServiceRole
from tests.fixtures.ingest import free_port, wait_for
from tests.fixtures.mqtt import BlockingClient, open_client

# What an earlier release wrote beside its broker: accounts.json, and from it the password and ACL files.
_OLD_CONFIG = """\
per_listener_settings false
allow_anonymous false
password_file {dir}/passwd
acl_file {dir}/acl
pid_file {dir}/mosquitto.pid
listener {port} 127.0.0.1
use_username_as_clientid true
"""
_OLD_ACL = "pattern write ioc/v1/+/%u/#\n\nuser old-ingest\ntopic read ioc/v1/#\n"
OLD = {"desk-1": ("pw-desk", "publisher"), "probe-9": ("pw-probe", "publisher"), "old-ingest": ("pw-ing", "ingest")}


def mosquitto_hash(directory: Path, username: str, password: str) -> str:
    """The `$7$` line Mosquitto's own tool writes (as the earlier release's did)."""
    scratch = directory / "scratch-passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(scratch), username, password], check=True)
    line = scratch.read_text().strip()
    scratch.unlink()
    return line.split(":", 1)[1]


def test_a_mosquitto_hash_maps_onto_the_plugins_fields(tmp_path: Path) -> None:
    hashed = mosquitto_hash(tmp_path, "desk-1", "s3cret")
    stored = StoredPassword.from_mosquitto_hash(hashed)
    _, _, iterations, salt, key = hashed.split("$")
    assert (stored.password, stored.salt, stored.iterations) == (key, salt, int(iterations))
    for bad in ("plain", "$6$rounds$salt$key", "$7$x$salt$key", ""):
        with pytest.raises(ValueError, match="not a Mosquitto"):
            StoredPassword.from_mosquitto_hash(bad)


def test_the_converted_file_gives_each_account_its_role_and_skips_what_it_cannot_trust(tmp_path: Path) -> None:
    good = mosquitto_hash(tmp_path, "x", "y")
    legacy = {
        "desk-1": {"role": "publisher", "hash": good},
        "probe-9": {"role": "publisher", "hash": good},
        "old-ingest": {"role": "ingest", "hash": good},
        "pub+evil": {"role": "publisher", "hash": good},  # planted by hand: a wildcard in a topic
        "ioc-fake": {"role": "publisher", "hash": good},  # a system name
        "bad-hash": {"role": "publisher", "hash": "$6$nope"},
        "who-knows": {"role": "superuser", "hash": good},
    }
    config = dynsec_config("ioc-admin", StoredPassword.of("admin"), legacy, lambda: {"desk-1": "portal"})
    clients = {c["username"]: c["roles"] for c in config["clients"]}  # type: ignore[attr-defined]
    assert clients == {
        "ioc-admin": [{"rolename": "ioc-admin"}],
        "desk-1": [{"rolename": "publisher-desk-1"}],
        "old-ingest": [{"rolename": "ioc-ingest"}],
        "probe-9": [{"rolename": "publisher-probe-9"}],
    }
    roles = {r["rolename"]: r["acls"] for r in config["roles"]}  # type: ignore[attr-defined]
    # Its source from the stack's database; without a row there, any source but only its own id.
    # And its own feedback topic to read (subscribe literally, be delivered to).
    assert [a["topic"] for a in roles["publisher-desk-1"]] == [
        "ioc/v1/portal/desk-1/#",
        *["ioc/feedback/v1/desk-1"] * 2,
    ]
    assert [a["topic"] for a in roles["publisher-probe-9"]] == ["ioc/v1/+/probe-9/#", *["ioc/feedback/v1/probe-9"] * 2]
    assert config["defaultACLAccess"] == {
        "publishClientSend": False, "publishClientReceive": False, "subscribe": False, "unsubscribe": True,
    }  # fmt: skip


@pytest.fixture
def old_broker_directory(stack: LocalStack) -> Iterator[tuple[Path, int]]:
    """A broker of the earlier release, running, with its accounts in a password file."""
    directory = stack.paths.services / f"conversion-test-{free_port()}"
    directory.mkdir()
    port = free_port()
    accounts = {u: {"role": role, "hash": mosquitto_hash(directory, u, pw)} for u, (pw, role) in OLD.items()}
    (directory / "accounts.json").write_text(json.dumps(accounts))
    (directory / "passwd").write_text("".join(f"{u}:{a['hash']}\n" for u, a in accounts.items()))
    (directory / "acl").write_text(_OLD_ACL)
    (directory / "old.conf").write_text(_OLD_CONFIG.format(dir=directory, port=port))
    chown_to(MOSQUITTO_USER, directory)
    subprocess.run(["mosquitto", "-d", "-c", str(directory / "old.conf")], check=True)
    yield directory, port
    terminate(directory / "mosquitto.pid", "mosquitto")
    shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.integration
def test_stack_up_converts_a_running_older_broker_once_keeping_every_password(
    stack: LocalStack, old_broker_directory: tuple[Path, int], mqtt_clients: list[BlockingClient]
) -> None:
    directory, port = old_broker_directory
    assert wait_for(lambda: read_pid(directory / "mosquitto.pid", "mosquitto") is not None, timeout=5)
    old_pid = read_pid(directory / "mosquitto.pid", "mosquitto")
    broker = MosquittoService(directory, port, "service-pw", "admin-pw", publisher_sources=lambda: {"desk-1": "portal"})
    broker.start()
    try:
        assert read_pid(directory / "mosquitto.pid", "mosquitto") not in (None, old_pid)  # stopped, then started
        assert (directory / DYNSEC_FILE).exists()
        assert [name for name in LEGACY_FILES if (directory / name).exists()] == []

        def connect(username: str, protocol: mqtt.MQTTProtocolVersion = mqtt.MQTTv5) -> BlockingClient:
            client = open_client(stack, username, OLD[username][0], protocol=protocol, port=port)
            mqtt_clients.append(client)
            assert not client.wait_connected().is_failure, username
            return client

        desk = connect("desk-1")
        assert [desk.publish(t, b"{}").rc for t in ("ioc/v1/portal/desk-1/dossier",)] == [0]
        refused = desk.publish("ioc/v1/payments/desk-1/transaction", b"{}")
        assert desk.publish_codes[refused.mid].value == 0x87
        desk.subscribe("$share/ingest/ioc/v1/#")
        assert desk.subscribe_codes[-1][0].value == 0x87
        probe = connect("probe-9")
        assert probe.publish_codes[probe.publish("ioc/v1/coverage/probe-9/sample", b"{}").mid].value in (0, 0x10)
        reader = connect("old-ingest", mqtt.MQTTv311)
        reader.subscribe("$share/ingest/ioc/v1/#")
        assert reader.subscribe_codes[-1][0].value == 1
        # Once: the next start keeps the file (and every account made since) as it is.
        broker.accounts.set_publisher("desk-2", "payments", "pw-2")
        broker.stop()
        broker.start()
        assert set(broker.accounts.usernames()) >= {"desk-1", "desk-2", "probe-9", "old-ingest", "ioc-sweeper"}
        assert broker.accounts.client("ioc-ingest") is not None
        assert broker.accounts.client("old-ingest").roles == (ServiceRole.INGEST.value,)  # type: ignore[union-attr]
    finally:
        broker.stop()
