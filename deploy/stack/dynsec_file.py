"""The dynamic-security plugin's file of a local stack, written once, with the broker stopped.

The only place where the code writes broker credentials to a file. It happens when a stack has no
such file: a new stack gets the admin account alone (everything else is made through the control
topic once the broker runs); a stack of an earlier release, whose accounts lived in a password file
(`accounts.json`, `passwd`, `acl`), gets every one of them converted, each keeping its password, so
nobody registers again. The control topic takes only plaintext passwords, which we never had:
Mosquitto's `$7$` hashes (PBKDF2-SHA512) map one to one onto the plugin's `password`, `salt` and
`iterations`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from deploy.stack.paths import write_owned_file
from ingest.broker.roles import (
    DEFAULT_ACL_ACCESS,
    SERVICE_ROLES,
    USERNAME_PATTERN,
    InvalidUsername,
    Role,
    ServiceRole,
    publisher_role,
)

log = logging.getLogger(__name__)

DYNSEC_FILE = "dynamic-security.json"
# What earlier releases kept beside the broker; removed once converted.
LEGACY_STATE = "accounts.json"
LEGACY_FILES = (LEGACY_STATE, "passwd", "acl", "accounts.lock")
# Mosquitto's own choice for the plugin's hashes (`mosquitto_ctrl dynsec init`): PBKDF2-SHA512, 101 rounds.
_ITERATIONS = 101
_LEGACY_ROLES = {"publisher": None, "ingest": ServiceRole.INGEST, "monitor": ServiceRole.MONITOR}

PublisherSources = Callable[[], Mapping[str, str]]


@dataclass(frozen=True, slots=True)
class StoredPassword:
    """A password as the plugin keeps it (base64 of the derived key and of the salt)."""

    password: str
    salt: str
    iterations: int

    @classmethod
    def of(cls, plaintext: str) -> StoredPassword:
        salt = secrets.token_bytes(12)
        digest = hashlib.pbkdf2_hmac("sha512", plaintext.encode(), salt, _ITERATIONS, 64)
        return cls(base64.b64encode(digest).decode(), base64.b64encode(salt).decode(), _ITERATIONS)

    @classmethod
    def from_mosquitto_hash(cls, hashed: str) -> StoredPassword:
        """`$7$<iterations>$<salt>$<key>`, the password file's line after the username."""
        parts = hashed.split("$")
        if len(parts) != 5 or parts[:2] != ["", "7"] or not parts[2].isdigit():
            raise ValueError("not a Mosquitto $7$ (PBKDF2-SHA512) hash")
        return cls(password=parts[4], salt=parts[3], iterations=int(parts[2]))


def prepare_dynsec_file(
    directory: Path, admin_username: str, admin_password: str, publisher_sources: PublisherSources, owner: str | None
) -> None:
    """Write the plugin's file if the stack has none (the broker must be stopped); then drop the legacy files."""
    target = directory / DYNSEC_FILE
    if target.exists():
        return
    legacy = _read_legacy(directory / LEGACY_STATE)
    sources = publisher_sources if legacy else dict
    config = dynsec_config(admin_username, StoredPassword.of(admin_password), legacy, sources)
    write_owned_file(target, json.dumps(config, indent=1) + "\n", owner)
    if legacy:
        log.info("converted %d broker accounts from the password file to dynamic security", len(legacy))
    for name in LEGACY_FILES:
        (directory / name).unlink(missing_ok=True)


def dynsec_config(
    admin_username: str,
    admin: StoredPassword,
    legacy: Mapping[str, Mapping[str, str]],
    publisher_sources: PublisherSources,
) -> dict[str, object]:
    """The plugin's whole configuration: the admin, the converted accounts, the roles they need."""
    roles: dict[str, Role] = {SERVICE_ROLES[r].name: SERVICE_ROLES[r] for r in ServiceRole}
    clients = [_client(admin_username, admin, ServiceRole.ADMIN.value)]
    sources = publisher_sources()
    for username, account in sorted(legacy.items()):
        try:
            role = _legacy_role(username, account.get("role", ""), sources)
            stored = StoredPassword.from_mosquitto_hash(account.get("hash", ""))
        except (InvalidUsername, ValueError) as exc:
            log.warning("broker account %r not converted: %s", username, exc)
            continue
        roles[role.name] = role
        clients.append(_client(username, stored, role.name))
    return {
        "defaultACLAccess": dict(DEFAULT_ACL_ACCESS),
        "clients": clients,
        "groups": [],
        "roles": [{"rolename": r.name, "acls": [a.as_command() for a in r.acls]} for r in roles.values()],
    }


def _legacy_role(username: str, kind: str, sources: Mapping[str, str]) -> Role:
    if not USERNAME_PATTERN.fullmatch(username):
        raise InvalidUsername(username)
    if kind not in _LEGACY_ROLES:
        raise ValueError(f"unknown role {kind!r}")
    service = _LEGACY_ROLES[kind]
    # A publisher's source is in the stack's database; an account without a row there (one a test or a
    # benchmark made) keeps what the password file gave it: any source, under its own id only.
    return SERVICE_ROLES[service] if service is not None else publisher_role(username, sources.get(username, "+"))


def _client(username: str, stored: StoredPassword, rolename: str) -> dict[str, object]:
    return {
        "username": username,
        "password": stored.password,
        "salt": stored.salt,
        "iterations": stored.iterations,
        "roles": [{"rolename": rolename}],
    }


def _read_legacy(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    return {str(u): a for u, a in data.items() if isinstance(a, dict)} if isinstance(data, dict) else {}
