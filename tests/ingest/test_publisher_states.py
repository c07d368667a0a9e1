"""A publisher's state from its registry row and the time, and what an operator types for it (pure logic)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from ingest.registry.publishers import InvalidPublisher, Publisher
from ingest.registry.states import (
    PublisherState,
    checked_reason,
    parse_silent_after,
    parse_until,
    state_of,
)

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
NEW = Publisher("counter-1", "payments", "24611", "", NOW - timedelta(hours=1), None)


def test_the_state_follows_the_row_and_the_clock() -> None:
    assert state_of(NEW, NOW) is PublisherState.ONBOARDING
    heard = replace(NEW, first_message_at=NOW - timedelta(minutes=50))
    assert state_of(heard, NOW) is PublisherState.ACTIVE
    until = NOW + timedelta(hours=2)
    in_maintenance = replace(heard, maintenance_until=until, maintenance_by="ops-anh", maintenance_reason="moved")
    assert state_of(in_maintenance, NOW) is PublisherState.MAINTENANCE
    assert state_of(in_maintenance, until) is PublisherState.ACTIVE  # it ends by itself
    assert state_of(replace(in_maintenance, first_message_at=None), until) is PublisherState.ONBOARDING
    assert state_of(replace(in_maintenance, disabled_at=NOW), NOW) is PublisherState.DISABLED


def test_until_is_a_time_with_an_offset_in_the_coming_year() -> None:
    assert parse_until("2026-12-11T17:00+07:00", NOW) == datetime(2026, 12, 11, 10, 0, tzinfo=UTC)
    assert parse_until("2026-12-11T10:00:00Z", NOW).tzinfo is not None
    for text, message in (
        ("friday", "'friday' is not a time like 2026-12-11T17:00+07:00 (ISO 8601 with an offset)"),
        ("2026-12-11T17:00", "2026-12-11T17:00:00 has no UTC offset (write e.g. +07:00 or Z)"),
        ("2026-12-07T21:59+07:00", "2026-12-07T21:59:00+07:00 is not in the future"),
        ("2028-01-01T00:00Z", "2028-01-01T00:00:00+00:00 is more than 366 days ahead"),
    ):
        with pytest.raises(InvalidPublisher) as refused:
            parse_until(text, NOW)
        assert (refused.value.message, refused.value.field) == (message, "until")
    assert parse_until("2026-12-07T22:01+07:00", NOW) > NOW
    assert parse_until("2026-12-07T22:01+07:00", NOW).utcoffset() == timezone(timedelta(hours=7)).utcoffset(None)


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "a reason is required"),
        ("   ", "a reason is required"),
        ("x" * 10_240, "the reason has 10240 characters; at most 500 are kept"),
        ("moved\nALERT resolved by admin", "the reason must not contain control characters (newlines, tabs, escapes)"),
        ("\x1b[32mall fine\x1b[0m", "the reason must not contain control characters (newlines, tabs, escapes)"),
        ("nul\x00byte", "the reason must not contain control characters (newlines, tabs, escapes)"),
    ],
)
def test_a_reason_is_one_short_line(reason: str, message: str) -> None:
    with pytest.raises(InvalidPublisher) as refused:
        checked_reason(reason)
    assert (refused.value.message, refused.value.field) == (message, "reason")


def test_a_reason_keeps_vietnamese_text_and_may_be_optional() -> None:
    assert (
        checked_reason("  Quầy chuyển sang bàn mới — đường cáp bị đứt  ")
        == "Quầy chuyển sang bàn mới — đường cáp bị đứt"
    )
    assert checked_reason("", required=False) == ""


def test_silent_after_takes_durations_with_units() -> None:
    assert [parse_silent_after(t) for t in ("90s", "30m", "2h", "1d", "900", "default")] == [
        90, 1800, 7200, 86_400, 900, None
    ]  # fmt: skip
    for text in ("soon", "-5", "1.5h", "30 m", "0", "32d", ""):
        with pytest.raises(InvalidPublisher):
            parse_silent_after(text)
