"""The intake rules' settings: what ingest accepts beyond the contract's shape, and replays accept too.

A module of its own because the API replays dead letters by the same rules as ingest
(`ingest.service.replays`): it reads these, and nothing else of ingest's settings.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from runtime.settings import SharedSettings


class IntakeSettings(SharedSettings):
    """The intake rules: read by each ingest process, and by the API and `ioc dead-letters replay` when
    they replay a dead letter, so that a replay accepts what ingest would."""

    ingest_max_payload_bytes: int = Field(default=65_536, ge=1024, description="payload size limit of the contract")
    ingest_max_future_skew_seconds: float = Field(
        default=300.0, ge=0, description="events further ahead than this are dead letters"
    )
    # At least a month: an event must outlive its chunk (7 days for dossiers) plus a day, or too_old
    # would refuse everything (see `IntakeRules.oldest_kept`).
    ingest_retention_days: int = Field(
        default=400,
        ge=30,
        description="how long events and dead letters are kept; also how old an event may be (`too_old`: the"
        " retention period less the table's chunk interval less a day)",
    )
    # A clock reset to 1970 shows as dead letters rather than as events in the history.
    ingest_earliest_event_date: date = Field(
        default=date(2020, 1, 1),
        ge=date(1970, 1, 1),
        description="events dated before this day (00:00 UTC) are dead letters `too_old`",
    )
