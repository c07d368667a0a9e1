"""The hub reads an engine flush once and forwards each frame's own text (pure logic)."""

from __future__ import annotations

import pytest

from api.http.live.hub import LiveFrame, live_frames
from streams.frames import KpiFrame, encode_batch

FRAMES = [
    KpiFrame("payments.tx_count", "67", "5m", 12.0, 12, None, "transactions", None, "2026-11-26T02:30:07+00:00",
             "2026-11-26T02:30:17+00:00", "e1", 41),
    KpiFrame("portal.e_cert_rate", "67", "today", None, None, None, "%", 90.0, None,
             "2026-11-26T02:30:17+00:00", "e1", 42),
]  # fmt: skip


def test_a_flush_becomes_live_frames_carrying_the_engines_own_text() -> None:
    batch = encode_batch([f.encode() for f in FRAMES]).encode()
    assert live_frames(batch) == [
        LiveFrame("payments.tx_count", "67", "5m", "e1", 41, FRAMES[0].encode()),
        LiveFrame("portal.e_cert_rate", "67", "today", "e1", 42, FRAMES[1].encode()),
    ]
    assert live_frames(encode_batch([]).encode()) == []


@pytest.mark.parametrize("count", [0, 1, 2])
def test_a_flush_not_one_frame_per_line_is_still_read_and_encoded_here(count: int) -> None:
    # An engine from before the one-frame-per-line batches, during an upgrade.
    batch = ("[" + ",".join(f.encode() for f in FRAMES[:count]) + "]").encode()
    assert live_frames(batch) == [LiveFrame.from_frame(f) for f in FRAMES[:count]]


def test_a_flush_whose_lines_do_not_match_its_frames_raises() -> None:
    two_on_one_line = "[\n" + ",".join(f.encode() for f in FRAMES) + "\n]"
    with pytest.raises(ValueError, match="lines do not match"):
        live_frames(two_on_one_line.encode())


@pytest.mark.parametrize(
    ("batch", "error"),
    [(b"[\n{not json}\n]", ValueError), (b'[\n{"kpi": "payments.tx_count"}\n]', KeyError), (b"{}", TypeError),
     (b"[\n1\n]", TypeError)],
)  # fmt: skip
def test_a_flush_the_hub_cannot_read_raises_for_the_hub_to_resynchronise(batch: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        live_frames(batch)
