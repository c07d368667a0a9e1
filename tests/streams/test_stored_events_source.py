"""The engine's reading of the stored-events stream: acknowledged once applied, with the next read (real Redis)."""

from __future__ import annotations

import redis

from ingest.stored_events import StoredEventsBatch
from runtime.redis_names import STORED_EVENTS_STREAM
from streams.engine.source import StoredEventsSource

GROUP = "engine-under-test"


def entry(pseq: int) -> StoredEventsBatch:
    return StoredEventsBatch("ingest-1", "s1", pseq, {"transaction": []}, (100 + pseq,))


def pending(client: redis.Redis) -> int:
    return int(client.xpending(STORED_EVENTS_STREAM, GROUP)["pending"])


def test_applied_entries_are_acknowledged_with_the_next_read_and_the_others_stay_pending(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    source = StoredEventsSource(client, "engine-1", group=GROUP)
    source.start_after("0-0")
    ids = [client.xadd(STORED_EVENTS_STREAM, entry(n).encode()) for n in (1, 2, 3)]  # type: ignore[arg-type]

    first = source.read(count=2, block_ms=100)
    assert [(i, b.pseq) for i, b in first] == [(ids[0], 1), (ids[1], 2)]
    source.applied([ids[0]])  # the second one was not accounted for
    assert pending(client) == 2

    second = source.read(count=10, block_ms=100)
    assert [b for _, b in second] == [entry(3)]
    assert pending(client) == 2  # the first acknowledged; the second and third still pending
    assert [p["message_id"] for p in client.xpending_range(STORED_EVENTS_STREAM, GROUP, "-", "+", 10)] == ids[1:]

    source.applied([ids[1], ids[2]])
    assert source.read(count=10, block_ms=1) == []
    assert pending(client) == 0
    client.close()


def test_a_rebuild_acknowledges_every_delivered_entry_applied_or_not(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    source = StoredEventsSource(client, "engine-1", group=GROUP)
    source.start_after("0-0")
    ids = [client.xadd(STORED_EVENTS_STREAM, entry(n).encode()) for n in (1, 2)]  # type: ignore[arg-type]
    assert len(source.read(count=10, block_ms=100)) == 2
    source.applied([ids[0]])

    source.start_after(ids[1].decode())  # what a rebuild does, its checkpoint at the last entry
    assert pending(client) == 0
    assert source.read(count=10, block_ms=1) == []
    client.close()


def _group(client: redis.Redis) -> dict[str, object]:
    [group] = [g for g in client.xinfo_groups(STORED_EVENTS_STREAM) if g["name"] == GROUP.encode()]
    return {"pending": group["pending"], "last": group["last-delivered-id"]}


def test_a_standby_reads_every_entry_without_taking_any_from_the_active_engines_group(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    active = StoredEventsSource(client, "engine-a", group=GROUP)
    active.start_after("0-0")
    standby = StoredEventsSource(client, "engine-b", group=GROUP)
    standby.follow()
    standby.start_after("0-0")  # its rebuild's checkpoint: it does not touch the group
    ids = [client.xadd(STORED_EVENTS_STREAM, entry(n).encode()) for n in (1, 2, 3, 4)]  # type: ignore[arg-type]

    assert [b.pseq for _, b in active.read(count=2, block_ms=100)] == [1, 2]  # the active engine, then killed
    before = _group(client)
    assert before == {"pending": 2, "last": ids[1]}
    assert [b.pseq for _, b in standby.read(count=10, block_ms=100)] == [1, 2, 3, 4]
    assert _group(client) == before  # nothing delivered to the standby through the group, nothing acknowledged

    # The standby takes over: the group goes to where its state stands, the dead engine's pending
    # entries are acknowledged (they are in the standby's state), and only new entries come next.
    standby.join_group()
    assert _group(client) == {"pending": 0, "last": ids[3]}
    new = client.xadd(STORED_EVENTS_STREAM, entry(5).encode())  # type: ignore[arg-type]
    assert [(i, b.pseq) for i, b in standby.read(count=10, block_ms=100)] == [(new, 5)]
    assert _group(client)["pending"] == 1
    client.close()


def test_a_standby_behind_the_group_takes_over_from_its_own_position(redis_url: str) -> None:
    """Entries the dead engine read but the standby had not: delivered again, to the new active one."""
    client = redis.Redis.from_url(redis_url)
    active = StoredEventsSource(client, "engine-a", group=GROUP)
    active.start_after("0-0")
    standby = StoredEventsSource(client, "engine-b", group=GROUP)
    standby.follow()
    standby.start_after("0-0")
    ids = [client.xadd(STORED_EVENTS_STREAM, entry(n).encode()) for n in (1, 2, 3)]  # type: ignore[arg-type]
    assert len(standby.read(count=1, block_ms=100)) == 1
    assert len(active.read(count=10, block_ms=100)) == 3
    standby.join_group()
    assert [(i, b.pseq) for i, b in standby.read(count=10, block_ms=100)] == [(ids[1], 2), (ids[2], 3)]
    client.close()
