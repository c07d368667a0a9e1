"""Event payloads for integration tests: valid by default, with any field overridable.

The payloads themselves come from the contract's examples (`ingest.contract.examples`); this keeps
the tests' conventions: an event five seconds old, a village on every sample, a dossier due in ten
days, and `at` for the time the event happened.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from deploy.settings import Settings
from ingest.contract import examples
from ingest.service.classify import IntakeRules

Json = dict[str, object]


def _envelope(area_code: str, seq: int | None, at: datetime | None) -> Json:
    body: Json = {"occurred_at": at or datetime.now(UTC) - timedelta(seconds=5), "area_code": area_code}
    if seq is not None:
        body["seq"] = seq
    return body


def dossier(area_code: str = "24611", seq: int | None = None, at: datetime | None = None, **o: object) -> Json:
    due_at = datetime.now(UTC) + timedelta(days=10)
    return examples.dossier(**_envelope(area_code, seq, at) | {"due_at": due_at} | o)


def transaction(area_code: str = "24611", seq: int | None = None, at: datetime | None = None, **o: object) -> Json:
    return examples.transaction(**_envelope(area_code, seq, at) | o)


def sample(area_code: str = "24611", seq: int | None = None, at: datetime | None = None, **o: object) -> Json:
    return examples.sample(**_envelope(area_code, seq, at) | {"village": "Bon Bu Prăng"} | o)


def status(state: str = "online", at: datetime | None = None) -> Json:
    return examples.status(state=state, at=at or datetime.now(UTC))


def encode(body: Json) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def intake_rules() -> IntakeRules:
    """What `ioc ingest` accepts with its default settings (future skew, payload size, age)."""
    return IntakeRules.from_settings(Settings())
