"""Event payloads for integration tests: valid by default, with any field overridable."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from deploy.settings import Settings
from ingest.service.classify import IntakeRules

Json = dict[str, object]


def _envelope(area_code: str, seq: int | None, at: datetime | None) -> Json:
    occurred = at or datetime.now(UTC) - timedelta(seconds=5)
    body: Json = {"event_id": str(uuid.uuid4()), "occurred_at": occurred.isoformat(), "area_code": area_code}
    if seq is not None:
        body["seq"] = seq
    return body


def dossier(area_code: str = "24611", seq: int | None = None, at: datetime | None = None, **o: object) -> Json:
    return _envelope(area_code, seq, at) | {
        "dossier_id": f"H20.67-{uuid.uuid4().hex[:8]}", "procedure_code": "1.004227", "domain": "land",
        "status": "submitted", "channel": "online", "service_level": "full_online", "e_certified": True,
        "due_at": (datetime.now(UTC) + timedelta(days=10)).isoformat(), **o,
    }  # fmt: skip


def transaction(area_code: str = "24611", seq: int | None = None, at: datetime | None = None, **o: object) -> Json:
    return _envelope(area_code, seq, at) | {
        "sector": "health", "method": "qr", "amount_vnd": 250_000, "outcome": "succeeded", **o,
    }  # fmt: skip


def sample(area_code: str = "24611", seq: int | None = None, at: datetime | None = None, **o: object) -> Json:
    return _envelope(area_code, seq, at) | {
        "operator": "vnpt", "technology": "4g", "download_mbps": 18.5, "upload_mbps": 6.25,
        "latency_ms": 42.0, "packet_loss_pct": 0.5, "village": "Bon Bu Prăng", **o,
    }  # fmt: skip


def status(state: str = "online", at: datetime | None = None) -> Json:
    return {"state": state, "at": (at or datetime.now(UTC)).isoformat()}


def encode(body: Json) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def intake_rules() -> IntakeRules:
    """What `ioc ingest` accepts with its default settings (future skew, payload size, age)."""
    return IntakeRules.from_settings(Settings())
