"""The live channel's message: the flush's index, then its frames, which an API forwards as they are (pure logic)."""

from __future__ import annotations

import pytest

from streams.frames import KpiFrame, LiveFlush, decode_live_flush, encode_batch, encode_live_flush

FRAMES = [
    KpiFrame("payments.tx_count", "67", "5m", 12.0, 12, None, "transactions", None, "2026-11-26T02:30:07+00:00",
             "2026-11-26T02:30:17+00:00", "e1", 41),
    KpiFrame("portal.e_cert_rate", "67", "today", None, None, None, "%,\n%", 90.0, None,
             "2026-11-26T02:30:17+00:00", "e1", 42),
]  # fmt: skip
TEXTS = [f.encode() for f in FRAMES]
EXPECTED = LiveFlush("e1", ["payments.tx_count|67|5m", "portal.e_cert_rate|67|today"], [41, 42], TEXTS)


def test_a_flush_reads_back_as_its_index_and_each_frames_own_text() -> None:
    message = encode_live_flush(FRAMES, encode_batch(TEXTS))
    assert message.splitlines()[0] == (
        '{"epoch":"e1","keys":["payments.tx_count|67|5m","portal.e_cert_rate|67|today"],"seqs":[41,42]}'
    )
    assert decode_live_flush(message.encode()) == EXPECTED
    assert decode_live_flush(encode_live_flush([], encode_batch([]))) == LiveFlush(None, [], [], [])


@pytest.mark.parametrize(
    "batch",
    [encode_batch(TEXTS), "[" + ",".join(TEXTS) + "]", "[\n" + TEXTS[0] + "\n]"],
    ids=["one frame per line", "one line", "a single frame"],
)
def test_a_flush_from_an_engine_without_the_index_is_still_read(batch: str) -> None:
    # Engines before the index published the batch alone, first on one line, then one frame per line.
    count = batch.count('"seq"')
    assert decode_live_flush(batch.encode()) == LiveFlush(
        "e1", EXPECTED.keys[:count], EXPECTED.seqs[:count], TEXTS[:count]
    )
    assert decode_live_flush(b"[]") == LiveFlush(None, [], [], [])


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (b'{"epoch":"e1","keys":["a|b|5m"],"seqs":[1]}\n[\n\n]', ValueError),  # index and frames disagree
        (b'{"epoch":"e1","keys":["a|b|5m"],"seqs":[1,2]}\n[\n{}\n]', ValueError),
        (b'{"epoch":"e1","keys":["a|b|5m"]}\n[\n{}\n]', KeyError),
        (b'{"epoch":"e1","keys":"a","seqs":[]}\n[\n\n]', TypeError),
        (b'{"epoch":"e1","keys":["a|b|5m"],"seqs":[1]}\n[{}]', TypeError),  # frames not one per line
        (b'{"epoch":7,"keys":["a|b|5m"],"seqs":[1]}\n[\n{}\n]', TypeError),
        (b"[1]", TypeError),
        (b"[\n" + TEXTS[0].encode() + b"," + TEXTS[1].encode() + b"\n]", ValueError),  # two frames on a line
        (b'[\n{"kpi": "payments.tx_count"}\n]', KeyError),
        (b"{not json}\n[\n\n]", ValueError),
        (b"7\n[\n\n]", TypeError),
    ],
)
def test_a_message_that_cannot_be_read_raises_for_the_api_to_resynchronise(
    message: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error):
        decode_live_flush(message)
