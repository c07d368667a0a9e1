"""Trust, the operator's side (issue 20, items 11 and 12): ports an outgoing connection can never take,
a port taken by a stranger named with its holder, and a wall served on any port that opens its own
websocket while other pages are refused."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from api.http.auth.keys import ApiKeyRepository, Scope
from deploy.settings import Settings
from deploy.stack.manager import LocalStack
from tests.fixtures.api import api_process
from tests.fixtures.ingest import free_port
from tests.fixtures.ports import ephemeral_range, held_by_other_process
from tests.fixtures.stack import IsolatedDatabase, cli_environment
from tests.verify.report import ScenarioResult

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
_PORT_FIELDS = ("containerPort", "port", "targetPort")


def _deployment_ports() -> dict[str, int]:
    """Every port the compose file publishes and every port a Kubernetes manifest names."""
    found: dict[str, int] = {}
    compose = yaml.safe_load((ROOT / "deploy/compose/compose.yaml").read_text())
    for name, service in compose["services"].items():
        for mapping in service.get("ports", []):
            for number in re.findall(r"\d+", str(mapping).rsplit("/", 1)[0].split(":", 1)[-1]):
                found[f"compose {name} {mapping}"] = int(number)

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _PORT_FIELDS and isinstance(value, int):
                    found[f"{where} {key}"] = value
                walk(value, where)
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    for manifest in sorted((ROOT / "deploy/k8s").rglob("*.yaml")):
        for document in yaml.safe_load_all(manifest.read_text()):
            walk(document, str(manifest.relative_to(ROOT)))
    return found


def test_default_ports_sit_below_the_ephemeral_range_and_a_taken_port_names_its_holder(
    stack: LocalStack, scenario: ScenarioResult
) -> None:
    scenario.scenario = "Trust: default ports below Linux's ephemeral range; a taken port names its holder"
    low, high = ephemeral_range()
    defaults = {name: int(field.default) for name, field in Settings.model_fields.items() if name.endswith("_port")}
    deployed = _deployment_ports()
    scenario.load = f"{len(defaults)} default ports, {len(deployed)} deployment ports; ephemeral range {low}–{high}"
    above = {name: port for name, port in {**defaults, **deployed}.items() if port >= min(low, 32768)}
    assert above == {}
    # A stray program on the ingest's health port: `ioc services start` says who holds it, and stops there.
    port = free_port()
    env = cli_environment(stack, IOC_INGEST_HEALTH_PORT=str(port))
    with held_by_other_process(port) as holder:
        started = subprocess.run(
            [sys.executable, "-m", "cli", "services", "start"], env=env, capture_output=True, text=True, timeout=60
        )
    assert started.returncode == 1
    assert f"ingest: not started: port {port} is taken: pid {holder.pid} (" in started.stderr
    scenario.measure("ports at or above the range", len(above))
    scenario.measure("holder named", 1)


def _open(base_url: str, origin: str) -> Any:
    return connect(base_url.replace("http://", "ws://") + "/ws/kpis", origin=origin, open_timeout=5)  # type: ignore[arg-type]


def _ready(ws: Any, base_url: str, key: str) -> bool:
    ticket = httpx.post(f"{base_url}/api/v1/ws-tickets", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    ws.send(json.dumps({"type": "auth", "ticket": ticket.json()["ticket"]}))
    return bool(json.loads(ws.recv(timeout=5)) == {"type": "ready", "key": "trust-wall"})


def test_a_wall_served_on_any_port_opens_its_websocket_and_other_pages_are_refused(
    stack: LocalStack, database: IsolatedDatabase, redis_url: str, scenario: ScenarioResult
) -> None:
    scenario.scenario = "Trust: a wall served on any port opens its own websocket; other origins are refused"
    with database.connect() as conn:
        key = ApiKeyRepository(conn).create("trust-wall", Scope.READ)
    public = "https://ioc.example.gov.vn"
    with api_process(stack, database, redis_url, IOC_API_PUBLIC_URL=public) as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        scenario.load = f"`ioc api` on port {port}, IOC_API_ALLOWED_ORIGINS unset, IOC_API_PUBLIC_URL {public}"
        allowed = [base_url, f"http://localhost:{port}", public]
        for origin in allowed:
            with _open(base_url, origin) as ws:
                assert _ready(ws, base_url, key), origin
        # The old fixed default (the wall of a stack on :58080), the same host on another port, a stranger.
        refused = ["http://127.0.0.1:58080", f"http://127.0.0.1:{port + 1}", "https://evil.example"]
        for origin in refused:
            with pytest.raises(InvalidStatus) as answer:
                _open(base_url, origin)
            assert answer.value.response.status_code == 403, origin
    scenario.measure("origins allowed", len(allowed))
    scenario.measure("origins refused with 403", len(refused))
