"""The live flush: what the engine tells the API after each flush of frames (a leaf, shared with the API).

Two records, both versioned (`FORMAT_VERSION`; a reader takes `READS`, the current version and the
one before it, and refuses the rest with a `RefusedRecord`):

- the live channel's message (`KPI_FRAMES_CHANNEL`): a first line indexing the flush, a JSON object
  `{"v": 2, "epoch": …, "keys": […], "seqs": […]}`, then the flush's frames as `encode_batch` lays
  them out, one per line. An API reads the index and forwards each frame's own text without parsing
  a frame: at 500 walls, parsing every frame of every flush was a large share of the API's CPU
  (measured with `ioc bench ws`, docs/performance.md#design-figures). Version 1 was the same without `v`;
- the replay stream's entry (`KPI_FRAMES_STREAM`): fields `v`, `first_seq`, `last_seq` and `frames`
  (the same batch); version 1 was the same without `v`.

The frames themselves (`KpiFrame`) are what the API forwards to browsers as they are: they carry no
version of their own, which would change the websocket's JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import orjson

from runtime.wire import RefusalReason, RefusedRecord, version_of
from streams.frames import KpiFrame, batch_texts, decode_batch

FORMAT_VERSION = 2
READS = (1, 2)
_FLUSH = "a live flush"
_REPLAY = "a replay stream entry"
_ENGINE = "the KPI engine"


class LiveFlush(NamedTuple):
    """One flush as the live channel carries it: the epoch, each frame's key and `seq`, and each
    frame's JSON text, in `seq` order. The index line holds every field but the texts."""

    epoch: str | None  # None for an empty flush
    keys: list[str]  # `frame_key` of each frame
    seqs: list[int]
    texts: list[str]


_INDEXED = LiveFlush._fields[:-1]  # what the index line holds: the encoder writes these by name


def encode_live_flush(frames: Sequence[KpiFrame], batch: str) -> str:
    """The live channel's message for `frames`, whose batch (`encode_batch`) the engine also writes
    to the replay stream, so it is joined once."""
    flush = LiveFlush(frames[0].epoch if frames else None, [f.key for f in frames], [f.seq for f in frames], [])
    index = {"v": FORMAT_VERSION} | {name: getattr(flush, name) for name in _INDEXED}
    return orjson.dumps(index).decode() + "\n" + batch


def decode_live_flush(message: str | bytes) -> LiveFlush:
    """A live channel message of a version in `READS`; raises `RefusedRecord` for any other message."""
    version: object = "unknown"
    try:
        text = message.decode() if isinstance(message, bytes) else message
        if text.startswith("["):
            stated = "none (a batch without an index, from before version 1)"
            raise RefusedRecord(_FLUSH, _ENGINE, stated, RefusalReason.VERSION, READS)
        head, _, batch = text.partition("\n")
        index = orjson.loads(head)
        if not isinstance(index, dict):
            raise TypeError("a live flush's first line is a JSON object")
        version = _version(index, _FLUSH)
        keys, seqs, texts = index["keys"], index["seqs"], batch_texts(batch)
        if not (isinstance(keys, list) and isinstance(seqs, list)) or texts is None:
            raise TypeError("a live flush is an index of keys and seqs, then its frames one per line")
        if not all(type(k) is str and k.count("|") == 2 for k in keys) or not all(type(q) is int for q in seqs):
            raise TypeError("a frame's key is kpi|area|window, its seq an integer")
        if not len(keys) == len(seqs) == len(texts):
            raise ValueError("the flush's index does not match its frames")
        epoch = index["epoch"]
        if texts and not isinstance(epoch, str):
            raise TypeError("a live flush's epoch is a string")
        return LiveFlush(epoch=epoch, keys=keys, seqs=seqs, texts=texts)
    except RefusedRecord:
        raise
    except (ValueError, TypeError, KeyError) as exc:  # orjson's and UnicodeDecodeError are ValueErrors
        raise _malformed(_FLUSH, version, exc) from exc


def encode_replay_entry(frames: Sequence[KpiFrame], batch: str) -> dict[str, str]:
    return {"v": str(FORMAT_VERSION), "first_seq": str(frames[0].seq), "last_seq": str(frames[-1].seq), "frames": batch}


class ReplayEntry(NamedTuple):
    first_seq: int
    last_seq: int
    frames: list[KpiFrame]


def decode_replay_entry(fields: Mapping[bytes, bytes]) -> ReplayEntry:
    """A replay stream entry of a version in `READS`; raises `RefusedRecord` for any other entry."""
    raw = fields.get(b"v")
    version = version_of(
        None if raw is None else raw.decode(errors="replace"), what=_REPLAY, producer=_ENGINE, reads=READS
    )
    try:
        frames = decode_batch(fields[b"frames"])
        return ReplayEntry(int(fields[b"first_seq"]), int(fields[b"last_seq"]), frames)
    except (ValueError, TypeError, KeyError) as exc:
        raise _malformed(_REPLAY, version, exc) from exc


def _version(index: dict[str, object], what: str) -> int:
    """The index's `v`: a JSON integer (`"2"` or `2.0` is not one); absent in version 1."""
    if "v" not in index:
        return version_of(None, what=what, producer=_ENGINE, reads=READS)
    raw = index["v"]
    if type(raw) is not int:
        raise RefusedRecord(what, _ENGINE, repr(raw)[:20], RefusalReason.VERSION, READS)
    return version_of(str(raw), what=what, producer=_ENGINE, reads=READS)


def _malformed(what: str, version: object, exc: Exception) -> RefusedRecord:
    detail = f"{type(exc).__name__}: {exc}"[:200]
    return RefusedRecord(what, _ENGINE, version, RefusalReason.MALFORMED, READS, detail)
