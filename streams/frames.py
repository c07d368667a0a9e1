"""The KPI frame: what the engine publishes for every change of a KPI value (a leaf module, shared with the API).

Frames go to Redis three ways: pub/sub (`KPI_FRAMES_CHANNEL`, see `streams.live_flush`) for live
fan-out, a capped stream (`KPI_FRAMES_STREAM`) for a client that reconnects and replays from its
last `seq`, and a hash (`KPI_CURRENT`) with the latest frame per KPI, area and window for a full
resync. `epoch` changes when the engine starts (or Redis lost its data): a client that sees a new
epoch resynchronises from the hash instead of replaying. `seq` increases by one per frame within an
epoch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import NamedTuple

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


def decode_batch(data: str | bytes) -> list[KpiFrame]:
    """A batch of frames (`encode_batch`), back into frames."""
    return [KpiFrame(**item) for item in orjson.loads(data)]


def batch_texts(batch: str) -> list[str] | None:
    """The frames' texts in a batch from `encode_batch`; None for a batch not laid out one frame per
    line. A frame's JSON never holds a raw newline (JSON escapes it inside strings), so `,<newline>`
    only ever separates two frames."""
    if not (batch.startswith("[\n") and batch.endswith("\n]")):
        return None
    inner = batch[2:-2]
    return inner.split(",\n") if inner else []
