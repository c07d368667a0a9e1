"""The benchmarks' rule for the frame that first counted an event (pure logic)."""

from __future__ import annotations

from tools.bench.frame_arrivals import FrameArrivals

# (arrival, s; last_event_at, µs): the third frame reaches back less far than the second.
FRAMES = [(10.0, 1_000), (10.1, 5_000), (10.2, 4_000), (10.3, 9_000)]


def test_the_first_frame_reaching_the_event_after_its_commit_counts_it() -> None:
    arrivals = FrameArrivals(FRAMES)
    assert arrivals.first_counting(occurred_us=1_000, committed=9.0) == 10.0
    assert arrivals.first_counting(occurred_us=4_500, committed=9.0) == 10.1
    assert arrivals.first_counting(occurred_us=6_000, committed=9.0) == 10.3


def test_a_frame_that_arrived_before_the_commit_does_not_count_it() -> None:
    arrivals = FrameArrivals(FRAMES)
    # Reached by the frame at 10.1, but committed after it arrived: the next frame counts it.
    assert arrivals.first_counting(occurred_us=2_000, committed=10.15) == 10.2


def test_a_frame_whose_window_holds_nothing_as_late_does_not_count_it() -> None:
    # The frame at 10.2 arrived after the commit, but the latest event in it is older than the event.
    assert FrameArrivals(FRAMES).first_counting(occurred_us=4_500, committed=10.15) == 10.3
    assert FrameArrivals([(10.0, 5_000), (10.2, 1_000)]).first_counting(occurred_us=4_500, committed=10.1) is None


def test_an_event_no_frame_counted_has_none() -> None:
    arrivals = FrameArrivals(FRAMES)
    assert arrivals.first_counting(occurred_us=9_500, committed=9.0) is None
    assert arrivals.first_counting(occurred_us=1_000, committed=10.5) is None
    assert FrameArrivals([]).first_counting(occurred_us=1, committed=0.0) is None
