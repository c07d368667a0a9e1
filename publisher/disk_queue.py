"""The store-and-forward queue on local disk: what a publisher made survives hours offline and a reboot.

Messages are appended to segment files (`segments.py`) in the order they were made and sent from
there in that order. The position of the first message the broker has not yet acknowledged is saved
in `position.json` every `position_interval_seconds`, when a segment is removed, and on close; after
a crash the messages acknowledged since the last save are sent again (the ingest stores an event
once, whatever the number of copies). Segments wholly behind that position are deleted.

Durability: a record is written with one `write()` as it is appended, so a killed process loses
nothing it appended. Against power loss, the file is fsynced every `fsync_interval_ms` (0: after
every message): at most that much of the latest events can be lost with the power.

Bound: the segments together hold at most `max_bytes`. A message that would pass it first drops the
oldest segment; its messages not yet handed to the broker are counted in `dropped` (saved, so a
restart keeps counting), and those in flight are counted too if no acknowledgement comes before the
publisher stops. The bound is thus kept to a segment's size (a sixteenth of it).

`seq` is given under the queue's lock and saved with the record, and the next one with the position:
a restart carries on from the highest ever written, never reusing one.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from publisher.queue_base import QueuedMessage, Window
from publisher.records import Record, encode
from publisher.segments import (
    SavedPosition,
    Segment,
    load_position,
    read_record,
    recover_segments,
    save_position,
    segment_path,
    set_aside,
)

log = logging.getLogger(__name__)
DEFAULT_MAX_BYTES = 100 * 2**20
_MIN_SEGMENT_BYTES = 4096


class DiskQueue:
    def __init__(
        self,
        directory: Path | str,
        max_bytes: int = DEFAULT_MAX_BYTES,
        fsync_interval_ms: int = 200,
        position_interval_seconds: float = 1.0,
    ) -> None:
        if max_bytes < 4 * _MIN_SEGMENT_BYTES:
            raise ValueError(f"max_bytes must be at least {4 * _MIN_SEGMENT_BYTES}")
        self._dir = Path(directory)
        self._dir.mkdir(parents=True, exist_ok=True)
        self._max_bytes = max_bytes
        self._segment_bytes = max(_MIN_SEGMENT_BYTES, max_bytes // 16)
        self._fsync_seconds = fsync_interval_ms / 1000
        self._position_seconds = position_interval_seconds
        self._lock = threading.Lock()
        self._window = Window()
        self._segments: dict[int, Segment] = {}  # in id order
        self._acked: tuple[int, int] = (0, 0)  # where the first message not yet done starts
        self._send: tuple[int, int] = (0, 0)  # where the next message to take starts
        self._pending = 0
        self._readers: dict[int, int] = {}  # segment id -> read-only descriptor
        self._orphans: set[tuple[int, int]] = set()  # in flight when their segment was dropped
        self._recover()
        self._last_fsync = self._last_save = time.monotonic()
        self._unsynced = self._unsaved = False

    # The interface of queue_base.EventQueue.

    @property
    def dropped(self) -> int:
        with self._lock:
            return self._dropped

    @property
    def pending(self) -> int:
        with self._lock:
            return self._pending

    def append(self, topic: str, payload: bytes) -> None:
        with self._lock:
            self._write(encode(Record(0, topic, payload)))

    def append_numbered(self, topic: str, build: Callable[[int], bytes]) -> int:
        with self._lock:
            seq = self._next_seq
            self._write(encode(Record(seq, topic, build(seq))))
            self._next_seq += 1
            return seq

    def take(self, limit: int) -> list[QueuedMessage]:
        with self._lock:
            taken: list[QueuedMessage] = []
            while len(taken) < limit:
                segment = self._segments[self._send[0]]
                if self._send[1] >= segment.size:
                    later = [i for i in self._segments if i > segment.id]
                    if not later:
                        break
                    self._send = (later[0], 0)
                    continue
                try:
                    record, end = self._read(segment, self._send[1])
                except OSError as exc:
                    self._skip_damaged(segment, exc)
                    continue
                message = QueuedMessage((segment.id, end), record.seq, record.topic, record.payload)
                self._window.add(message)
                taken.append(message)
                self._send = (segment.id, end)
            return taken

    def done(self, message: QueuedMessage) -> None:
        with self._lock:
            self._orphans.discard(message.key)
            finished = self._window.done(message)
            if finished:
                self._pending -= len(finished)
                self._acked = finished[-1].key
                self._unsaved = True

    def abandon_in_flight(self) -> None:
        with self._lock:
            self._dropped += len(self._orphans)
            self._orphans.clear()
            self._unsaved = True

    def maintain(self) -> None:
        with self._lock:
            now = time.monotonic()
            if self._unsynced and now - self._last_fsync >= self._fsync_seconds:
                self._fsync()
            if self._unsaved and now - self._last_save >= self._position_seconds:
                self._save()
                self._compact()

    def close(self) -> None:
        self.abandon_in_flight()
        with self._lock:
            self._fsync()
            self._save()
            self._compact()
            os.close(self._fd)
            for fd in self._readers.values():
                os.close(fd)
            self._readers.clear()

    # Inside, under the lock.

    def _recover(self) -> None:
        segments = recover_segments(self._dir)
        saved = load_position(self._dir)
        self._next_seq = max([saved.next_seq if saved else 1, *(s.max_seq + 1 for s in segments)])
        self._dropped = saved.dropped if saved else 0
        if not segments:
            first = segment_path(self._dir, (saved.segment if saved else 0) + 1)
            first.touch()
            segments = [Segment(int(first.stem), first, 0, 0)]
        self._segments = {s.id: s for s in segments}
        self._acked = self._recovered_position(saved, segments)
        acked_segment = self._segments[self._acked[0]]
        self._pending = sum(s.records for s in segments if s.id > acked_segment.id) + sum(
            1 for b in acked_segment.boundaries if b >= self._acked[1]
        )
        for s in segments:
            s.boundaries = []
        self._send = self._acked
        active = segments[-1]
        self._fd = os.open(active.path, os.O_WRONLY | os.O_APPEND)
        self._compact()
        log.info("queue %s: %d messages to send, next seq %d", self._dir, self._pending, self._next_seq)

    def _recovered_position(self, saved: SavedPosition | None, segments: list[Segment]) -> tuple[int, int]:
        if saved is None:
            return segments[0].id, 0
        at_or_after = [s for s in segments if s.id >= saved.segment]
        if not at_or_after:  # everything written was done and removed
            return segments[-1].id, segments[-1].size
        segment = at_or_after[0]
        if segment.id != saved.segment:
            return segment.id, 0
        if saved.offset == segment.size or saved.offset in segment.boundaries:
            return segment.id, saved.offset
        log.error(
            "queue %s: saved position %d is not a record boundary of %s; sending that segment again from its start",
            self._dir, saved.offset, segment.path.name,
        )  # fmt: skip
        return segment.id, 0

    def _write(self, data: bytes) -> None:
        if len(data) > self._max_bytes - self._segment_bytes:
            raise ValueError(f"a message of {len(data)} bytes cannot fit a queue of {self._max_bytes}")
        active = self._active()
        if active.size and active.size + len(data) > self._segment_bytes:
            active = self._roll()
        while sum(s.size for s in self._segments.values()) + len(data) > self._max_bytes:
            self._drop_oldest()
        os.write(self._fd, data)
        active.size += len(data)
        active.records += 1
        self._pending += 1
        self._unsynced = True
        if self._fsync_seconds == 0:
            self._fsync()

    def _active(self) -> Segment:
        return self._segments[next(reversed(self._segments))]

    def _roll(self) -> Segment:
        self._fsync()
        os.close(self._fd)
        path = segment_path(self._dir, self._active().id + 1)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
        segment = self._segments[int(path.stem)] = Segment(int(path.stem), path, 0, 0)
        return segment

    def _drop_oldest(self) -> None:
        oldest = self._segments[next(iter(self._segments))]
        if oldest is self._active():
            raise AssertionError("the bound leaves room for more than one segment")
        following = next(i for i in self._segments if i > oldest.id)
        unsent = 0
        if self._send[0] == oldest.id:
            unsent = self._count(oldest, self._send[1])
            self._send = (following, 0)
        in_flight, unfinished = self._window.forget(lambda m: m.key[0] == oldest.id)
        self._orphans.update(m.key for m in unfinished)
        if self._acked[0] == oldest.id:
            self._acked = (following, 0)
            self._pending -= unsent + in_flight
        self._dropped += unsent
        log.warning("queue %s: full (%d bytes): dropped %d unsent messages", self._dir, self._max_bytes, unsent)
        self._save()
        self._remove(oldest)

    def _skip_damaged(self, segment: Segment, error: OSError) -> None:
        """A record that was whole is not any more (the disk, or someone, changed the file while we
        ran): the file is set aside, cut to what was read, and its unread messages count as dropped.
        Sending goes on with the next segment instead of stopping at the damage."""
        if segment is self._active():
            self._roll()
        readable = self._count(segment, 0, self._send[1])
        lost = segment.records - readable
        aside = set_aside(segment.path, copy=True)
        os.truncate(segment.path, self._send[1])
        segment.size, segment.records = self._send[1], readable
        self._dropped += lost
        self._pending -= lost
        self._send = (next(i for i in self._segments if i > segment.id), 0)
        self._save()
        log.error("%s; set aside as %s, %d unread messages dropped", error, aside.name, lost)

    def _count(self, segment: Segment, offset: int, end: int | None = None) -> int:
        count = 0
        while offset < (segment.size if end is None else end):
            offset = self._read(segment, offset)[1]
            count += 1
        return count

    def _read(self, segment: Segment, offset: int) -> tuple[Record, int]:
        fd = self._readers.get(segment.id)
        if fd is None:
            fd = self._readers[segment.id] = os.open(segment.path, os.O_RDONLY)
        return read_record(fd, segment.path, offset)

    def _fsync(self) -> None:
        os.fsync(self._fd)
        self._last_fsync = time.monotonic()
        self._unsynced = False

    def _save(self) -> None:
        position = SavedPosition(self._acked[0], self._acked[1], self._next_seq, self._dropped)
        save_position(self._dir, position)
        self._last_save = time.monotonic()
        self._unsaved = False

    def _compact(self) -> None:
        """Removes the segments wholly behind the acknowledged position (a removed segment the saved
        position still names is read back as "from the start of the next one", the same place)."""
        active = self._active()
        while self._acked[0] != active.id and self._acked[1] >= self._segments[self._acked[0]].size:
            self._acked = (next(i for i in self._segments if i > self._acked[0]), 0)
        if self._send[0] < self._acked[0]:
            self._send = self._acked
        for segment in [s for s in self._segments.values() if s.id < self._acked[0]]:
            self._remove(segment)

    def _remove(self, segment: Segment) -> None:
        fd = self._readers.pop(segment.id, None)
        if fd is not None:
            os.close(fd)
        del self._segments[segment.id]
        segment.path.unlink(missing_ok=True)
