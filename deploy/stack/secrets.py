"""Passwords the local stack generates once and keeps in `<home>/secrets.json` (mode 0600).

A stack made by an earlier release lacks the newer ones: they are added, the others kept."""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from dataclasses import dataclass, fields
from pathlib import Path


@dataclass(frozen=True, slots=True)
class StackSecrets:
    postgres_password: str
    redis_password: str
    mqtt_service_password: str
    # The broker's admin account (the dynamic-security control topic): `ioc publishers`, the API.
    mqtt_admin_password: str


def load_or_create_secrets(path: Path) -> StackSecrets:
    # Under a lock: two processes starting on an older stack must not each invent a different password.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        text = handle.read()
        kept: dict[str, str] = json.loads(text) if text.strip() else {}
        values = {f.name: kept.get(f.name) or secrets.token_urlsafe(24) for f in fields(StackSecrets)}
        if kept != values:
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(values, indent=2) + "\n")
    return StackSecrets(**values)
