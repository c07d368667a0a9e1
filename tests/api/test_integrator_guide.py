"""docs/integrators.md, followed literally: the connection kit of `ioc publishers add --format json`, its
`mosquitto_pub` line on the real broker, and the event on the KPIs through the API; then every mistake a
publisher can make, answered the same by the validate endpoint (nothing stored) and on its feedback topic."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest

from api.http.auth.keys import ApiKeyRepository, Scope
from deploy.stack.manager import LocalStack
from ingest.service.stored_events_publisher import StoredEventsPublisher
from tests.fixtures.api import bearer
from tests.fixtures.ingest import RunningIngest, trace_counts, wait_for
from tests.fixtures.mqtt import open_client, unique_publisher_id
from tests.fixtures.stack import IsolatedDatabase, cli_environment
from tests.fixtures.streams import RunningEngine

pytestmark = pytest.mark.integration


def _kit_from_cli(stack: LocalStack, database: IsolatedDatabase, publisher_id: str, *args: str) -> dict[str, Any]:
    env = cli_environment(stack, IOC_DATABASE_URL=database.url)
    done = subprocess.run(
        [sys.executable, "-m", "cli", "publishers", "add", publisher_id, *args, "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    kit: dict[str, Any] = json.loads(done.stdout)
    return kit


def test_the_guide_from_the_kit_to_the_kpis(
    stack: LocalStack,
    database: IsolatedDatabase,
    db: psycopg.Connection[tuple[object, ...]],
    client: httpx.Client,
    redis_url: str,
    start_ingest: Callable[..., RunningIngest],
    start_engine: Callable[..., RunningEngine],
) -> None:
    reader = bearer(ApiKeyRepository(db).create("integrator", Scope.READ))
    publisher_id = unique_publisher_id("counter")
    kit = _kit_from_cli(stack, database, publisher_id, "--source", "payments", "--area", "24611")
    try:
        assert kit["mqtt"]["urls"] == [f"mqtt://127.0.0.1:{stack.settings.mqtt_port}"]
        assert (kit["mqtt"]["username"], kit["mqtt"]["client_id"], kit["mqtt"]["protocol_version"]) == (
            publisher_id,
            publisher_id,
            "5",
        )
        assert kit["topics"] == {
            "transaction": f"ioc/v1/payments/{publisher_id}/transaction",
            "status": f"ioc/v1/payments/{publisher_id}/status",
            "feedback": f"ioc/feedback/v1/{publisher_id}",
        }
        assert set(kit["examples"]) == {"transaction"}
        assert kit["examples"]["transaction"]["area_code"] == "24611"
        assert (kit["status"]["retain"], kit["status"]["online"]["state"], kit["status"]["last_will"]["state"]) == (
            True,
            "online",
            "offline",
        )
        publish = shlex.split(kit["commands"]["publish"])
        assert publish[:3] == ["mosquitto_pub", "-V", "mqttv5"]

        # The kit's example passes validation before it is sent (and the check stores nothing).
        before = trace_counts(db)
        example = kit["examples"]["transaction"]
        checked = client.post(
            "/api/v1/contract/validate",
            json={"topic": kit["topics"]["transaction"], "payload": example},
            headers=reader,
        )
        assert (checked.status_code, checked.json()["decision"], checked.json()["reason"]) == (200, "stored", None)
        assert trace_counts(db) == before

        start_ingest(stored_events=StoredEventsPublisher(redis_url, producer="ingest-under-test"))
        start_engine()
        sent = subprocess.run(publish, capture_output=True, text=True, timeout=30, check=False)
        assert sent.returncode == 0, sent.stderr
        status = subprocess.run(shlex.split(kit["commands"]["status"]), capture_output=True, timeout=30, check=False)
        assert status.returncode == 0, status.stderr

        def on_the_kpis() -> dict[str, Any] | None:
            answer = client.get(
                "/api/v1/kpis/current",
                params={"kpi": "payments.cashless_share", "area": "24611", "window": "5m"},
                headers=reader,
            ).json()
            return next(iter(answer["values"]), None)

        assert wait_for(lambda: on_the_kpis() is not None, timeout=20)
        frame = on_the_kpis()
        assert frame is not None
        # One QR payment of 250,000 đồng: all of the amount paid cashless.
        assert (frame["value"], frame["numerator"], frame["denominator"]) == (100.0, 250_000.0, 250_000.0)
        stored = db.execute(
            "SELECT publisher_id, area_code, amount_vnd FROM payment_transactions WHERE event_id = %s",
            (example["event_id"],),
        ).fetchall()
        assert stored == [(publisher_id, "24611", 250_000)]
        listed = {p["id"]: p for p in client.get("/api/v1/publishers", headers=reader).json()}
        assert wait_for(lambda: _status_of(client, reader, publisher_id) == "online", timeout=10)
        assert listed[publisher_id]["source"] == "payments"

        again = client.post(
            "/api/v1/contract/validate",
            json={"topic": kit["topics"]["transaction"], "payload": example},
            headers=reader,
        )
        assert (again.json()["decision"], again.json()["reason"]) == ("duplicate", None)
    finally:
        _clear_status(stack, publisher_id, kit)
        stack.mosquitto.accounts.delete(publisher_id)


def _clear_status(stack: LocalStack, publisher_id: str, kit: dict[str, Any]) -> None:
    """The retained status would otherwise reach every later test's ingest (as an unknown publisher)."""
    connection = open_client(stack, publisher_id, kit["mqtt"]["password"])
    try:
        if not connection.wait_connected().is_failure:
            connection.client.publish(kit["topics"]["status"], b"", qos=1, retain=True).wait_for_publish(5)
    finally:
        connection.close()


