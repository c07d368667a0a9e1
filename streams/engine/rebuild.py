"""Rebuilding the KPI state from the hypertables, the source of truth, at a time `now`.

The order matters: the stream checkpoint is taken before the database snapshot, so every entry
up to the checkpoint is in the snapshot, and an entry after it is either in the snapshot (its
transactions are visible: skipped) or not (applied). See `streams.history`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

from streams.catalog import Catalog
from streams.hierarchy import load_hierarchy
from streams.history import Snapshot, begin_snapshot, read_stored_events
from streams.records import MICROS
from streams.state import KpiState

log = logging.getLogger(__name__)
Connect = Callable[[], psycopg.Connection[tuple[object, ...]]]


@dataclass(frozen=True, slots=True)
class Rebuilt:
    state: KpiState
    snapshot: Snapshot
    events: int
    seconds: float


def rebuild_state(connect: Connect, catalog: Catalog, now_us: int) -> Rebuilt:
    started = time.perf_counter()
    with connect() as conn:
        state = KpiState(catalog, load_hierarchy(conn))
        state.advance(now_us)
        earliest = min(start for start, _ in (state.bounds(w) for w in state.window_names))
        snapshot = begin_snapshot(conn)
        events = 0
        since = datetime.fromtimestamp(earliest // MICROS, UTC)
        for records in read_stored_events(conn, since, tuple(catalog.measures)):
            state.apply(records)
            events += len(records)
        conn.execute("COMMIT")
    took = time.perf_counter() - started
    log.info("rebuilt the KPI state from %d stored events in %.2f s", events, took)
    return Rebuilt(state, snapshot, events, took)
