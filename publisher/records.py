"""One queued message on disk: a length and CRC-32 header, then the body (seq, topic, payload).

A record is written with a single `write()`, so a process killed mid-write leaves at most one torn
record at the very end of a file; the CRC tells a torn or damaged record from a whole one.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from enum import Enum
from typing import Final

HEADER: Final = struct.Struct("<II")  # body length, CRC-32 of the body
_BODY_HEAD: Final = struct.Struct("<qH")  # seq (0: none), topic length
MAX_BODY_BYTES: Final = 16 * 2**20  # a longer length in a header is damage, not a message


@dataclass(frozen=True, slots=True)
class Record:
    seq: int
    topic: str
    payload: bytes


class ReadOutcome(Enum):
    WHOLE = "whole"
    END = "end"  # nothing more in the file
    TORN = "torn"  # the file ends inside the record: a write cut short
    DAMAGED = "damaged"  # a whole record whose CRC or layout does not hold


def encode(record: Record) -> bytes:
    topic = record.topic.encode()
    body = _BODY_HEAD.pack(record.seq, len(topic)) + topic + record.payload
    return HEADER.pack(len(body), zlib.crc32(body)) + body


def decode(buffer: bytes | memoryview, offset: int) -> tuple[ReadOutcome, Record | None, int]:
    """The record at `offset` of `buffer` and the offset after it."""
    view = memoryview(buffer)
    if offset == len(view):
        return ReadOutcome.END, None, offset
    if offset + HEADER.size > len(view):
        return ReadOutcome.TORN, None, offset
    length, crc = HEADER.unpack_from(view, offset)
    if length < _BODY_HEAD.size or length > MAX_BODY_BYTES:
        return ReadOutcome.DAMAGED, None, offset
    start = offset + HEADER.size
    if start + length > len(view):
        return ReadOutcome.TORN, None, offset
    body = view[start : start + length]
    if zlib.crc32(body) != crc:
        return ReadOutcome.DAMAGED, None, offset
    seq, topic_length = _BODY_HEAD.unpack_from(body)
    topic_end = _BODY_HEAD.size + topic_length
    if topic_end > length:
        return ReadOutcome.DAMAGED, None, offset
    try:
        topic = bytes(body[_BODY_HEAD.size : topic_end]).decode()
    except UnicodeDecodeError:
        return ReadOutcome.DAMAGED, None, offset
    return ReadOutcome.WHOLE, Record(seq, topic, bytes(body[topic_end:])), start + length