def _status_of(client: httpx.Client, key: dict[str, str], publisher_id: str) -> str | None:
    listed = {p["id"]: p for p in client.get("/api/v1/publishers", headers=key).json()}
    status: str | None = listed[publisher_id]["status"]
    return status


def test_the_text_kit_names_everything_and_shows_the_password_once(
    stack: LocalStack, database: IsolatedDatabase
) -> None:
    publisher_id = unique_publisher_id("probe")
    env = cli_environment(stack, IOC_DATABASE_URL=database.url)
    done = subprocess.run(
        [sys.executable, "-m", "cli", "publishers", "add", publisher_id, "--source", "coverage", "--area", "24615"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    try:
        assert done.returncode == 0, done.stderr
        text = done.stdout
        password_lines = [line for line in text.splitlines() if line.startswith("password:")]
        assert len(password_lines) == 1
        password = password_lines[0].split()[1]
        for expected in (
            f"mqtt://127.0.0.1:{stack.settings.mqtt_port}",
            f"ioc/v1/coverage/{publisher_id}/sample",
            f"ioc/v1/coverage/{publisher_id}/status",
            f"ioc/feedback/v1/{publisher_id}",
            "mosquitto_pub -V mqttv5",
            "why MQTT 5",
            '"area_code":"24615"',
        ):
            assert expected in text, expected
        assert text.count(password) == 4  # the password line and the three ready-to-run commands
    finally:
        stack.mosquitto.accounts.delete(publisher_id)


def test_the_api_returns_the_same_kit(
    stack: LocalStack, db: psycopg.Connection[tuple[object, ...]], client: httpx.Client
) -> None:
    admin = bearer(ApiKeyRepository(db).create("ops-admin", Scope.ADMIN))
    publisher_id = unique_publisher_id("portal")
    body = {"id": publisher_id, "source": "portal", "area_code": "67"}
    created = client.post("/api/v1/publishers", json=body, headers=admin)
    try:
        assert created.status_code == 201
        kit = created.json()["kit"]
        assert kit["mqtt"]["password"] == created.json()["mqtt_password"]
        assert set(kit["examples"]) == {"dossier"}
        assert kit["commands"]["publish"].startswith("mosquitto_pub -V mqttv5 ")
        assert f"-t ioc/v1/portal/{publisher_id}/dossier" in kit["commands"]["publish"]
    finally:
        stack.mosquitto.accounts.delete(publisher_id)
