"""Replaying dead letters for the CLI and the HTTP API alike: validate and store again, then tell the KPI engine.

What a replay stores goes on the stored-events stream like ingest's batches (producer `ioc-replay`,
a session of its own ended cleanly), so the engine counts it without a rebuild; if Redis is away,
the engine sees the gap at the next replay session and rebuilds.
"""

from __future__ import annotations

import psycopg

from ingest.dead_letters import ReplayOutcome, replay_dead_letter
from ingest.intake_settings import IntakeSettings
from ingest.service.classify import IntakeRules
from ingest.service.stored_events_publisher import StoredEventsPublisher

REPLAY_PRODUCER = "ioc-replay"  # `ioc-` names are reserved for the system


class DeadLetterReplayer:
    """One replay session: `replay` as many dead letters as needed, then `close`."""

    def __init__(self, conn: psycopg.Connection[tuple[object, ...]], settings: IntakeSettings) -> None:
        assert settings.redis_url is not None
        self._conn = conn
        self._rules = IntakeRules.from_settings(settings)
        self._stream = StoredEventsPublisher(settings.redis_url.get_secret_value(), producer=REPLAY_PRODUCER)

    def replay(self, dead_letter_id: int) -> ReplayOutcome:
        """Raises DeadLetterNotFound, or a psycopg error when the database refuses the event again."""
        outcome = replay_dead_letter(self._conn, dead_letter_id, self._rules)
        if outcome.records:
            self._stream.publish(outcome.records, outcome.transaction_ids)
        return outcome

    def close(self) -> bool:
        """End the session; False when Redis missed some of it (the engine will rebuild)."""
        self._stream.close()
        return not self._stream.skipped and self._stream.reached_at_close
