"""The spool's files: what goes in comes back exactly, whole or not at all, and never silently lost."""

from __future__ import annotations

import logging
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest.records import RawMessage
from ingest.storage.spool import SPOOLED_GENERATION, Spool, SpoolUnavailable

AT = datetime(2026, 12, 7, 5, 4, 3, 123456, tzinfo=UTC)


def message(n: int, payload: bytes | None = None, topic: str = "ioc/v1/payments/pos-1/transaction") -> RawMessage:
    body = payload if payload is not None else f'{{"n": {n}}}'.encode()
    return RawMessage(topic, body, mid=n, qos=1, received_at=AT + timedelta(microseconds=n), received_monotonic=0.0,
                      generation=3)  # fmt: skip


def opened(directory: Path, max_bytes: int = 10_000_000) -> Spool:
    spool = Spool(directory, max_bytes)
    spool.open()
    return spool


def test_a_batch_comes_back_exactly_with_its_arrival_times(tmp_path: Path) -> None:
    spool = opened(tmp_path)
    batch = [
        message(1),
        message(2, payload=b"\x00\xff not json at all"),  # refused later, but kept as received
        message(3, topic="ioc/v1/coverage/đắk-song-probe/sample"),
        message(4, payload=b""),
    ]
    assert spool.append(batch)
    [back] = spool.oldest(2000)
    assert [(m.topic, m.payload, m.received_at) for m in back.messages] == [
        (m.topic, m.payload, m.received_at) for m in batch
    ]
    # Read back from disk, a message was acknowledged when it was written: never acknowledged again.
    assert {m.generation for m in back.messages} == {SPOOLED_GENERATION}
    assert spool.messages == 4
    spool.remove(back)
    assert (spool.messages, spool.bytes) == (0, 0)
    assert spool.oldest(2000) == []
    assert list(tmp_path.glob("*.batch")) == []


def test_files_come_back_oldest_first_about_a_batch_at_a_time(tmp_path: Path) -> None:
    spool = opened(tmp_path)
    for first in range(0, 50, 10):
        assert spool.append([message(n) for n in range(first, first + 10)])
    taken = spool.oldest(25)
    assert [m.payload for f in taken for m in f.messages] == [message(n).payload for n in range(20)]  # a third: > 25
    assert len(spool.oldest(1)) == 1  # at least one file, however small the bound


def test_what_waits_survives_a_restart_and_half_written_files_are_forgotten(tmp_path: Path) -> None:
    spool = opened(tmp_path)
    assert spool.append([message(n) for n in range(7)])
    size = spool.bytes
    spool.close()
    # A crash between write and rename: never acknowledged, so the broker still has those messages.
    (tmp_path / "000000000001-5.tmp").write_bytes(b"IOC-SPOOL 1\npartial")
    again = opened(tmp_path)
    assert (again.messages, again.bytes) == (7, size)
    assert not list(tmp_path.glob("*.tmp"))
    assert again.append([message(8)])
    # The new file after the old ones (the sequence goes on from what is on disk).
    assert [m.payload for f in again.oldest(100) for m in f.messages] == [message(n).payload for n in (*range(7), 8)]


def test_the_bound_refuses_a_batch_and_writes_nothing(tmp_path: Path) -> None:
    spool = opened(tmp_path, max_bytes=400)
    assert spool.append([message(n) for n in range(5)])
    assert not spool.append([message(n) for n in range(5, 30)])
    assert spool.messages == 5
    assert len(list(tmp_path.glob("*.batch"))) == 1


def test_a_second_process_on_the_same_folder_gets_none(tmp_path: Path) -> None:
    first = opened(tmp_path)
    with pytest.raises(SpoolUnavailable, match="held by another ingest process"):
        Spool(tmp_path, 1000).open()
    first.close()
    opened(tmp_path).close()


def test_a_tampered_or_damaged_file_is_set_aside_counted_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = opened(tmp_path)
    assert spool.append([message(n) for n in range(3)])
    assert spool.append([message(n) for n in range(3, 5)])
    spool.close()
    damaged = sorted(tmp_path.glob("*.batch"))[0]
    data = bytearray(damaged.read_bytes())
    data[20] ^= 0xFF  # a flipped bit: the checksum no longer matches
    damaged.write_bytes(bytes(data))
    # Hostile: a well-checksummed file whose record claims more bytes than there are.
    body = b"IOC-SPOOL 1\n" + (10).to_bytes(8, "big") + (5).to_bytes(2, "big") + (10**9).to_bytes(4, "big") + b"x"
    (tmp_path / "000000000009-1.batch").write_bytes(body + zlib.crc32(body).to_bytes(4, "big"))
    (tmp_path / "notes.batch").write_text("an operator's file: not ours, left alone")
    again = opened(tmp_path)
    with caplog.at_level(logging.ERROR, logger="ingest.storage.spool"):
        taken = again.oldest(100)
    assert [len(f.messages) for f in taken] == [2]
    assert again.set_aside == 4  # 3 + 1 acknowledged messages that cannot come back: counted, not hidden
    assert sorted(p.name for p in (tmp_path / "corrupt").iterdir()) == [damaged.name, "000000000009-1.batch"]
    assert "cannot be read" in caplog.text
    assert (tmp_path / "notes.batch").exists()
    assert again.messages == 2
