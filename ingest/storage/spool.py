"""Batches kept on local disk while the database cannot take them, so that the broker need not.

While PostgreSQL is down the broker used to hold every message unacknowledged, and Mosquitto keeps
its queue in memory between snapshots (`autosave_interval`): a SIGKILL of the broker then lost what
it had acknowledged to publishers since the last one. The ingest instead writes each batch, as
received (topic, payload, arrival time), to a file of its own, fsyncs it and the folder, and only
then acknowledges it; the broker's queue stays short. Once the database is back the files are
classified and stored oldest first, and each is deleted after its commit.

A file is written under a temporary name and renamed once complete, so a file with a final name is
whole; a crash before the rename leaves a `.tmp` that was never acknowledged (the broker delivers
those messages again) and is deleted at the next start. A crash between a file's commit and its
deletion stores it again at the next start: the unique keys and `event_ids` make that a duplicate.
A file whose checksum is wrong is moved to `corrupt/` with an error in the log, never silently dropped.

One process per folder (the folder is named after its MQTT account, which is also its broker
session): a lock file makes a second process on the same account run without a spool.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import struct
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingest.records import RawMessage

log = logging.getLogger(__name__)

_MAGIC = b"IOC-SPOOL 1\n"  # the format's version: a later format gets a new magic and a reader for both
_RECORD = struct.Struct(">qHI")  # arrival in µs since the epoch, topic bytes, payload bytes
_CHECKSUM = struct.Struct(">I")
_SUFFIX = ".batch"
_NAME = re.compile(r"^(\d{12})-(\d{1,9})\.(batch|tmp)$")  # sequence-messages: files of ours, nothing else
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Messages read back from disk were acknowledged when they were written: never acknowledge them again.
SPOOLED_GENERATION = -1


class SpoolUnavailable(Exception):
    """The spool folder cannot be used (locked by another process, or not writable)."""


@dataclass(frozen=True, slots=True)
class SpooledBatch:
    path: Path
    messages: list[RawMessage]
    size: int


class Spool:
    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self._max_bytes = max_bytes
        self._lock_fd: int | None = None
        self._next = 0
        self.messages = 0  # waiting on disk
        self.bytes = 0
        self.set_aside = 0  # messages in files that could not be read back, moved to `corrupt/`

    def open(self) -> None:
        """Take the folder, forget half-written files and count what waits from an earlier run."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.directory / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise SpoolUnavailable(f"cannot use {self.directory}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            raise SpoolUnavailable(f"{self.directory} is held by another ingest process") from exc
        self._lock_fd = fd
        for partial in self.directory.glob("*.tmp"):
            if _NAME.match(partial.name):
                partial.unlink()
        for path in self._files():
            self.messages += _count_of(path)
            self.bytes += path.stat().st_size
            self._next = max(self._next, _sequence_of(path) + 1)
        if self.messages:
            log.info("spool: %d messages in %s wait for the database", self.messages, self.directory)

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def append(self, batch: Sequence[RawMessage]) -> bool:
        """Write the batch durably; False (nothing written) when it would pass the size bound or the
        disk refuses it: the caller then keeps the messages unacknowledged, as without a spool."""
        body = bytearray(_MAGIC)
        for message in batch:
            topic = message.topic.encode("utf-8", "surrogateescape")
            body += _RECORD.pack(_microseconds(message.received_at), len(topic), len(message.payload))
            body += topic
            body += message.payload
        body += _CHECKSUM.pack(zlib.crc32(body))
        if self.bytes + len(body) > self._max_bytes:
            return False
        final = self.directory / f"{self._next:012d}-{len(batch)}{_SUFFIX}"
        partial = final.with_suffix(".tmp")
        try:
            with partial.open("wb") as file:
                file.write(body)
                file.flush()
                os.fsync(file.fileno())
            partial.rename(final)
            _fsync_directory(self.directory)
        except OSError as exc:
            log.error("spool: cannot write %s (%s); holding messages in the broker instead", final.name, exc)
            partial.unlink(missing_ok=True)
            return False
        self._next += 1
        self.messages += len(batch)
        self.bytes += len(body)
        return True

    def oldest(self, max_messages: int) -> list[SpooledBatch]:
        """The oldest whole files, read back, as many as fit in `max_messages` (at least one); a
        corrupt file is set aside (and logged) on the way."""
        taken: list[SpooledBatch] = []
        count = 0
        for path in self._files():
            if taken and count + _count_of(path) > max_messages:
                break
            try:
                data = path.read_bytes()
                messages = _decode(data)
            except (OSError, ValueError, struct.error) as exc:
                self._set_aside(path, exc)
                continue
            taken.append(SpooledBatch(path, messages, len(data)))
            count += len(messages)
        return taken

    def remove(self, batch: SpooledBatch) -> None:
        """After the batch is committed."""
        batch.path.unlink(missing_ok=True)
        self.messages -= len(batch.messages)
        self.bytes -= batch.size

    def _files(self) -> list[Path]:
        return sorted(path for path in self.directory.glob(f"*{_SUFFIX}") if _NAME.match(path.name))

    def _set_aside(self, path: Path, problem: Exception) -> None:
        corrupt = self.directory / "corrupt"
        corrupt.mkdir(exist_ok=True)
        count, size = _count_of(path), path.stat().st_size
        path.rename(corrupt / path.name)
        self.messages -= count
        self.bytes -= size
        self.set_aside += count
        log.error(
            "spool: %s (%d acknowledged messages) cannot be read (%s); moved to %s for an operator",
            path.name, count, problem, corrupt,
        )  # fmt: skip


def _decode(data: bytes) -> list[RawMessage]:
    if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + _CHECKSUM.size:
        raise ValueError("not a spool file of this version")
    body, (checksum,) = data[: -_CHECKSUM.size], _CHECKSUM.unpack(data[-_CHECKSUM.size :])
    if zlib.crc32(body) != checksum:
        raise ValueError("checksum mismatch")
    messages: list[RawMessage] = []
    offset = len(_MAGIC)
    now = time.monotonic()
    while offset < len(body):
        micros, topic_len, payload_len = _RECORD.unpack_from(body, offset)
        offset += _RECORD.size
        topic = body[offset : offset + topic_len].decode("utf-8", "surrogateescape")
        offset += topic_len
        payload = body[offset : offset + payload_len]
        offset += payload_len
        if offset > len(body):
            raise ValueError("a record runs past the end")
        received_at = _EPOCH + timedelta(microseconds=micros)
        messages.append(RawMessage(topic, payload, 0, 1, received_at, now, SPOOLED_GENERATION))
    return messages


def _microseconds(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _sequence_of(path: Path) -> int:
    match = _NAME.match(path.name)
    return int(match.group(1)) if match else 0


def _count_of(path: Path) -> int:
    match = _NAME.match(path.name)
    return int(match.group(2)) if match else 0


def _fsync_directory(directory: Path) -> None:
    """The rename is durable only once the folder is."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
