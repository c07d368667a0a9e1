"""What an operator types for a maintenance or a mute — a reason, an end time — checked the same way
for the API and the CLI, whichever package keeps it. Each check returns what is wrong (None when
nothing is), and the caller raises its own package's `Invalid` with it.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta

MAX_REASON_CHARS = 500
MAX_AHEAD = timedelta(days=366)  # a maintenance or a mute longer than a year is a mistake, not a plan


def reason_problem(reason: str, *, required: bool = True) -> str | None:
    """A reason as it will be stored and shown (already stripped): one line of at most 500 characters,
    without control characters (a newline or an escape sequence would forge lines in the console and the logs)."""
    if required and not reason:
        return "a reason is required"
    if len(reason) > MAX_REASON_CHARS:
        return f"the reason has {len(reason)} characters; at most {MAX_REASON_CHARS} are kept"
    if any(unicodedata.category(c) == "Cc" for c in reason):
        return "the reason must not contain control characters (newlines, tabs, escapes)"
    return None


def until_problem(until: datetime, now: datetime) -> str | None:
    """An end time: with an offset, in the future, within a year."""
    if until.tzinfo is None or until.utcoffset() is None:
        return f"{until.isoformat()} has no UTC offset (write e.g. +07:00 or Z)"
    if until <= now:
        return f"{until.isoformat()} is not in the future"
    if until - now > MAX_AHEAD:
        return f"{until.isoformat()} is more than {MAX_AHEAD.days} days ahead"
    return None


def parse_time(text: str) -> datetime | None:
    """An ISO 8601 time as typed on a command line (`2026-12-11T17:00+07:00`); None if it is not one."""
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        return None


TIME_EXAMPLE = "2026-12-11T17:00+07:00"
