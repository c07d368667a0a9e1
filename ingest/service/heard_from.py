"""When each publisher was last heard from, written to the registry (`first_message_at`, `last_message_at`).

The publisher states (onboarding until the first message) and the API's `silent` read these columns:
without them, knowing when a publisher last sent would mean scanning the event tables, which have no
index by publisher. Written after a batch commits, at most once per `every_seconds` per publisher, in
one statement: a few rows a second however many events arrive. Losing a write (the database down)
only delays the next: the publisher is written again with its next stored message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import psycopg

log = logging.getLogger(__name__)


class HeardFrom:
    def __init__(self, clock: Callable[[], float], every_seconds: float = 15.0) -> None:
        self._clock = clock
        self._every = every_seconds
        self._written: dict[str, float] = {}  # publisher -> when (clock) it was last written

    def due(self, publishers: Iterable[str]) -> list[str]:
        """Those of `publishers` (stored a message just now) whose registry row is due a write."""
        now = self._clock()
        return sorted(p for p in set(publishers) if now - self._written.get(p, float("-inf")) >= self._every)

    def write(self, connection: Callable[[], psycopg.Connection[tuple[object, ...]]], publishers: list[str]) -> None:
        """One statement, autocommitted; a failure is logged and the publishers stay due."""
        if not publishers:
            return
        try:
            connection().execute(
                "UPDATE publishers SET last_message_at = now(), first_message_at = coalesce(first_message_at, now())"
                " WHERE id = ANY(%s)",
                (publishers,),
            )
        except psycopg.Error as exc:
            log.warning("publishers' last message not recorded (%s); again with their next", type(exc).__name__)
            return
        now = self._clock()
        for p in publishers:
            self._written[p] = now
        if len(self._written) > 100_000:  # bounded: publishers removed long ago are forgotten
            self._written.clear()
