"""The one line `ioc` prints for each kind of error, and None for a bug (no services)."""

from __future__ import annotations

import psycopg
import pydantic
import pytest
import redis

from cli.errors import CommandError, describe
from deploy.settings import Settings
from ingest.broker.control import BrokerUnreachable
from ingest.registry.publishers import PublisherNotFound


def test_each_kind_of_error_is_one_line_and_a_bug_is_none() -> None:
    refused = psycopg.OperationalError(
        'connection failed: connection to server at "127.0.0.1", port 1 failed: Connection refused\n'
        "\tIs the server running on that host and accepting TCP/IP connections?"
    )
    assert describe(refused) == (
        'the database cannot be reached (connection to server at "127.0.0.1", port 1 failed: Connection refused)'
    )
    login = psycopg.OperationalError(
        'connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  password authentication'
        ' failed for user "ioc"'
    )
    assert describe(login) == (
        'the database cannot be reached (connection to server at "127.0.0.1", port 5432 failed: password'
        ' authentication failed for user "ioc")'
    )
    assert describe(redis.ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")) == (
        "Redis cannot be reached (Error 111 connecting to 127.0.0.1:1. Connection refused.)"
    )
    assert describe(BrokerUnreachable("the broker at 127.0.0.1:1 is unreachable (Connection refused)")) == (
        "the broker at 127.0.0.1:1 is unreachable (Connection refused)"
    )
    assert describe(PublisherNotFound("nosuch")) == "publisher nosuch does not exist"
    assert describe(CommandError("first line\nsecond line")) == "first line"
    assert describe(KeyError("a bug")) is None
    assert describe(ValueError("a bug")) is None


def test_a_bad_setting_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_API_PORT", "eighty")
    with pytest.raises(pydantic.ValidationError) as raised:
        Settings()
    assert describe(raised.value) == (
        "invalid setting IOC_API_PORT: Input should be a valid integer, unable to parse string as an integer"
    )
