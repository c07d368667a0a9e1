"""The engine → API records: the live channel's message and the replay stream's entry, versioned (pure logic).

The API reads the current format and the one before it (what the engine published before the
version was written down), and refuses any other as a whole, saying which version it got."""

from __future__ import annotations

import pytest

from runtime.wire import RefusalReason, RefusedRecord
from streams.frames import KpiFrame, encode_batch
from streams.live_flush import (
    FORMAT_VERSION,
    READS,
    LiveFlush,
    ReplayEntry,
    decode_live_flush,
    decode_replay_entry,
    encode_live_flush,
    encode_replay_entry,
)

FRAMES = [
    KpiFrame("payments.tx_count", "67", "5m", 12.0, 12, None, "transactions", None, "2026-11-26T02:30:07+00:00",
             "2026-11-26T02:30:17+00:00", "e1", 41),
    KpiFrame("portal.e_cert_rate", "67", "today", None, None, None, "%,\n%", 90.0, None,
             "2026-11-26T02:30:17+00:00", "e1", 42),
]  # fmt: skip
TEXTS = [f.encode() for f in FRAMES]
EXPECTED = LiveFlush("e1", ["payments.tx_count|67|5m", "portal.e_cert_rate|67|today"], [41, 42], TEXTS)
INDEX = '"epoch":"e1","keys":["payments.tx_count|67|5m","portal.e_cert_rate|67|today"],"seqs":[41,42]'


def test_a_flush_reads_back_as_its_index_and_each_frames_own_text() -> None:
    message = encode_live_flush(FRAMES, encode_batch(TEXTS))
    assert message.splitlines()[0] == "{" + f'"v":{FORMAT_VERSION},' + INDEX + "}"
    assert decode_live_flush(message.encode()) == EXPECTED
    assert decode_live_flush(encode_live_flush([], encode_batch([]))) == LiveFlush(None, [], [], [])
    assert READS == (FORMAT_VERSION - 1, FORMAT_VERSION)


def test_a_flush_of_the_previous_version_is_still_read() -> None:
    # Version 1, as the engine before this one published it: the same index without `v`.
    previous = "{" + INDEX + "}\n" + encode_batch(TEXTS)
    assert decode_live_flush(previous.encode()) == EXPECTED
    assert decode_live_flush(b'{"epoch":null,"keys":[],"seqs":[]}\n[\n\n]') == LiveFlush(None, [], [], [])


def refusal(decode: object, message: object) -> RefusedRecord:
    with pytest.raises(RefusedRecord) as refused:
        decode(message)  # type: ignore[operator]
    return refused.value


@pytest.mark.parametrize(
    ("message", "stated"),
    [
        (b'{"v":3,' + INDEX.encode() + b"}\n" + encode_batch(TEXTS).encode(), "3"),
        (b'{"v":0,"epoch":null,"keys":[],"seqs":[]}\n[\n\n]', "0"),
        (b'{"v":"2","epoch":null,"keys":[],"seqs":[]}\n[\n\n]', "'2'"),  # a string is not a version
        (b'{"v":2.0,"epoch":null,"keys":[],"seqs":[]}\n[\n\n]', "2.0"),
        (b'{"v":true,"epoch":null,"keys":[],"seqs":[]}\n[\n\n]', "True"),
        # Engines before the index published the batch alone.
        (encode_batch(TEXTS).encode(), "none (a batch without an index, from before version 1)"),
        (b"[" + ",".join(TEXTS).encode() + b"]", "none (a batch without an index, from before version 1)"),
    ],
    ids=["future", "zero", "string", "float", "bool", "batch-alone", "batch-on-one-line"],
)
def test_a_flush_of_another_version_is_refused_saying_which(message: bytes, stated: str) -> None:
    refused = refusal(decode_live_flush, message)
    assert (refused.reason, refused.version, refused.producer) == (RefusalReason.VERSION, stated, "the KPI engine")
    assert refused.describe() == (
        f"refused a live flush from the KPI engine in format version {stated}: a version this process does not"
        " read (reads 1 and 2)"
    )


@pytest.mark.parametrize(
    "message",
    [
        b'{"v":2,"epoch":"e1","keys":["a|b|5m"],"seqs":[1]}\n[\n\n]',  # index and frames disagree
        b'{"v":2,"epoch":"e1","keys":["a|b|5m"],"seqs":[1,2]}\n[\n{}\n]',
        b'{"v":2,"epoch":"e1","keys":["a|b|5m"]}\n[\n{}\n]',
        b'{"v":2,"epoch":"e1","keys":"a","seqs":[]}\n[\n\n]',
        b'{"v":2,"epoch":"e1","keys":["a|b|5m"],"seqs":[1]}\n[{}]',  # frames not one per line
        b'{"v":2,"epoch":7,"keys":["a|b|5m"],"seqs":[1]}\n[\n{}\n]',
        b'{"epoch":"e1","keys":["a|b|5m"],"seqs":[1]}\n[\n\n]',  # version 1 is checked as well
        b'{"v":2,"epoch":"e1","keys":["a-b-5m"],"seqs":[1]}\n[\n{}\n]',  # not a frame key
        b'{"v":2,"epoch":"e1","keys":["a|b|5m"],"seqs":["1"]}\n[\n{}\n]',
        b"{not json}\n[\n\n]",
        b"7\n[\n\n]",
        b"\xff\xfe",
        b"",
    ],
)
def test_a_flush_that_is_not_laid_out_as_its_version_says_is_refused(message: bytes) -> None:
    refused = refusal(decode_live_flush, message)
    assert refused.reason == RefusalReason.MALFORMED
    assert refused.describe().startswith("refused a live flush from the KPI engine in format version ")


def test_a_replay_entry_reads_back_and_the_previous_version_too() -> None:
    entry = encode_replay_entry(FRAMES, encode_batch(TEXTS))
    assert entry == {"v": "2", "first_seq": "41", "last_seq": "42", "frames": encode_batch(TEXTS)}
    fields = {k.encode(): v.encode() for k, v in entry.items()}
    assert decode_replay_entry(fields) == ReplayEntry(41, 42, FRAMES)
    del fields[b"v"]  # version 1, as the engine before this one wrote it
    assert decode_replay_entry(fields) == ReplayEntry(41, 42, FRAMES)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({b"v": b"3"}, RefusalReason.VERSION),
        ({b"v": b"02"}, RefusalReason.VERSION),
        ({b"v": b""}, RefusalReason.VERSION),
        ({b"frames": b"[{}]"}, RefusalReason.MALFORMED),
        ({b"frames": b'[{"kpi": "x", "extra": 1}]'}, RefusalReason.MALFORMED),
        ({b"frames": b"not json"}, RefusalReason.MALFORMED),
        ({b"last_seq": b"many"}, RefusalReason.MALFORMED),
    ],
)
def test_a_replay_entry_of_another_version_or_garbage_is_refused(change: dict[bytes, bytes], reason: str) -> None:
    fields = {k.encode(): v.encode() for k, v in encode_replay_entry(FRAMES, encode_batch(TEXTS)).items()}
    refused = refusal(decode_replay_entry, fields | change)
    assert (refused.reason, refused.what) == (reason, "a replay stream entry")
