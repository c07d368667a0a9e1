"""The status board's judgement: the readings against their thresholds, each item ok, warning or problem.

Pure: the readings come from `api.http.status.readings`, the clock and thresholds from the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from api.http.status.readings import DatabaseReadings, PublisherReading, RedisReadings
from api.http.status.schemas import Level, PublisherProblem, StatusItem
from streams.records import from_micros

ENGINE_STALE_SECONDS = 10.0  # the heartbeat's own TTL: older, the engine has stopped turning
ENGINE_LAG_WARNING_SECONDS = 5.0
INGEST_QUIET_WARNING_SECONDS = 60.0
NOTIFICATION_WAIT_WARNING_SECONDS = 300.0  # a receiver this far behind is retrying: it may be down
RECENT_EPOCH_SECONDS = 600.0
_NAMED = 5  # publishers named in a reason at most


@dataclass(frozen=True, slots=True)
class Thresholds:
    dead_letter_burst: int


def worst(levels: list[Level]) -> Level:
    return "problem" if "problem" in levels else "warning" if "warning" in levels else "ok"


def _named(ids: list[str]) -> str:
    more = f" and {len(ids) - _NAMED} more" if len(ids) > _NAMED else ""
    return ", ".join(ids[:_NAMED]) + more


def publisher_items(db: DatabaseReadings, thresholds: Thresholds) -> list[StatusItem]:
    silent = [p.id for p in db.publishers if p.silent]
    gaps = [p for p in db.publishers if p.missing]
    burst = db.recent_dead_letters
    return [
        StatusItem(name="silent_publishers", level="problem" if silent else "ok", value=len(silent), subjects=silent,
                   reason=f"{len(silent)} silent: {_named(silent)}" if silent else "every enabled publisher is heard"),
        StatusItem(name="publishers_with_gaps", level="warning" if gaps else "ok", value=len(gaps),
                   subjects=[p.id for p in gaps],
                   reason=f"{len(gaps)} with seq gaps in the last hour ({sum(p.missing for p in gaps)} missing):"
                   f" {_named([p.id for p in gaps])}" if gaps else "no seq gaps in the last hour"),
        StatusItem(name="dead_letter_burst", value=burst,
                   level="problem" if burst > thresholds.dead_letter_burst else "warning" if burst else "ok",
                   reason=f"{burst} dead letters in 5 minutes"
                   + (f", more than {thresholds.dead_letter_burst}" if burst > thresholds.dead_letter_burst else "")),
    ]  # fmt: skip


def problem_publishers(db: DatabaseReadings) -> list[PublisherProblem]:
    """Silent ones first, then those with gaps, then those with dead letters; most affected first."""

    def rank(p: PublisherReading) -> tuple[int, int, str]:
        return (0 if p.silent else 1 if p.missing else 2, -(p.missing + p.open_dead_letters), p.id)

    return [
        PublisherProblem(id=p.id, area_code=p.area_code, silent=p.silent, missing=p.missing,
                         open_dead_letters=p.open_dead_letters,
                         last_seen_at=None if p.last_seen_us is None else from_micros(p.last_seen_us))
        for p in sorted(db.publishers, key=rank) if p.silent or p.missing or p.open_dead_letters
    ]  # fmt: skip


def redis_items(r: RedisReadings, now: datetime, publishers_heard: bool) -> list[StatusItem]:
    now_ms = now.timestamp() * 1000
    if r.heartbeat is None:
        engine = StatusItem(name="engine", level="problem", reason="no heartbeat from the KPI engine")
    else:
        age = max(0.0, (now - r.heartbeat).total_seconds())
        lag = 0.0 if r.engine_oldest_unapplied_ms is None else max(0.0, (now_ms - r.engine_oldest_unapplied_ms) / 1000)
        level: Level = (
            "problem" if age > ENGINE_STALE_SECONDS else "warning" if lag > ENGINE_LAG_WARNING_SECONDS else "ok"
        )
        engine = StatusItem(name="engine", level=level, value=round(lag, 1),
                            reason=f"heartbeat {age:.0f} s ago; {r.engine_behind} stored batches not yet applied,"
                            f" the oldest {lag:.0f} s old")  # fmt: skip
    items = [engine, _epoch_item(r.epoch, now)]
    quiet = None if r.last_stored_ms is None else max(0.0, (now_ms - r.last_stored_ms) / 1000)
    if quiet is None:
        items.append(StatusItem(name="ingest", level="warning" if publishers_heard else "ok",
                                reason="ingest has stored nothing since Redis started"))  # fmt: skip
    else:
        stuck = publishers_heard and quiet > INGEST_QUIET_WARNING_SECONDS
        items.append(StatusItem(name="ingest", level="warning" if stuck else "ok", value=round(quiet, 1),
                                reason=f"last batch stored {quiet:.0f} s ago"))  # fmt: skip
    kpis = sum(c.get("kpis", 0) for c in r.live_clients.values())
    events = sum(c.get("events", 0) for c in r.live_clients.values())
    items.append(StatusItem(name="websocket_clients", level="ok", value=kpis + events,
                            reason=f"{kpis + events} live clients ({kpis} walls and KPI feeds, {events} event tails)"
                            f" on {len(r.live_clients)} API processes"))  # fmt: skip
    return items


def _epoch_item(epoch: str | None, now: datetime) -> StatusItem:
    if epoch is None:
        return StatusItem(name="engine_rebuild", level="warning", reason="the KPI engine has announced no epoch")
    try:
        started = datetime.strptime(epoch.split("-", 1)[0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return StatusItem(name="engine_rebuild", level="warning", reason=f"an epoch of unknown form: {epoch[:40]}")
    age = max(0.0, (now - started).total_seconds())
    recent = age < RECENT_EPOCH_SECONDS
    return StatusItem(name="engine_rebuild", level="warning" if recent else "ok", value=round(age),
                      reason=f"current epoch since {started:%Y-%m-%d %H:%M:%S} UTC (the engine's start or last full"
                      " rebuild): walls resynchronised then")  # fmt: skip


def unreachable_redis_items(reason: str) -> list[StatusItem]:
    why = f"Redis cannot be read ({reason})"
    return [StatusItem(name=name, level="problem", reason=why)
            for name in ("engine", "engine_rebuild", "ingest", "websocket_clients")]  # fmt: skip


def notification_item(db: DatabaseReadings) -> StatusItem:
    """Problem: a notification was given up within the last day (its receiver never got it); warning: one
    has waited for its receiver for more than 5 minutes (retrying)."""
    failed, waiting = db.notifications.failed, db.notifications.oldest_pending_seconds
    if failed:
        total = sum(failed.values())
        named = ", ".join(f"{receiver} ({n})" for receiver, n in failed.items())
        return StatusItem(name="notifications", level="problem", value=total, subjects=list(failed),
                          reason=f"{total} notifications not delivered in the last day: {named}")  # fmt: skip
    if waiting is not None and waiting > NOTIFICATION_WAIT_WARNING_SECONDS:
        return StatusItem(name="notifications", level="warning", value=round(waiting),
                          reason=f"a notification has waited {round(waiting)} s for its receiver")  # fmt: skip
    return StatusItem(name="notifications", level="ok", value=0, reason="every notification delivered or on its way")
