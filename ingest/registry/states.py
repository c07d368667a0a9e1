"""A publisher's state, derived from its registry row and the time: never stored as a word that could go stale.

`disabled` wins; then `maintenance` while its `until` is ahead (so a maintenance ends by itself);
then `onboarding` until its first stored message; else `active`. What an operator types for a
publisher — a reason, a time, a duration — is checked here, for the API and the CLI alike.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from ingest.registry.publishers import InvalidPublisher, Publisher
from runtime.operator_input import TIME_EXAMPLE, parse_time, reason_problem, until_problem

MAX_SILENT_AFTER_SECONDS = 31 * 86_400
_DURATION = re.compile(r"^([0-9]{1,9})([smhd]?)$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400}


class PublisherState(StrEnum):
    ONBOARDING = "onboarding"
    ACTIVE = "active"
    MAINTENANCE = "maintenance"
    DISABLED = "disabled"


def state_of(publisher: Publisher, now: datetime) -> PublisherState:
    if publisher.disabled_at is not None:
        return PublisherState.DISABLED
    if in_maintenance(publisher, now):
        return PublisherState.MAINTENANCE
    if publisher.first_message_at is None:
        return PublisherState.ONBOARDING
    return PublisherState.ACTIVE


def in_maintenance(publisher: Publisher, now: datetime) -> bool:
    return publisher.maintenance_until is not None and publisher.maintenance_until > now


def checked_reason(text: str, *, required: bool = True) -> str:
    reason = text.strip()
    problem = reason_problem(reason, required=required)
    if problem is not None:
        raise InvalidPublisher(problem, field="reason")
    return reason


def checked_until(until: datetime, now: datetime) -> datetime:
    problem = until_problem(until, now)
    if problem is not None:
        raise InvalidPublisher(problem, field="until")
    return until


def parse_until(text: str, now: datetime) -> datetime:
    until = parse_time(text)
    if until is None:
        raise InvalidPublisher(f"{text!r} is not a time like {TIME_EXAMPLE} (ISO 8601 with an offset)", field="until")
    return checked_until(until, now)


def parse_silent_after(text: str) -> int | None:
    """`90s`, `30m`, `2h`, `1d`, a number of seconds, or `default` (None: the engine's default)."""
    if text.strip() == "default":
        return None
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise InvalidPublisher(
            f"{text!r} is not a duration (90s, 30m, 2h, 1d, seconds) nor 'default'", field="silent_after_seconds"
        )
    return checked_silent_after(int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def checked_silent_after(seconds: int) -> int:
    if not 1 <= seconds <= MAX_SILENT_AFTER_SECONDS:
        raise InvalidPublisher(
            f"the silence threshold must be 1 s to {MAX_SILENT_AFTER_SECONDS // 86_400} days, not {seconds} s",
            field="silent_after_seconds",
        )
    return seconds
