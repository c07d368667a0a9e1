"""A live client's queue: bounded in frames, never refusing the one delta an idle client waits for (pure logic)."""

from __future__ import annotations

from api.http.live.hub import QUEUE_FRAMES, Delta, Selection, Subscriber
from streams.frames import KpiFrame


def delta(first_seq: int, count: int) -> Delta:
    frames = [
        KpiFrame("payments.tx_count", f"a{n}", "5m", 1.0, None, None, "transactions", None, None, "t", "e", seq)
        for n, seq in enumerate(range(first_seq, first_seq + count))
    ]
    return Delta.of("e", [f.seq for f in frames], [f.encode() for f in frames])


def test_a_full_queue_marks_the_client_lagging_but_an_empty_one_takes_any_delta() -> None:
    idle = Subscriber(Selection())
    idle.offer(delta(1, QUEUE_FRAMES + 500))  # an epoch's first flush: every value at once
    assert (idle.lagging, idle.queued_frames) == (False, QUEUE_FRAMES + 500)
    busy = Subscriber(Selection())
    busy.offer(delta(1, 1_500))
    busy.offer(delta(1_501, 400))
    assert (busy.lagging, busy.queued_frames) == (False, 1_900)
    busy.offer(delta(1_901, 200))  # would hold 2,100 frames
    assert (busy.lagging, busy.queued_frames, list(busy.queue)) == (True, 0, [])
    busy.offer(delta(2_101, 1))  # a lagging client takes nothing until its snapshot
    assert busy.take() == []


def test_a_delta_partly_sent_already_gives_only_the_frames_after_that_seq() -> None:
    shared = delta(41, 4)  # seqs 41–44, as a snapshot taken mid-flush may already hold 41 and 42
    assert (shared.epoch, shared.seqs, shared.last_seq) == ("e", (41, 42, 43, 44), 44)
    assert [KpiFrame.decode(t).seq for t in shared.texts_after(42)] == [43, 44]
    assert shared.texts_after(44) == []
    assert shared.texts_after(40) == list(shared.texts)
