"""The engine loop: rebuild when needed, apply stream entries, move the windows, publish what changed.

One thread, in order. A rebuild happens at start and whenever the stream can no longer be
trusted to be complete: a producer's gap, Redis restarted or unreachable, an entry whose
transactions the last snapshot saw only in part, an entry it does not read, an area the engine does
not know. While the
database or Redis is unavailable the loop retries with backoff and health says `degraded`;
`stop()` (safe from a signal handler) ends it within one read timeout.

With a lease (two engines) the one that holds it works; the other is a standby (`roles`): it reads the
same stream and keeps the same state and alert judgements, publishes and writes nothing, and takes
over with a new epoch when the lease comes to it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

import psycopg
import redis

from ingest.stored_events import StoredEventsBatch
from runtime.wire import RefusedRecord
from streams.alerts.rules import AlertRule
from streams.catalog import Catalog
from streams.engine.alerting import AlertJudge
from streams.engine.config import EngineConfig, StreamsHealth, new_epoch
from streams.engine.frame_sink import FrameSink, LeaseNotHeld
from streams.engine.frames_out import FrameBuilder, SlowTurns, iso_utc
from streams.engine.history_writer import HistoryWriter
from streams.engine.lease import Lease
from streams.engine.metrics import EngineMetrics
from streams.engine.positions import Position, ProducerPositions
from streams.engine.rebuild import Connect, RebuildReason, rebuild_state
from streams.engine.roles import EngineRole
from streams.engine.source import StoredEventsSource
from streams.history import Snapshot
from streams.live import LiveKpis
from streams.records import MICROS, StatusRecord, to_records
from streams.targets import Targets
from streams.windows import MINUTE_US

log = logging.getLogger(__name__)
# Ingest accepts events this far ahead of its clock (IOC_INGEST_MAX_FUTURE_SKEW_SECONDS, at most).
_MAX_FUTURE_US = 300 * MICROS


class KpiEngine:
    def __init__(
        self,
        connect: Connect,
        source: StoredEventsSource,
        sink: FrameSink,
        catalog: Catalog,
        targets: Targets,
        *,
        config: EngineConfig | None = None,
        metrics: EngineMetrics | None = None,
        history: Callable[[EngineMetrics], HistoryWriter] | None = None,
        alert_rules: Sequence[AlertRule] = (),
        clock: Callable[[], float] = time.time,
        lease: Lease | None = None,
    ) -> None:
        self._connect = connect
        self._source = source
        self._sink = sink
        self._catalog = catalog
        self._config = config or EngineConfig()
        self.metrics = metrics or EngineMetrics()
        self.history = None if history is None else history(self.metrics)
        self._snapshot_minute = 0
        self._alerts = (
            None
            if self.history is None
            else AlertJudge(
                alert_rules, self.history, self.metrics, flap_seconds=self._config.alert_flap_seconds,
                silent_publishers=self._silent_publishers,
            )
        )  # fmt: skip
        self._clock = clock
        self._stopping = threading.Event()
        self._builder = FrameBuilder(catalog, targets, new_epoch())
        self._epoch_to_announce: str | None = self._builder.epoch
        # Why the state must be rebuilt; None: it need not be.
        self._rebuild_reason: RebuildReason | None = RebuildReason.START
        self._state: LiveKpis | None = None
        self._snapshot: Snapshot | None = None
        self._positions = ProducerPositions()
        self._redis_run_id: str | None = None
        self._unknown_at_rebuild: set[str] = set()
        self._next_flush = 0.0
        self._slow_turns = SlowTurns(self._config.coalesce_seconds, self._config.long_window_coalesce_seconds)
        self._next_heartbeat = 0.0
        self._problem = ""
        self._role = EngineRole(lease, connect, source, sink, self.history, self.metrics)

    def health(self) -> StreamsHealth:
        reasons = [] if self._rebuild_reason is None else [f"rebuild pending ({self._rebuild_reason})"]
        reasons = [self._problem, *reasons] if self._problem else reasons
        role = self._role
        return StreamsHealth(
            "degraded" if reasons else "ok", self._builder.epoch, reasons,
            role=role.name, lease_token=role.acting, fencing_token=role.fencing_token, takeovers=role.takeovers,
        )  # fmt: skip

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        if self.history is not None:
            self.history.start()
        try:
            self._loop()
        finally:
            if self.history is not None:
                if self._role.active and self._state is not None and self._state.now_us is not None:
                    # The values as they stand at the stop, for the minute under way.
                    minute = self._state.now_us // MINUTE_US
                    self.history.offer_snapshot(minute * MINUTE_US, self._builder.snapshot_rows())
                self.history.stop()
        log.info("streams engine stopped")

    def _loop(self) -> None:
        backoff = 0.2
        while not self._stopping.is_set():
            try:
                if self._role.follow():
                    self._took_over()
                if self._rebuild_reason is not None:
                    self._rebuild()
                self._consume()
                self._tick()
            except redis.RedisError as exc:
                self._failed("redis", exc, rebuild=RebuildReason.REDIS)
            except psycopg.Error as exc:
                self._failed("database", exc, rebuild=self._rebuild_reason)
            else:
                backoff = 0.2
                self._problem = ""
                continue
            self._stopping.wait(backoff)
            backoff = min(backoff * 2, self._config.max_backoff_seconds)

    def _silent_publishers(self, area: str) -> tuple[str, ...]:
        return () if self._state is None else self._state.publishers.silent_in(area)

    def _now_us(self) -> int:
        return int(self._clock() * MICROS)

    def _took_over(self) -> None:
        """A new epoch carrying every value (walls resynchronise with a snapshot), the alerts as the
        database has them, and the minute snapshot at once (the engine before may not have written it)."""
        if self._alerts is not None and self._state is not None:
            self._alerts.take_over(self._connect, self._now_us())
        self._builder.new_epoch(new_epoch())
        self._epoch_to_announce = self._builder.epoch
        if self._state is not None:
            self._state.mark_all_dirty()
        self._snapshot_minute = 0
        self._next_flush = 0.0

    def _failed(self, what: str, exc: Exception, rebuild: RebuildReason | None) -> None:
        problem = f"{what}: {type(exc).__name__}"
        if problem != self._problem:
            log.error("%s unavailable (%s); retrying", what, type(exc).__name__)
        self._problem = problem
        self._rebuild_reason = rebuild

    def _rebuild(self) -> None:
        reason = self._rebuild_reason
        assert reason is not None
        checkpoint = self._source.checkpoint()
        horizon_us = int(self._config.dossier_horizon_days * 86_400 * MICROS)
        rebuilt = rebuild_state(
            self._connect, self._catalog, self._now_us(), dossier_horizon_us=horizon_us,
            silent_after_us=int(self._config.silent_after_seconds * MICROS),
            onboarding_grace_us=int(self._config.onboarding_grace_seconds * MICROS),
        )  # fmt: skip
        self._source.start_after(checkpoint.last_id)
        if self._redis_run_id is not None and checkpoint.redis_run_id != self._redis_run_id:
            # Redis lost the frames and the current values: clients must resynchronise.
            self._builder.new_epoch(new_epoch())
            self._epoch_to_announce = self._builder.epoch
        self._redis_run_id = checkpoint.redis_run_id
        self._state, self._snapshot, self._positions = rebuilt.state, rebuilt.snapshot, checkpoint.positions
        self._unknown_at_rebuild = set(rebuilt.state.unknown_areas)
        if self._alerts is not None:
            self._alerts.after_rebuild(rebuilt.state.windows.hierarchy, self._connect, self._now_us())
        if self.history is not None:
            # Events the stream did not tell us about may be anywhere in the rebuilt range, including
            # the few minutes ahead that ingest accepts.
            self.history.mark_range(rebuilt.since_us, self._now_us() + _MAX_FUTURE_US)
        # Re-check every value held and every value published: the builder sends only real changes,
        # including a value that the rebuild found empty.
        self._state.mark_all_dirty()
        self._state.windows.dirty |= self._builder.published_keys()
        self._rebuild_reason = None
        self.metrics.rebuilds.labels(reason).inc()
        self.metrics.rebuild_seconds.observe(rebuilt.seconds)

    def _consume(self) -> None:
        assert self._state is not None
        block_ms = max(1, int(1000 * min(self._config.coalesce_seconds, max(0.0, self._next_flush - time.monotonic()))))
        entries = self._source.read(self._config.read_count, block_ms)
        done: list[bytes] = []
        for entry_id, batch in entries:
            reason = self._refused(batch) if isinstance(batch, RefusedRecord) else self._apply(batch)
            if reason is not None:
                log.warning("rebuilding the KPI state: %s", reason)
                self._rebuild_reason = reason
                break
            done.append(entry_id)
        self._source.applied(done)
        if self._state.unknown_areas - self._unknown_at_rebuild:
            self._rebuild_reason = RebuildReason.NEW_AREA

    def _refused(self, refused: RefusedRecord) -> RebuildReason:
        self.metrics.records_refused.labels(refused.reason).inc()
        log.error("stored-events stream: %s; the KPI state is rebuilt from the database", refused.describe())
        return RebuildReason.REFUSED_ENTRY

    def _apply(self, batch: StoredEventsBatch) -> RebuildReason | None:
        """None when the entry is accounted for; otherwise why the state must be rebuilt."""
        assert self._state is not None
        assert self._snapshot is not None
        verdict = self._positions.check(batch.producer, Position(batch.session, batch.pseq, batch.final))
        if verdict == "gap":
            log.warning("stored-events stream: %s skipped to %s:%d", batch.producer, batch.session, batch.pseq)
            return RebuildReason.GAP
        if verdict == "seen" or not batch.records:
            return None
        if not batch.transaction_ids:
            return RebuildReason.ENTRY_WITHOUT_TRANSACTIONS
        seen = [self._snapshot.sees(xid) for xid in batch.transaction_ids]
        if any(seen) and not all(seen):
            return RebuildReason.ENTRY_PARTLY_IN_REBUILD
        for event_type, rows in batch.records.items():
            records = to_records(event_type, rows)
            if self.history is not None:  # late events too: their minute's rollup changes
                self.history.mark_minutes(
                    {r.occurred_us // MINUTE_US for r in records if not isinstance(r, StatusRecord)}
                )
            if all(seen):
                continue  # the rebuild counted them already
            self._state.apply(records)
            self.metrics.events_applied.inc(len(records))
        if all(seen):
            self.metrics.entries_in_rebuild.inc()
        return None

    def _take_from_history(self) -> None:
        """Publishers registered, enabled or disabled since the rebuild, dead letters per window and the
        rulebook if an admin changed it, as the history thread read them (the engine thread never
        waits on the database for these)."""
        assert self._state is not None
        if self.history is None:
            return
        activity = self._state.publishers
        fresh = self.history.take_publishers()
        if fresh is not None:
            self._state.set_publishers(fresh)
        elif activity.unknown:
            self.history.request_publishers()
        dead_letters = self.history.take_dead_letters()
        if dead_letters is not None:
            self._state.dead_letters.update(dead_letters)
        rulebook = self.history.take_rulebook()
        if rulebook is not None:
            self._builder.replace_targets(rulebook.targets)
            self._state.mark_all_dirty()
            if self._alerts is not None:
                self._alerts.replace_rules(rulebook.rules, self._now_us())

    def _tick(self) -> None:
        assert self._state is not None
        now = time.monotonic()
        self._take_from_history()
        self._state.advance(self._now_us())
        if now < self._next_flush:
            return
        if not self._role.active:
            # Standby: the same values and alert judgements, at the slow cadence, kept to itself.
            self._next_flush = now + self._config.long_window_coalesce_seconds
            frames = self._builder.changed_frames(self._state)
            if self._alerts is not None:
                self._alerts.judge(frames, now, self._now_us(), self._state.last_event_us, record=False)
            return
        self._next_flush = now + self._config.coalesce_seconds
        started = time.perf_counter()
        frames = self._builder.changed_frames(self._state, None if self._epoch_to_announce else self._slow_turns.next())
        if self._alerts is not None:  # their notices go out once they are written (history writer)
            self._alerts.judge(frames, now, self._now_us(), self._state.last_event_us)
        try:
            self._sink.write(frames, new_epoch=self._epoch_to_announce)
        except LeaseNotHeld:
            self._role.lost()  # another engine has the lease: it publishes from now on
            return
        except redis.RedisError:
            # Those frames never reached Redis: start a new epoch that carries every value again.
            self._builder.new_epoch(new_epoch())
            self._epoch_to_announce = self._builder.epoch
            self._state.mark_all_dirty()
            raise
        if self._epoch_to_announce is not None:  # what a takeover or a restart costs before walls see values
            log.info(
                "epoch %s: %d frames published in %.2f s",
                self._epoch_to_announce,
                len(frames),
                time.perf_counter() - started,
            )
        self._epoch_to_announce = None
        if now >= self._next_heartbeat:
            self._next_heartbeat = now + 1.0
            try:
                self._sink.heartbeat(iso_utc(self._now_us()))
            except LeaseNotHeld:
                self._role.lost()
                return
        minute = self._state.now_us // MINUTE_US if self._state.now_us is not None else 0
        if self.history is not None and minute != self._snapshot_minute:
            self._snapshot_minute = minute
            self.history.offer_snapshot(minute * MINUTE_US, self._builder.snapshot_rows())
        self.metrics.frames.inc(len(frames))
        self.metrics.flush_seconds.observe(time.perf_counter() - started)
        self.metrics.window_tallies.set(self._state.windows.tally_count())
        self.metrics.slots.set(self._state.windows.tallied_slots())
        self.metrics.dossiers.set(len(self._state.overdue_dossiers))
