"""An in-memory copy of the areas and publishers, refreshed on a timer and on a miss.

Checking every event against the database would cost a round trip per message; a stale copy
would dead-letter the first events of a publisher added a second ago, or of an area imported a
second ago. So a miss triggers a refresh before the event is refused: at most one per batch, so
that a flood of messages from unknown publishers costs one reload per batch, not one per message.

The copy also holds each event table's chunk interval, which decides (with the retention period)
how old an event may be and still be kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

import psycopg

from ingest.contract import EventType
from ingest.storage.event_tables import SHIPPED_CHUNK_INTERVALS, chunk_intervals

# Province › district › commune › village: a walk up the tree never needs more steps than this;
# the bound also keeps a damaged table (a cycle) from hanging the ingest.
_MAX_DEPTH: Final = 8


@dataclass(frozen=True, slots=True)
class PublisherEntry:
    source: str
    disabled: bool
    area_code: str  # where it is registered: it may report for this unit and the units below it


@dataclass(frozen=True, slots=True)
class RegistrySnapshot:
    areas: Mapping[str, str | None]  # code -> parent code (None for the province)
    publishers: Mapping[str, PublisherEntry]
    chunk_intervals: Mapping[EventType, timedelta] = field(default_factory=lambda: SHIPPED_CHUNK_INTERVALS)

    def covers(self, registered: str, area_code: str) -> bool:
        """Whether `area_code` is `registered` or a unit below it: a walk up the tree, O(depth)."""
        code: str | None = area_code
        for _ in range(_MAX_DEPTH):
            if code == registered:
                return True
            if code is None:
                return False
            code = self.areas.get(code)
        return False


def load_snapshot(conn: psycopg.Connection[tuple[object, ...]]) -> RegistrySnapshot:
    with conn.transaction():
        areas = {
            str(code): None if parent is None else str(parent)
            for code, parent in conn.execute("SELECT code, parent_code FROM areas").fetchall()
        }
        publishers = {
            str(pid): PublisherEntry(str(source), disabled_at is not None, str(area))
            for pid, source, disabled_at, area in conn.execute(
                "SELECT id, source, disabled_at, area_code FROM publishers"
            )
        }
        intervals = chunk_intervals(conn)
    return RegistrySnapshot(areas, publishers, intervals)


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
