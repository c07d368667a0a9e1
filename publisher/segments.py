"""The queue's files: append-only segments of records, their recovery, and the saved position.

Recovery never stops the publisher. A record cut short at the end of the newest segment (a kill
mid-write) is cut off. Any other damage (a bad CRC, a segment cut short that was already finished, a
position file that does not parse) sets the damaged file aside as `*.corrupt-<time>` for someone to
look at, logs it, and carries on with what is whole: the records before the damage are kept.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Final

from publisher.records import HEADER, ReadOutcome, Record, decode

log = logging.getLogger(__name__)
SUFFIX: Final = ".seg"
STATE_FILE: Final = "position.json"
_STATE_VERSION: Final = 1


@dataclass
class Segment:
    id: int
    path: Path
    size: int  # bytes of whole records
    records: int
    boundaries: list[int] = field(default_factory=list)  # record starts; kept only while recovering
    max_seq: int = 0


@dataclass(frozen=True)
class SavedPosition:
    segment: int  # the first message not yet done is in this segment…
    offset: int  # …at this offset
    next_seq: int
    dropped: int


def segment_path(directory: Path, segment_id: int) -> Path:
    return directory / f"{segment_id:012d}{SUFFIX}"


def recover_segments(directory: Path) -> list[Segment]:
    """The segments in order, each cut to its whole records (see the module's note)."""
    paths = sorted(p for p in directory.glob(f"*{SUFFIX}") if p.stem.isdigit())
    segments = []
    for index, path in enumerate(paths):
        data = path.read_bytes()
        segment = Segment(int(path.stem), path, 0, 0)
        offset = 0
        while True:
            outcome, record, end = decode(data, offset)
            if record is None:
                break
            segment.boundaries.append(offset)
            segment.records += 1
            segment.max_seq = max(segment.max_seq, record.seq)
            offset = end
        segment.size = offset
        if outcome is not ReadOutcome.END:
            newest = index == len(paths) - 1
            if outcome is ReadOutcome.TORN and newest:
                log.warning("queue %s: discarded a record cut short at byte %d (a write interrupted)", path, offset)
            else:
                aside = set_aside(path, copy=True)
                log.error(
                    "queue %s: %s record at byte %d; kept %d records before it, the file is set aside as %s",
                    path, outcome.value, offset, segment.records, aside.name,
                )  # fmt: skip
            with path.open("r+b") as file:
                file.truncate(offset)
                os.fsync(file.fileno())
        segments.append(segment)
    return segments


def read_record(fd: int, path: Path, offset: int) -> tuple[Record, int]:
    """The record at `offset` of a segment open as `fd`, and the offset after it; OSError when it
    is not whole (checked whole when recovered or written by this process: the file changed)."""
    header = os.pread(fd, HEADER.size, offset)
    if len(header) < HEADER.size:
        raise OSError(f"queue {path}: cut short at {offset} while in use")
    data = os.pread(fd, HEADER.size + HEADER.unpack(header)[0], offset)
    outcome, record, end = decode(data, 0)
    if record is None or outcome is not ReadOutcome.WHOLE:
        raise OSError(f"queue {path}: record at {offset} is {outcome.value}")
    return record, offset + end


def set_aside(path: Path, copy: bool = False) -> Path:
    aside = path.with_name(f"{path.name}.corrupt-{time.time_ns()}")
    if copy:
        shutil.copyfile(path, aside)
    else:
        path.rename(aside)
    return aside


def load_position(directory: Path) -> SavedPosition | None:
    path = directory / STATE_FILE
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_bytes())
        if raw.get("version") != _STATE_VERSION:
            raise ValueError(f"version {raw.get('version')!r}")
        position = SavedPosition(int(raw["segment"]), int(raw["offset"]), int(raw["next_seq"]), int(raw["dropped"]))
        if min(position.segment, position.offset, position.next_seq, position.dropped) < 0:
            raise ValueError("a negative number")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        aside = set_aside(path)
        log.error("queue %s: position unreadable (%s), set aside as %s; sending from the oldest", path, exc, aside)
        return None
    return position


def save_position(directory: Path, position: SavedPosition) -> None:
    """Atomically: a crash leaves the old file or the new one, never half of one."""
    body = {"version": _STATE_VERSION, **asdict(position)}
    temporary = directory / f"{STATE_FILE}.tmp"
    with temporary.open("wb") as file:
        file.write(json.dumps(body).encode())
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, directory / STATE_FILE)
    sync_directory(directory)


def sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
