"""A service's health and metrics over HTTP: `GET /health` (JSON) and `GET /metrics` (ingest, streams)."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal, Protocol

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

HealthState = Literal["ok", "degraded", "down"]


@dataclass(frozen=True, slots=True)
class IngestHealth:
    status: HealthState
    database: HealthState
    broker: HealthState
    reasons: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return asdict(self)


class HealthReport(Protocol):
    """What a service's `/health` answers: an overall status, and details as JSON."""

    @property
    def status(self) -> HealthState: ...

    def to_json(self) -> dict[str, object]: ...


def is_healthy(port: int, host: str = "127.0.0.1", path: str = "/health") -> bool:
    """True when the service (ingest, streams or the API) on `port` answers `path` with status ok."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=1) as response:
            return bool(json.load(response)["status"] == "ok")
    except OSError:
        return False


class HealthServer:
    """Serves until `stop()`; binds to loopback unless told otherwise."""

    def __init__(
        self,
        port: int,
        health: Callable[[], HealthReport],
        registry: CollectorRegistry,
        host: str = "127.0.0.1",
        name: str = "health",
    ) -> None:
        handler = _handler(health, registry)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name=name, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler(health: Callable[[], HealthReport], registry: CollectorRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/health":
                report = health()
                body = json.dumps(report.to_json()).encode()
                self._send(200 if report.status == "ok" else 503, "application/json", body)
            elif self.path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, generate_latest(registry))
            else:
                self._send(404, "application/json", b'{"error": "not_found"}')

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # scrapes every few seconds would drown the service log

    return Handler
