"""The hub's fan-out of one flush: each selection gets the new frames it wants, once, in `seq` order (pure logic)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from api.http.live.hub import FrameHub, Selection, Subscriber
from streams.frames import KpiFrame, encode_batch
from streams.live_flush import decode_live_flush, encode_live_flush

REFUSED = Counter("refused", "unused", ["reason"], registry=CollectorRegistry())


def frame(kpi: str, area: str, window: str, seq: int, epoch: str = "e1") -> KpiFrame:
    return KpiFrame(kpi, area, window, float(seq), None, None, "transactions", None, None, "t", epoch, seq)


def publish(hub: FrameHub, frames: list[KpiFrame]) -> None:
    hub._fan_out(decode_live_flush(encode_live_flush(frames, encode_batch([f.encode() for f in frames]))))


def test_each_selection_gets_the_frames_it_wants_and_a_snapshot_holds_the_latest_per_key() -> None:
    hub = FrameHub("redis://unused", REFUSED)
    province = Subscriber(Selection(areas=frozenset({"67"})))
    everything = Subscriber(Selection())
    hub.subscribe(province)
    hub.subscribe(everything)
    first = [frame("payments.tx_count", "67", "5m", 1), frame("payments.tx_count", "660", "5m", 2)]
    publish(hub, first)
    second = [frame("payments.tx_count", "67", "5m", 3), frame("coverage.usable_share", "67", "1h", 4)]
    publish(hub, second)

    assert [d.seqs for d in province.take()] == [(1,), (3, 4)]
    assert [d.texts for d in everything.take()] == [tuple(f.encode() for f in first), tuple(f.encode() for f in second)]
    snapshot = hub.snapshot(Selection(areas=frozenset({"67"})))
    assert (snapshot.epoch, snapshot.seq, snapshot.texts) == ("e1", 4, [second[0].encode(), second[1].encode()])


def test_frames_already_held_are_not_sent_again_and_a_new_epoch_starts_over() -> None:
    hub = FrameHub("redis://unused", REFUSED)
    wall = Subscriber(Selection())
    hub.subscribe(wall)
    publish(hub, [frame("payments.tx_count", "67", "5m", 5)])
    publish(hub, [frame("payments.tx_count", "67", "5m", 4), frame("payments.tx_count", "660", "5m", 6)])
    assert [d.seqs for d in wall.take()] == [(5,), (6,)]

    publish(hub, [frame("payments.tx_count", "660", "5m", 1, epoch="e2")])
    [restart] = wall.take()
    assert (restart.epoch, restart.seqs) == ("e2", (1,))
    assert hub.snapshot(Selection()).texts == [frame("payments.tx_count", "660", "5m", 1, epoch="e2").encode()]
