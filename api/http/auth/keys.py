"""API keys: generated here, stored as a SHA-256 of their secret (all their SQL is in this module).

A key reads `ioc_<prefix>_<secret>`: the prefix finds the row, the secret (32 random bytes) is
compared by hash in constant time. A fast hash is enough because the secret is random, not a
password a person chose.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

import psycopg

from runtime.errors import Conflict

_KEY = re.compile(r"^ioc_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class Scope(IntEnum):
    """Each scope includes the ones below it."""

    READ = 1
    OPERATE = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Scope:
        return cls[text.upper()]


@dataclass(frozen=True, slots=True)
class ApiKey:
    name: str
    scope: Scope
    created_at: datetime
    revoked_at: datetime | None


class KeyNameTaken(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(f"an API key named {name} exists already", kind="API key", key=name)


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


class ApiKeyRepository:
    def __init__(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        self._conn = conn

    def create(self, name: str, scope: Scope) -> str:
        """A new key, returned once (only its hash is kept)."""
        if not NAME.fullmatch(name):
            raise ValueError(f"key names match {NAME.pattern}")
        prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        try:
            self._conn.execute(
                "INSERT INTO api_keys (name, scope, prefix, secret_hash) VALUES (%s, %s, %s, %s)",
                (name, scope.label, prefix, _hash(secret)),
            )
        except psycopg.errors.UniqueViolation:
            raise KeyNameTaken(name) from None
        return f"ioc_{prefix}_{secret}"

    def authenticate(self, key: str) -> ApiKey | None:
        """The key's record if it is a current key; None for anything else (malformed, unknown, revoked)."""
        match = _KEY.fullmatch(key)
        if match is None:
            return None
        prefix, secret = match.groups()
        row = self._conn.execute(
            "SELECT name, scope, created_at, revoked_at, secret_hash FROM api_keys WHERE prefix = %s", (prefix,)
        ).fetchone()
        if row is None:
            return None
        name, scope, created_at, revoked_at, stored = row
        assert isinstance(stored, bytes)
        assert isinstance(created_at, datetime)
        if revoked_at is not None or not hmac.compare_digest(stored, _hash(secret)):
            return None
        return ApiKey(str(name), Scope.parse(str(scope)), created_at, None)

    def revoke(self, name: str) -> bool:
        cur = self._conn.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE name = %s AND revoked_at IS NULL", (name,)
        )
        return cur.rowcount == 1

    def active_among(self, names: Collection[str]) -> set[str]:
        """Those of `names` that are current keys (neither revoked nor unknown)."""
        rows = self._conn.execute(
            "SELECT name FROM api_keys WHERE name = ANY(%s) AND revoked_at IS NULL", (list(names),)
        ).fetchall()
        return {str(name) for (name,) in rows}

    def list(self) -> list[ApiKey]:
        rows = self._conn.execute("SELECT name, scope, created_at, revoked_at FROM api_keys ORDER BY name").fetchall()
        return [ApiKey(str(n), Scope.parse(str(s)), c, r) for n, s, c, r in rows]  # type: ignore[arg-type]
