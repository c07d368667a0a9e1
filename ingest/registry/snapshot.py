"""An in-memory copy of the areas and publishers, refreshed on a timer and on a miss.

Checking every event against the database would cost a round trip per message; a stale copy
would dead-letter the first events of a publisher added a second ago. So a miss triggers a
refresh before the event is declared unknown: at most one per batch, so that a flood of
messages from unknown publishers costs one reload per batch, not one per message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import psycopg


@dataclass(frozen=True, slots=True)
class PublisherEntry:
    source: str
    disabled: bool


@dataclass(frozen=True, slots=True)
class RegistrySnapshot:
    areas: frozenset[str]
    publishers: dict[str, PublisherEntry]


def load_snapshot(conn: psycopg.Connection[tuple[object, ...]]) -> RegistrySnapshot:
    with conn.transaction():
        areas = frozenset(str(code) for (code,) in conn.execute("SELECT code FROM areas").fetchall())
        publishers = {
            str(pid): PublisherEntry(str(source), disabled_at is not None)
            for pid, source, disabled_at in conn.execute("SELECT id, source, disabled_at FROM publishers")
        }
    return RegistrySnapshot(areas, publishers)


class RegistryCache:
    def __init__(
        self,
        load: Callable[[], RegistrySnapshot],
        clock: Callable[[], float],
        refresh_seconds: float,
    ) -> None:
        self._load = load
        self._clock = clock
        self._refresh_seconds = refresh_seconds
        self._snapshot: RegistrySnapshot | None = None
        self._loaded_at = float("-inf")
        self._reloaded_this_batch = False

    def new_batch(self) -> None:
        self._reloaded_this_batch = False

    def current(self) -> RegistrySnapshot:
        if self._snapshot is None or self._clock() - self._loaded_at >= self._refresh_seconds:
            self._reload()
        assert self._snapshot is not None
        return self._snapshot

    def after_miss(self) -> RegistrySnapshot:
        """The snapshot to decide a miss with: reloaded unless it already was during this batch."""
        if not self._reloaded_this_batch:
            self._reload()
        return self.current()

    def _reload(self) -> None:
        self._snapshot = self._load()
        self._loaded_at = self._clock()
        self._reloaded_this_batch = True
