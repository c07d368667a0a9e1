"""Passwords the local stack generates once and keeps in `<home>/secrets.json` (mode 0600)."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class StackSecrets:
    postgres_password: str
    redis_password: str
    mqtt_service_password: str


def load_or_create_secrets(path: Path) -> StackSecrets:
    if path.exists():
        return StackSecrets(**json.loads(path.read_text()))
    created = StackSecrets(
        postgres_password=secrets.token_urlsafe(24),
        redis_password=secrets.token_urlsafe(24),
        mqtt_service_password=secrets.token_urlsafe(24),
    )
    path.touch(mode=0o600)
    path.write_text(json.dumps(asdict(created), indent=2) + "\n")
    return created
