"""The store-and-forward queue on its own: order, seq, acknowledgement, bound, compaction, recovery."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from publisher import DiskQueue, MemoryQueue
from publisher.records import Record, encode

TOPIC = "ioc/v1/coverage/probe-1/sample"


def payload(seq: int) -> bytes:
    return f'{{"seq":{seq}}}'.encode()


def fill(queue: DiskQueue | MemoryQueue, count: int) -> list[int]:
    return [queue.append_numbered(TOPIC, payload) for _ in range(count)]


def drain(queue: DiskQueue | MemoryQueue, limit: int = 1000) -> list[int]:
    """Takes everything and acknowledges it in order; returns the seqs seen."""
    seen = []
    while batch := queue.take(limit):
        for message in batch:
            assert message.payload == payload(message.seq)
            seen.append(message.seq)
            queue.done(message)
    return seen


def segments(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.seg"))


def test_messages_come_out_in_order_and_a_restart_sends_only_what_was_not_acknowledged(tmp_path: Path) -> None:
    queue = DiskQueue(tmp_path)
    assert fill(queue, 10) == list(range(1, 11))
    first = queue.take(4)
    for message in first:
        queue.done(message)
    queue.take(2)  # in flight when the process stops: not acknowledged, so sent again
    queue.close()

    again = DiskQueue(tmp_path)
    assert again.pending == 6
    assert drain(again) == [5, 6, 7, 8, 9, 10]
    assert fill(again, 2) == [11, 12]  # seq carries on, never reused
    assert again.pending == 2


def test_acknowledgements_out_of_order_move_the_position_only_over_a_finished_prefix(tmp_path: Path) -> None:
    queue = DiskQueue(tmp_path)
    fill(queue, 3)
    _one, two, three = queue.take(3)
    queue.done(three)
    queue.done(two)
    assert queue.pending == 3
    queue.close()
    assert drain(DiskQueue(tmp_path)) == [1, 2, 3]  # the first was never acknowledged: all three again


def test_seq_is_not_reused_after_everything_was_acknowledged_and_removed(tmp_path: Path) -> None:
    queue = DiskQueue(tmp_path, max_bytes=64 * 1024)
    fill(queue, 2000)
    drain(queue)
    queue.close()
    assert len(segments(tmp_path)) == 1  # finished segments were removed
    assert fill(DiskQueue(tmp_path, max_bytes=64 * 1024), 1) == [2001]


def test_fully_acknowledged_segments_are_removed_while_running(tmp_path: Path) -> None:
    queue = DiskQueue(tmp_path, max_bytes=64 * 1024, position_interval_seconds=0)
    fill(queue, 1000)
    assert len(segments(tmp_path)) > 4
    drain(queue)
    queue.maintain()
    assert len(segments(tmp_path)) == 1
    queue.close()


def test_at_the_bound_the_oldest_are_dropped_counted_and_the_count_survives_a_restart(tmp_path: Path) -> None:
    bound = 64 * 1024
    queue = DiskQueue(tmp_path, max_bytes=bound)
    fill(queue, 10_000)  # about 5 times the bound
    assert sum(p.stat().st_size for p in segments(tmp_path)) <= bound
    kept = queue.pending
    assert queue.dropped == 10_000 - kept
    assert queue.dropped > 7000
    queue.close()

    again = DiskQueue(tmp_path, max_bytes=bound)
    assert again.dropped == 10_000 - kept
    seqs = drain(again)
    assert seqs == list(range(10_001 - kept, 10_001))  # the newest, in order, none missing in between


def test_messages_in_flight_when_their_segment_is_dropped_are_not_counted_as_dropped(tmp_path: Path) -> None:
    queue = MemoryQueue(max_bytes=2000)
    fill(queue, 10)
    in_flight = queue.take(5)
    fill(queue, 200)
    assert queue.dropped + queue.pending == 210  # the 5 in flight are pending, not dropped
    assert queue.dropped > 150
    for message in in_flight:
        queue.done(message)
    disk = DiskQueue(tmp_path, max_bytes=64 * 1024)
    fill(disk, 10)
    flying = disk.take(5)
    fill(disk, 10_000)
    for message in flying:
        disk.done(message)  # acknowledged after their segment went: nothing breaks
    # The 5 in flight went with their segment: handed to the broker, neither pending nor dropped.
    assert disk.dropped + disk.pending + 5 == 10_010
    disk.close()


def test_a_record_torn_by_a_kill_mid_write_is_discarded_and_the_rest_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    queue = DiskQueue(tmp_path)
    fill(queue, 5)
    queue.close()
    newest = segments(tmp_path)[-1]
    whole = encode(Record(6, TOPIC, payload(6)))
    with newest.open("ab") as file:
        file.write(whole[: len(whole) - 3])
    with caplog.at_level(logging.WARNING):
        again = DiskQueue(tmp_path)
    assert "cut short" in caplog.text
    assert drain(again) == [1, 2, 3, 4, 5]
    assert fill(again, 1) == [6]
    assert list(tmp_path.glob("*.corrupt-*")) == []  # an expected tear is not damage


def test_a_damaged_segment_is_set_aside_logged_and_what_precedes_the_damage_is_sent(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    queue = DiskQueue(tmp_path, max_bytes=64 * 1024)
    fill(queue, 300)
    queue.close()
    first = segments(tmp_path)[0]
    data = bytearray(first.read_bytes())
    record_size = len(encode(Record(1, TOPIC, payload(1))))
    data[record_size * 10 + 12] ^= 0xFF  # a bit flip inside the eleventh record's body
    first.write_bytes(bytes(data))
    with caplog.at_level(logging.ERROR):
        again = DiskQueue(tmp_path, max_bytes=64 * 1024)
    assert "damaged record" in caplog.text
    assert len(list(tmp_path.glob("*.seg.corrupt-*"))) == 1
    seqs = drain(again)
    assert seqs[:10] == list(range(1, 11))
    assert seqs[10] > 11  # the rest of that segment is lost, the later segments are whole
    assert seqs == sorted(seqs)
    assert fill(again, 1) == [301]


def test_a_finished_segment_cut_short_is_set_aside_too(tmp_path: Path) -> None:
    queue = DiskQueue(tmp_path, max_bytes=64 * 1024)
    fill(queue, 300)
    queue.close()
    first = segments(tmp_path)[0]
    os.truncate(first, first.stat().st_size - 5)
    seqs = drain(DiskQueue(tmp_path, max_bytes=64 * 1024))
    assert len(list(tmp_path.glob("*.seg.corrupt-*"))) == 1
    assert seqs == sorted(seqs)
    assert seqs[-1] == 300
    assert len(seqs) == 299


@pytest.mark.parametrize(
    "content", [b"", b"{not json", b'{"version": 1}', b'{"version": 1, "segment": 1, "offset": 7, "next_seq": 1,'
    b' "dropped": 0}', b'{"version": 9, "segment": 1, "offset": 0, "next_seq": 1, "dropped": 0}', b"[]"],
)  # fmt: skip
def test_a_damaged_position_file_is_set_aside_and_everything_is_sent_again(tmp_path: Path, content: bytes) -> None:
    queue = DiskQueue(tmp_path)
    fill(queue, 5)
    for message in queue.take(3):
        queue.done(message)
    queue.close()
    (tmp_path / "position.json").write_bytes(content)
    assert drain(DiskQueue(tmp_path)) == [1, 2, 3, 4, 5]  # duplicates, stored once by the ingest; nothing lost


def test_a_message_larger_than_the_bound_is_refused_at_once(tmp_path: Path) -> None:
    queue = DiskQueue(tmp_path, max_bytes=64 * 1024)
    with pytest.raises(ValueError, match="cannot fit"):
        queue.append(TOPIC, b"x" * 64 * 1024)
    assert queue.pending == 0
    queue.close()


_WRITER = """
import sys
from publisher import DiskQueue
queue = DiskQueue(sys.argv[1], fsync_interval_ms=0)
sent = queue.take(10**6)
for message in sent[: len(sent) // 2]:
    queue.done(message)
queue.maintain()
print("ready", flush=True)
while True:
    queue.append_numbered("ioc/v1/coverage/p/sample", lambda seq: b"x" * (seq % 500))
"""


def test_kill_9_while_appending_loses_nothing_written_and_reuses_no_seq(tmp_path: Path) -> None:
    """A real SIGKILL of a process appending as fast as it can, three times over the same folder."""
    last_seq = 0
    for _ in range(3):
        writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path)], stdout=subprocess.PIPE)
        assert writer.stdout is not None
        assert writer.stdout.readline() == b"ready\n"
        time.sleep(0.3)
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
        writer.stdout.close()
        queue = DiskQueue(tmp_path)
        seqs = [m.seq for m in queue.take(10**7)]
        assert seqs == list(range(seqs[0], seqs[-1] + 1))  # in order, no hole
        assert seqs[-1] > last_seq  # the killed process wrote more; nothing it wrote is lost
        last_seq = seqs[-1]
        queue.close()


@pytest.mark.parametrize("newest", [False, True], ids=["finished-segment", "segment-being-written"])
def test_a_segment_damaged_while_running_is_set_aside_and_sending_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, newest: bool
) -> None:
    queue = DiskQueue(tmp_path, max_bytes=64 * 1024)
    fill(queue, 300 if not newest else 20)
    first = queue.take(5)
    damaged = segments(tmp_path)[0]
    record_size = len(encode(Record(1, TOPIC, payload(1))))
    with damaged.open("r+b") as file:  # the disk changes under the running queue: the 11th record
        file.seek(record_size * 10 + 12)
        file.write(b"\xff")
    with caplog.at_level(logging.ERROR):
        later = queue.take(1000)
    assert "set aside" in caplog.text
    assert len(list(tmp_path.glob("*.seg.corrupt-*"))) == 1
    assert [m.seq for m in first + later][:10] == list(range(1, 11))
    for message in first + later:
        queue.done(message)
    assert fill(queue, 1) == [301 if not newest else 21]  # appends go on, into a whole segment
    assert [m.seq for m in queue.take(10)] == [301 if not newest else 21]
    lost = (300 if not newest else 20) - len(first + later)
    assert queue.dropped == lost
    assert queue.pending == 1
    queue.close()
    assert DiskQueue(tmp_path, max_bytes=64 * 1024).pending == 1  # and a restart agrees
