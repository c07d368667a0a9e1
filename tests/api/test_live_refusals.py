"""What an API process does with a record from another service that it does not read: a flush or replay entry
of a newer engine, a stored-events entry of a newer ingest, or garbage a hostile writer put in Redis.

It refuses the record as a whole, with one log line (which record, from whom, which version, which
versions it reads) and a metric, and carries on: walls resynchronise from the current values, a
resuming wall gets a snapshot, the event tail skips the entry. What it reads, it reads as before:
the websocket's JSON does not change (real Redis for the hub and the replay)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator

import pytest
import redis
from prometheus_client import CollectorRegistry, Counter

from api.http.live.events_tail import EventTail
from api.http.live.hub import FrameHub, Selection, Subscriber
from api.http.live.replay import missed_frames
from ingest.stored_events import StoredEventsBatch, StoredTransaction
from runtime.redis_names import KPI_EPOCH, KPI_FRAMES_CHANNEL, KPI_FRAMES_STREAM
from streams.engine.frame_sink import FrameSink
from streams.frames import KpiFrame
from tests.streams.test_stored_event_records import AT, V1_FIELDS


def refused_counter() -> Counter:
    return Counter("refused", "refused records", ["reason"], registry=CollectorRegistry())


def count(counter: Counter, reason: str) -> float:
    [metric] = counter.collect()
    return sum(s.value for s in metric.samples if s.name == "refused_total" and s.labels == {"reason": reason})


def stream_fields(batch: StoredEventsBatch) -> dict[bytes, bytes]:
    return {k.encode(): v.encode() for k, v in batch.encode().items()}


def test_the_event_tail_sends_stored_events_as_before_and_skips_an_entry_it_does_not_read(
    caplog: pytest.LogCaptureFixture,
) -> None:
    refused = refused_counter()
    tail = EventTail("redis://unused", None, refused)  # type: ignore[arg-type]
    stored = StoredTransaction("counter-9", "24615", AT, 2, "tax", "cash", 10_000, "succeeded")
    expected = {
        "type": "transaction", "publisher_id": "counter-9", "area_code": "24615",
        "occurred_at": "2026-11-26T02:30:07.250001+00:00", "seq": 2, "sector": "tax", "method": "cash",
        "amount_vnd": 10_000, "outcome": "succeeded",
    }  # fmt: skip
    events = tail._events_of(stream_fields(StoredEventsBatch("ingest-0", "s1", 1, {"transaction": [stored]})))
    assert json.dumps(events) == json.dumps([expected])  # the same keys, in the same order, as the API sent
    previous = tail._events_of(V1_FIELDS)  # an ingest of the previous release
    assert [e["type"] for e in previous] == ["dossier", "dossier", "transaction", "sample", "status"]
    assert previous[2]["occurred_at"] == "2026-11-26T02:30:07.250001+00:00"

    with caplog.at_level(logging.ERROR, logger="api.http.live.events_tail"):
        assert tail._events_of(V1_FIELDS | {b"v": b"3"}) == []
        assert tail._events_of(V1_FIELDS | {b"v": b"2", b"columns": b"{}"}) == []
    assert (count(refused, "version"), count(refused, "malformed")) == (1, 1)
    assert caplog.messages[0] == (
        "event tail: refused a stored-events entry from ingest-1 in format version 3: a version this process does"
        " not read (reads 1 and 2); its events are not tailed"
    )


def a_frame(seq: int, epoch: str = "e1") -> KpiFrame:
    return KpiFrame(
        "payments.tx_count", "67", "5m", float(seq), None, None, "transactions", None, None, "t", epoch, seq
    )


@pytest.fixture
def engine_output(redis_url: str) -> Iterator[tuple[redis.Redis, FrameSink]]:
    """Redis as an engine of this release leaves it after its first flush of epoch `e1`."""
    client = redis.Redis.from_url(redis_url)
    sink = FrameSink(client)
    sink.write([a_frame(1)], new_epoch="e1")
    yield client, sink
    client.close()


@pytest.mark.integration
def test_the_hub_refuses_a_newer_engines_flush_and_resynchronises_its_walls(
    redis_url: str, engine_output: tuple[redis.Redis, FrameSink], caplog: pytest.LogCaptureFixture
) -> None:
    client, sink = engine_output
    refused = refused_counter()

    async def run() -> None:
        hub = FrameHub(redis_url, refused)
        hub.start()
        try:
            await asyncio.wait_for(hub.ready.wait(), 10)
            wall = Subscriber(Selection())
            hub.subscribe(wall)
            sink.write([a_frame(2)])
            while not wall.queue:
                await asyncio.sleep(0.02)
            assert [d.seqs for d in wall.take()] == [(2,)]

            # A newer engine (or anyone who can write to Redis) publishes what this API does not read.
            sink.write([a_frame(3)])  # what the flush would have said, in the current values
            client.publish(KPI_FRAMES_CHANNEL, b'{"v":3,"epoch":"e1","keys":["payments.tx_count|67|5m"],"seqs":[3]}\nX')
            while not wall.lagging:
                await asyncio.sleep(0.02)
            await asyncio.wait_for(hub.ready.wait(), 10)  # reloaded from the current values
            assert hub.snapshot(Selection()).seq == 3
            client.publish(KPI_FRAMES_CHANNEL, b"\xff garbage")
            while count(refused, "malformed") < 1:
                await asyncio.sleep(0.02)
        finally:
            await hub.stop()

    with caplog.at_level(logging.ERROR, logger="api.http.live.hub"):
        asyncio.run(run())
    assert (count(refused, "version"), count(refused, "malformed")) == (1, 1)
    assert caplog.messages[0] == (
        "live frames: refused a live flush from the KPI engine in format version 3: a version this process does"
        " not read (reads 1 and 2); clients will resynchronise"
    )


@pytest.mark.integration
def test_a_resuming_wall_gets_a_snapshot_when_the_replay_holds_an_entry_this_api_does_not_read(
    engine_output: tuple[redis.Redis, FrameSink], caplog: pytest.LogCaptureFixture
) -> None:
    client, sink = engine_output
    sink.write([a_frame(2)])
    refused = refused_counter()
    assert missed_frames(client, "e1", 1, refused) == [a_frame(2)]

    client.xadd(KPI_FRAMES_STREAM, {"v": "3", "first_seq": "3", "last_seq": "3", "frames": "[]"})
    with caplog.at_level(logging.ERROR, logger="api.http.live.replay"):
        assert missed_frames(client, "e1", 1, refused) is None
        client.xadd(KPI_FRAMES_STREAM, {"v": "2", "first_seq": "4", "last_seq": "4", "frames": "[{}]"})
        assert missed_frames(client, "e1", 3, refused) is None
    assert (count(refused, "version"), count(refused, "malformed")) == (1, 1)
    assert caplog.messages[0] == (
        "live frames: refused a replay stream entry from the KPI engine in format version 3: a version this process"
        " does not read (reads 1 and 2); the client gets a snapshot instead"
    )
    assert caplog.messages[1].startswith(
        "live frames: refused a replay stream entry from the KPI engine in format version 2: TypeError: "
    )
    assert client.get(KPI_EPOCH) == b"e1"
