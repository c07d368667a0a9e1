"""What the status board is computed from, read from what the services already share: the database
(registry, statuses, stored events, dead letters) and Redis (the engine's heartbeat and epoch, the
stored-events stream and its consumer group, the API processes' live client counts). No other
process is asked, so every API replica answers the same."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg
import redis

from api.http.dead_letters.repository import ConsoleDeadLetters
from runtime.redis_names import (
    API_LIVE_CLIENTS_PREFIX,
    KPI_EPOCH,
    KPI_HEARTBEAT,
    STORED_EVENTS_STREAM,
    STREAMS_CONSUMER_GROUP,
)
from streams.history import read_last_events, read_latest_statuses, read_publishers
from streams.records import MICROS, StatusRecord, to_micros
from streams.seq_gaps import deliveries

BURST_WINDOW = timedelta(minutes=5)
GAP_WINDOW = timedelta(hours=1)
LOOK_BACK = timedelta(
    days=1
)  # how far back the board reads events for silence  # as ops.completeness and the publishers list count
_MAX_LIVE_KEYS = 1000  # API processes counted at most (a bound on what one board reads)
NOTIFICATION_WINDOW = timedelta(days=1)  # failed notifications shown for a day


@dataclass(frozen=True, slots=True)
class PublisherReading:
    id: str
    area_code: str
    silent: bool
    last_seen_us: int | None
    missing: int  # seq numbers missing in the last hour
    open_dead_letters: int  # received in the last hour, still open


@dataclass(frozen=True, slots=True)
class DatabaseReadings:
    publishers: list[PublisherReading]
    recent_dead_letters: int  # received within BURST_WINDOW
    notifications: NotificationReadings


@dataclass(frozen=True, slots=True)
class RedisReadings:
    heartbeat: datetime | None  # the engine's clock at its last heartbeat (None: none within 10 s)
    epoch: str | None
    engine_behind: int  # stored-events entries not yet acknowledged by the engine (read or not)
    engine_oldest_unapplied_ms: int | None  # stream time of the oldest of them
    last_stored_ms: int | None  # stream time of ingest's newest stored batch
    live_clients: dict[str, dict[str, int]] = field(default_factory=dict)  # per API process


def read_database(
    conn: psycopg.Connection[tuple[object, ...]], now: datetime, silent_after_s: float, onboarding_grace_s: float
) -> DatabaseReadings:
    """Silent as the engine counts `ops.publishers_silent` (streams.publishers): quiet for its threshold and
    expected to send — not in maintenance, not onboarding within its grace period."""
    registry = read_publishers(conn)
    grace_us = int(onboarding_grace_s * MICROS)
    default_us = int(silent_after_s * MICROS)
    # The events read back at most a day (the board asks every 10 s; a threshold may be a month): a
    # publisher with a longer threshold of its own and nothing in that day is not judged (not flagged).
    window_us = min(max([default_us, *registry.silent_after_us.values()]), int(LOOK_BACK.total_seconds() * MICROS))
    since = now - timedelta(microseconds=window_us)
    last = read_last_events(conn, since)
    for record in read_latest_statuses(conn):
        if isinstance(record, StatusRecord):
            last[record.publisher_id] = max(last.get(record.publisher_id, 0), record.at_us)
    delivered = deliveries(conn, now - GAP_WINDOW, now)
    open_letters: dict[object, object] = dict(
        conn.execute(  # type: ignore[arg-type]
            "SELECT publisher_id, count(*) FROM dead_letters WHERE received_at >= %s AND resolved_at IS NULL"
            " AND publisher_id IS NOT NULL GROUP BY 1",
            (now - GAP_WINDOW,),
        ).fetchall()
    )
    now_us = to_micros(now)
    publishers = []
    for publisher, area in sorted(registry.areas.items()):
        seen = last.get(publisher)
        threshold = registry.silent_after_us.get(publisher, default_us)
        d = delivered.get(publisher)
        missing = 0 if d is None or d.expected is None else max(0, d.expected - d.received)
        in_maintenance = registry.maintenance_until_us.get(publisher, -1) > now_us
        registered_us = registry.onboarding_since_us.get(publisher)
        onboarding = seen is None and registered_us is not None and now_us < registered_us + grace_us
        silent = _silent(seen, now_us, threshold, window_us) and not in_maintenance and not onboarding
        publishers.append(PublisherReading(
            publisher, area, silent, seen, missing,
            int(str(open_letters.get(publisher, 0))),
        ))  # fmt: skip
    return DatabaseReadings(
        publishers, ConsoleDeadLetters(conn).recent(now - BURST_WINDOW), read_notifications(conn, now)
    )


@dataclass(frozen=True, slots=True)
class NotificationReadings:
    failed: dict[str, int]  # receiver -> notifications given up within the last day (kept as `failed`)
    oldest_pending_seconds: float | None  # the oldest notification still waiting for its receiver


def read_notifications(conn: psycopg.Connection[tuple[object, ...]], now: datetime) -> NotificationReadings:
    """From the notifier's outbox (`ioc notify`), so that an on-call engineer sees notifications that never
    reached anyone — the one failure nobody would otherwise be told of."""
    rows = conn.execute(
        "SELECT receiver, count(*) FROM notification_outbox WHERE state = 'failed'"
        " AND coalesce(last_attempt_at, created_at) >= %s GROUP BY receiver ORDER BY receiver",
        (now - NOTIFICATION_WINDOW,),
    ).fetchall()
    oldest = conn.execute("SELECT min(created_at) FROM notification_outbox WHERE state = 'pending'").fetchone()
    first = None if oldest is None else oldest[0]
    waiting = (now - first).total_seconds() if isinstance(first, datetime) else None
    return NotificationReadings({str(r): int(str(n)) for r, n in rows}, waiting)


def _silent(seen_us: int | None, now_us: int, threshold_us: int, window_us: int) -> bool:
    if seen_us is None:  # nothing within the window read: silent, if its threshold fits in the window
        return threshold_us <= window_us
    return seen_us < now_us - threshold_us


def read_redis(client: redis.Redis) -> RedisReadings:
    """Raises redis.RedisError when Redis cannot be read."""
    beat, epoch = client.mget(KPI_HEARTBEAT, KPI_EPOCH)
    behind, oldest, last_stored = 0, None, None
    try:
        last_id = client.xinfo_stream(STORED_EVENTS_STREAM)["last-generated-id"]
        last_stored = _stream_ms(last_id)
        groups = client.xinfo_groups(STORED_EVENTS_STREAM)
    except redis.ResponseError:  # no stream yet: nothing stored since Redis started
        groups = []
    group = next((g for g in groups if g["name"] in (STREAMS_CONSUMER_GROUP, STREAMS_CONSUMER_GROUP.encode())), None)
    if group is not None:
        pending = client.xpending(STORED_EVENTS_STREAM, STREAMS_CONSUMER_GROUP)
        undelivered = client.xrange(STORED_EVENTS_STREAM, f"({_text(group['last-delivered-id'])}", "+", count=1)
        behind = int(pending["pending"]) + int(group.get("lag") or 0)
        firsts = [_stream_ms(pending["min"])] if pending["pending"] else []
        firsts += [_stream_ms(undelivered[0][0])] if undelivered else []
        oldest = min(firsts, default=None)
    return RedisReadings(
        None if beat is None else datetime.fromisoformat(_text(beat)),
        None if epoch is None else _text(epoch),
        behind,
        oldest,
        last_stored,
        _live_clients(client),
    )


def _live_clients(client: redis.Redis) -> dict[str, dict[str, int]]:
    keys = []
    for key in client.scan_iter(match=f"{API_LIVE_CLIENTS_PREFIX}*", count=100):
        keys.append(key)
        if len(keys) >= _MAX_LIVE_KEYS:
            break
    values = client.mget(keys) if keys else []
    counts = {}
    for key, value in zip(keys, values, strict=True):
        if value is not None:
            try:
                counts[_text(key)] = {k: int(v) for k, v in json.loads(value).items()}
            except (ValueError, TypeError, AttributeError):
                continue  # not a count this API wrote: left out
    return counts


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _stream_ms(entry_id: object) -> int:
    return int(_text(entry_id).split("-", 1)[0])
