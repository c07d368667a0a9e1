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
from enum import StrEnum

import psycopg

from streams.catalog import Catalog
from streams.dossiers import STATUS_ORDER
from streams.hierarchy import load_hierarchy
from streams.history import (
    Snapshot,
    begin_snapshot,
    read_last_events,
    read_latest_dossiers,
    read_latest_statuses,
    read_publishers,
    read_stored_events,
)
from streams.live import LiveKpis
from streams.records import MICROS, DossierRecord, from_micros

log = logging.getLogger(__name__)
Connect = Callable[[], psycopg.Connection[tuple[object, ...]]]


class RebuildReason(StrEnum):
    """Why the state must be rebuilt: the value is the `reason` label of `ioc_streams_rebuilds_total`,
    and what logs and health say, so a value never changes."""

    START = "start"
    REDIS = "redis"  # Redis failed or restarted: the stream's position is lost
    GAP = "gap"  # a producer skipped entries
    ENTRY_WITHOUT_TRANSACTIONS = "entry without transaction ids"
    ENTRY_PARTLY_IN_REBUILD = "entry partly in the rebuild"
    NEW_AREA = "new area"  # an event names an area the engine's hierarchy does not know
    REFUSED_ENTRY = "refused entry"  # a stored-events entry of a format this engine does not read


@dataclass(frozen=True, slots=True)
class Rebuilt:
    state: LiveKpis
    snapshot: Snapshot
    since_us: int  # the earliest event time it read (the start of the longest window)
    events: int
    seconds: float


def rebuild_state(
    connect: Connect,
    catalog: Catalog,
    now_us: int,
    *,
    dossier_horizon_us: int,
    silent_after_us: int,
    onboarding_grace_us: int = 86_400 * MICROS,
) -> Rebuilt:
    started = time.perf_counter()
    with connect() as conn:
        state = LiveKpis(
            catalog,
            load_hierarchy(conn),
            dossier_horizon_us=dossier_horizon_us,
            silent_after_us=silent_after_us,
            onboarding_grace_us=onboarding_grace_us,
        )
        state.set_publishers(read_publishers(conn))
        state.advance(now_us)
        windows = state.windows
        earliest = min(start for start, _ in (windows.bounds(w) for w in windows.window_names))
        snapshot = begin_snapshot(conn)
        events = 0
        for records in read_stored_events(conn, from_micros(earliest), tuple(catalog.measures)):
            state.apply(records)
            events += len(records)
        for records in read_latest_dossiers(conn, from_micros(now_us - dossier_horizon_us), STATUS_ORDER):
            for r in records:
                if isinstance(r, DossierRecord):
                    state.overdue_dossiers.apply(r)
        state.publishers.apply(read_latest_statuses(conn))
        state.publishers.seen(read_last_events(conn, from_micros(now_us - silent_after_us)))
        conn.execute("COMMIT")
        state.publishers.recount()  # with what was just read
    took = time.perf_counter() - started
    log.info("rebuilt the KPI state from %d stored events in %.2f s", events, took)
    return Rebuilt(state, snapshot, earliest, events, took)
