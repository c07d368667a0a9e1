"""Broker account files (pure: no broker involved)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from deploy.stack.broker_accounts import AccountRole, AccountRoleConflict, InvalidUsername, MosquittoAccounts


def test_password_file_uses_mosquittos_pbkdf2_format(tmp_path: Path) -> None:
    accounts = MosquittoAccounts(tmp_path)
    accounts.set("desk-1", "s3cret", AccountRole.PUBLISHER)
    (line,) = accounts.password_file.read_text().splitlines()
    username, hashed = line.split(":", 1)
    _, version, iterations, salt, digest = hashed.split("$")
    assert (username, version, iterations) == ("desk-1", "7", "101")
    expected = hashlib.pbkdf2_hmac("sha512", b"s3cret", base64.b64decode(salt), 101, 64)
    assert base64.b64decode(digest) == expected


def test_acl_gives_publishers_their_own_topics_and_services_their_roles(tmp_path: Path) -> None:
    accounts = MosquittoAccounts(tmp_path)
    accounts.set("desk-1", "a", AccountRole.PUBLISHER)
    accounts.set("ioc-ingest", "b", AccountRole.INGEST)
    acl = [line for line in accounts.acl_file.read_text().splitlines() if line and not line.startswith("#")]
    assert acl == [
        "pattern write ioc/v1/+/%u/#",
        "user ioc-ingest",
        "topic read ioc/v1/#",
        "topic read $share/+/ioc/v1/#",
    ]


def test_an_account_never_changes_role_and_names_are_checked(tmp_path: Path) -> None:
    accounts = MosquittoAccounts(tmp_path)
    accounts.set("ioc-ingest", "b", AccountRole.INGEST)
    with pytest.raises(AccountRoleConflict):
        accounts.set("ioc-ingest", "stolen", AccountRole.PUBLISHER)
    for bad in ("with+plus", "with#hash", "UPPER", "a/b", ""):
        with pytest.raises(InvalidUsername):
            accounts.set(bad, "x", AccountRole.PUBLISHER)
    assert accounts.usernames() == ["ioc-ingest"]
