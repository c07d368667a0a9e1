"""The KPI frame: what the engine publishes for every change of a KPI value (a leaf module, shared with the API).

Frames go to Redis three ways: pub/sub (`KPI_FRAMES_CHANNEL`, see `encode_live_flush`) for live
fan-out, a capped stream (`KPI_FRAMES_STREAM`) for a client that reconnects and replays from its
last `seq`, and a hash (`KPI_CURRENT`) with the latest frame per KPI, area and window for a full
resync. `epoch` changes when the engine starts (or Redis lost its data): a client that sees a new
epoch resynchronises from the hash instead of replaying. `seq` increases by one per frame within an
epoch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple

import orjson


class KpiFrame(NamedTuple):
    # A named tuple rather than a frozen dataclass: the engine makes thousands a second, and a
    # frozen dataclass costs several times as much to make (docs/performance.md#design-figures).
    kpi: str
    area: str
    window: str  # 5m | 1h | 24h | today
    value: float | None  # None: nothing in the window to compute it from
    numerator: float | None
    denominator: float | None
    unit: str
    target: float | None
    # Event time (RFC 3339, UTC) of the latest event of this KPI's source counted in the window,
    # as of this frame: the freshness the wall shows.
    last_event_at: str | None
    as_of: str  # the engine's clock when it computed the value (RFC 3339, UTC)
    epoch: str
    seq: int

    @property
    def key(self) -> str:
        return frame_key(self.kpi, self.area, self.window)

    def encode(self) -> str:
        # The engine encodes every frame it publishes, with orjson (several times faster than the
        # json module for a flush's frames: docs/performance.md#design-figures) and the fields
        # spelled out (faster than _asdict).
        # Non-finite numbers come out as null.
        fields = {
            "kpi": self.kpi, "area": self.area, "window": self.window, "value": self.value,
            "numerator": self.numerator, "denominator": self.denominator, "unit": self.unit,
            "target": self.target, "last_event_at": self.last_event_at, "as_of": self.as_of,
            "epoch": self.epoch, "seq": self.seq,
        }  # fmt: skip
        try:
            return orjson.dumps(fields).decode()
        except orjson.JSONEncodeError:
            # A sum beyond 64 bits (orjson's limit; a decoder reads it back as a float): the json
            # module writes it exactly, rather than the flush failing on it.
            return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def decode(cls, data: str | bytes) -> KpiFrame:
        return cls(**orjson.loads(data))


def frame_key(kpi: str, area: str, window: str) -> str:
    return f"{kpi}|{area}|{window}"


def encode_batch(encoded: Sequence[str]) -> str:
    """One flush's frames, each already encoded, as the JSON array the engine publishes: one frame
    per line, so that the API can forward each frame's own text (`batch_texts`) instead of encoding
    every frame again."""
    return "[\n" + ",\n".join(encoded) + "\n]"


def batch_texts(batch: str) -> list[str] | None:
    """The frames' texts in a batch from `encode_batch`; None for a batch not laid out one frame per
    line. A frame's JSON never holds a raw newline (JSON escapes it inside strings), so `,<newline>`
    only ever separates two frames."""
    if not (batch.startswith("[\n") and batch.endswith("\n]")):
        return None
    inner = batch[2:-2]
    return inner.split(",\n") if inner else []


class LiveFlush(NamedTuple):
    """One flush as the live channel carries it: the epoch, each frame's key and `seq`, and each
    frame's JSON text, in `seq` order."""

    epoch: str | None  # None for an empty flush
    keys: list[str]  # `frame_key` of each frame
    seqs: list[int]
    texts: list[str]


def encode_live_flush(frames: Sequence[KpiFrame], batch: str) -> str:
    """What the engine publishes on the live channel: one line indexing the flush (its epoch, the
    frames' keys and seqs), then the batch of those frames as `encode_batch` made it (the engine
    writes the same batch to the replay stream, so it is joined once). An API reads the index and forwards each
    frame's text without parsing a single frame: at 500 walls, parsing every frame of every flush
    was a large share of the API's CPU (measured with `ioc bench ws`, docs/performance.md#design-figures)."""
    index = {"epoch": frames[0].epoch if frames else None, "keys": [f.key for f in frames],
             "seqs": [f.seq for f in frames]}  # fmt: skip
    return orjson.dumps(index).decode() + "\n" + batch


def decode_live_flush(message: str | bytes) -> LiveFlush:
    """A live channel message, from this engine or an older one (which published the batch alone).

    Raises ValueError, KeyError or TypeError on a message that is neither."""
    text = message.decode() if isinstance(message, bytes) else message
    if text.startswith("["):
        return _flush_without_index(text)
    head, _, batch = text.partition("\n")
    index = orjson.loads(head)
    if not isinstance(index, dict):
        raise TypeError("a live flush's index is a JSON object")
    keys, seqs, texts = index["keys"], index["seqs"], batch_texts(batch)
    if not (isinstance(keys, list) and isinstance(seqs, list)) or texts is None:
        raise TypeError("a live flush is an index of keys and seqs, then its frames one per line")
    if not len(keys) == len(seqs) == len(texts):
        raise ValueError("the flush's index does not match its frames")
    epoch = index["epoch"]
    if texts and not isinstance(epoch, str):
        raise TypeError("a live flush's epoch is a string")
    return LiveFlush(epoch, keys, seqs, texts)


def _flush_without_index(batch: str) -> LiveFlush:
    frames: Any = orjson.loads(batch)
    if not isinstance(frames, list) or not all(isinstance(f, dict) for f in frames):
        raise TypeError("a batch of frames is a JSON array of objects")
    texts = batch_texts(batch)
    if texts is None:  # not one frame per line either: encode each frame here
        texts = [orjson.dumps(f).decode() for f in frames]
    elif len(texts) != len(frames):
        raise ValueError("the batch's lines do not match its frames")
    keys = [frame_key(f["kpi"], f["area"], f["window"]) for f in frames]
    return LiveFlush(frames[0]["epoch"] if frames else None, keys, [f["seq"] for f in frames], texts)
