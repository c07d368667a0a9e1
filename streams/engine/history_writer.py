"""Writes the KPI history in a thread of its own: alerts, minute snapshots and the 1-minute rollups.

The engine only hands work over (a snapshot replaces one not yet written; rolled-up minutes are a
set), so a slow database never holds up a frame. Every `interval` the writer stores the pending
snapshot and re-rolls the dirty minutes that have ended, each run of consecutive minutes in one
transaction: delete the run's rollup rows, aggregate the raw events again. A late event dirties its
own minute again; a failure leaves the minutes dirty for the next round. Each round also reads the
publisher registry (handed to the engine when it changed: a maintenance set takes effect within a
round), the dead letters and the rulebook, and gives every unresolved alert the mute in force now.

With a `WriteFence` (two engines, active and standby: `fencing`), every writing transaction checks
the fencing token first; a standby writes nothing (it reads the registry, dead letters and rulebook
all the same, to stay warm) and keeps only the last minutes' rollups to do, for when it takes over.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import psycopg

from streams.alerts.evaluator import AlertAction
from streams.alerts.incidents import IncidentPolicy
from streams.alerts.mutes import refresh_mutes
from streams.alerts.store import AlertStore
from streams.dead_letters import DeadLetterCount, count_dead_letters
from streams.engine.fencing import FencedOut, WriteFence
from streams.engine.hourly_snapshots import HourlyRoller
from streams.engine.metrics import EngineMetrics
from streams.engine.rollups import minute_runs, roll_up
from streams.engine.snapshot_changes import SnapshotChanges, SnapshotRow, store_snapshot
from streams.history import PublisherRegistry, read_publishers
from streams.records import MICROS, from_micros
from streams.rulebook import Rulebook, RulebookWatch
from streams.windows import MINUTE_US

log = logging.getLogger(__name__)
Connect = Callable[[], psycopg.Connection[tuple[object, ...]]]

_MAX_ALERT_ACTIONS = 10_000  # alert changes are rare; this many waiting means the database is gone
# A standby keeps this many minutes of rollups to do: the active engine may die before it rolls them.
_STANDBY_KEPT_MINUTES = 5


class HistoryWriter:
    def __init__(
        self,
        connect: Connect,
        metrics: EngineMetrics,
        *,
        interval_seconds: float = 10.0,
        snapshot_retention_days: float = 90,
        full_snapshot_minutes: int = 60,
        rulebook: RulebookWatch | None = None,
        incidents: IncidentPolicy | None = None,
        clock: Callable[[], float] = time.time,
        fence: WriteFence | None = None,
        announce: Callable[[list[AlertAction]], None] | None = None,
    ) -> None:
        self._connect = connect
        self.fence = fence
        self._announce = announce  # alert notices, once the alerts are written
        self._metrics = metrics
        self._interval = interval_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._dirty_minutes: set[int] = set()
        self._snapshot: tuple[int, list[SnapshotRow]] | None = None
        self._changes = SnapshotChanges(full_snapshot_minutes)
        self._alerts: deque[AlertAction] = deque()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kpi-history", daemon=True)
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._snapshot_retention = timedelta(days=snapshot_retention_days)
        self._next_retention = 0.0
        # The publisher registry, read here at every round so that the engine thread never waits on the
        # database; handed over when it changed (a maintenance set, a publisher added) or was asked for.
        self._publishers_wanted = True
        self._publishers_read: PublisherRegistry | None = None
        self._publishers: PublisherRegistry | None = None
        self._dead_letters: dict[str, DeadLetterCount] | None = None
        self._rulebook_watch = rulebook
        self._hourly = HourlyRoller(clock)
        self._rulebook: Rulebook | None = None
        self._incidents = incidents or IncidentPolicy()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_seconds: float = 30.0) -> None:
        """Write what is pending once more, then end the thread."""
        self._stopping.set()
        self._thread.join(timeout_seconds)

    def mark_minutes(self, minutes: Iterable[int]) -> None:
        """Minutes (event time, as µs // MINUTE_US) whose rollups must be computed again."""
        with self._lock:
            self._dirty_minutes.update(minutes)

    def mark_range(self, start_us: int, end_us: int) -> None:
        self.mark_minutes(range(start_us // MINUTE_US, end_us // MINUTE_US + 1))

    def offer_snapshot(self, at_us: int, rows: list[SnapshotRow]) -> None:
        with self._lock:
            if self._snapshot is not None:
                self._metrics.snapshots_skipped.inc()  # the writer is behind: the newer one wins
            self._snapshot = (at_us, rows)

    def offer_alerts(self, actions: list[AlertAction]) -> None:
        with self._lock:
            room = _MAX_ALERT_ACTIONS - len(self._alerts)
            if len(actions) > room:
                self._metrics.alert_actions_dropped.inc(len(actions) - room)
                log.error("alert queue full: %d alert changes dropped", len(actions) - room)
            self._alerts.extend(actions[: max(room, 0)])

    def request_publishers(self) -> None:
        """Read the publisher registry at the next round (a publisher the engine does not know sent events)."""
        with self._lock:
            self._publishers_wanted = True

    def take_publishers(self) -> PublisherRegistry | None:
        """The publisher registry read since the last call, if any."""
        with self._lock:
            publishers, self._publishers = self._publishers, None
            return publishers

    def take_dead_letters(self) -> dict[str, DeadLetterCount] | None:
        """Dead letters per window as last counted, if counted since the last call."""
        with self._lock:
            counts, self._dead_letters = self._dead_letters, None
            return counts

    def take_rulebook(self) -> Rulebook | None:
        """The targets and alert rules, if an admin changed them since the last call."""
        with self._lock:
            rulebook, self._rulebook = self._rulebook, None
            return rulebook

    def writing(self) -> bool:
        """Whether it writes: without a fence always, with one while its engine holds the lease."""
        return self.fence is None or self.fence.token is not None

    def pending_minutes(self) -> int:
        with self._lock:
            return len(self._dirty_minutes)

    def _run(self) -> None:
        while True:
            stopping = self._stopping.wait(self._interval)
            try:
                self.write_pending(final=stopping)
                if not stopping:
                    self._housekeeping()
            except Exception as exc:
                self._metrics.history_failures.inc()
                if stopping:
                    log.error("KPI history not written at stop (%s): the next start re-rolls its range", exc)
                else:
                    log.warning("KPI history not written (%s); retrying in %.0f s", type(exc).__name__, self._interval)
                self.close()
            if stopping:
                self.close()
                return

    def write_pending(self, final: bool = False) -> None:
        """Store the pending snapshot and re-roll the dirty minutes that have ended (all of them if final)."""
        now_minute = int(self._clock() * MICROS) // MINUTE_US
        with self._lock:
            snapshot, self._snapshot = self._snapshot, None
            ready = sorted(m for m in self._dirty_minutes if final or m < now_minute)
            self._dirty_minutes.difference_update(ready)
            alerts = list(self._alerts)
            self._alerts.clear()
            if not self.writing():  # standby: nothing to write; the last minutes kept for a takeover
                self._dirty_minutes = {m for m in self._dirty_minutes if m >= now_minute - _STANDBY_KEPT_MINUTES}
                # What it wrote while active may have been overwritten since: its first snapshot is full.
                self._changes.forget()
                return
        try:
            conn = self._connection()
            if alerts:
                with conn.transaction():
                    self._fenced(conn)
                    AlertStore(conn, self._incidents).apply(alerts)
                written, alerts = alerts, []
                self._announce_written(written)
            if snapshot is not None:
                self._write_snapshot(conn, *snapshot)
            snapshot = None
            for start, end in minute_runs(ready):
                self._roll_up(conn, start, end)
                ready = [m for m in ready if m >= end]
        except FencedOut as exc:
            # Another engine holds the lease: what this one judged is not its to write any more.
            self._metrics.fenced_writes.labels("database").inc()
            log.error("history and alerts not written: %s", exc)
            self.mark_minutes(ready)
            raise
        except BaseException:
            self.mark_minutes(ready)  # not done: next round
            with self._lock:
                self._alerts.extendleft(reversed(alerts))
                if snapshot is not None and self._snapshot is None:
                    self._snapshot = snapshot
            raise

    def _housekeeping(self) -> None:
        now = time.monotonic()
        conn = self._connection()
        dead_letters = count_dead_letters(conn, int(self._clock() * MICROS))
        with self._lock:
            self._dead_letters = dead_letters
        if self._rulebook_watch is not None:
            rulebook = self._rulebook_watch.poll(conn)
            if rulebook is not None:
                log.info(
                    "the rulebook changed: %d targets, %d alert rules", len(rulebook.targets.all()), len(rulebook.rules)
                )
                with self._lock:
                    self._rulebook = rulebook
        publishers = read_publishers(conn)
        with self._lock:
            if self._publishers_wanted or publishers != self._publishers_read:
                self._publishers, self._publishers_read, self._publishers_wanted = publishers, publishers, False
        if not self.writing():
            return
        with conn.transaction():
            self._fenced(conn)
            refresh_mutes(conn)
            self._hourly.roll_due(conn)
        if self._incidents.escalate_after_seconds > 0:
            with conn.transaction():
                self._fenced(conn)
                wall_now = datetime.fromtimestamp(self._clock(), UTC)
                escalated = AlertStore(conn, self._incidents).incidents.escalate_due(wall_now)
            if escalated:
                log.warning("incidents not acknowledged, due for notification again: %s", escalated)
        if now >= self._next_retention:
            # Snapshots are the bulk of the history (every value, every minute): kept for a while;
            # the rollups and the raw events follow ingest's retention.
            self._next_retention = now + 3600
            for table in ("kpi_snapshots", "kpi_snapshots_1h"):
                conn.execute("SELECT drop_chunks(%s::regclass, older_than => %s)", (table, self._snapshot_retention))
            conn.execute("DELETE FROM kpi_snapshot_runs WHERE at < now() - %s", (self._snapshot_retention,))

    def _announce_written(self, alerts: list[AlertAction]) -> None:
        if self._announce is None:
            return
        try:
            self._announce(alerts)
        except Exception as exc:  # the alerts are in the database; only their notices are lost
            log.error("notices of %d alert changes not published (%s)", len(alerts), type(exc).__name__)

    def _fenced(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        """First in every writing transaction (FencedOut when the lease is someone else's)."""
        if self.fence is not None:
            self.fence.check(conn)

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
        return self._conn

    def close(self) -> None:
        """Close the writer's connection (the thread does it itself when it stops)."""
        if self._conn is not None:
            self._conn.close()
        self._conn = None

    def _write_snapshot(
        self, conn: psycopg.Connection[tuple[object, ...]], at_us: int, rows: list[SnapshotRow]
    ) -> None:
        plan = self._changes.plan(at_us, rows)
        try:
            with conn.transaction():
                self._fenced(conn)
                store_snapshot(conn, plan)
        except BaseException:
            self._changes.forget()
            raise
        self._changes.committed(plan)
        self._metrics.snapshot_rows.inc(len(plan.rows))
        self._metrics.snapshot_values.inc(plan.held_values)

    def _roll_up(self, conn: psycopg.Connection[tuple[object, ...]], start: int, end: int) -> None:
        params = {"start": from_micros(start * MINUTE_US), "end": from_micros(end * MINUTE_US)}
        with conn.transaction():
            self._fenced(conn)
            roll_up(conn, params)
        self._metrics.rollup_minutes.inc(end - start)
