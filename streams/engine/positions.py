"""Where each ingest producer stands on the stored-events stream, and whether an entry leaves a gap.

Every producer numbers its committed batches per session (`pseq`, +1 each, published or not) and
ends a clean session with a `final` entry. So an entry continues the stream when it is the next
`pseq` of the session we know, or the first entry of a new session after a final one (or of a
producer never seen). Anything else — a jump, a session that started while the previous one had
not ended cleanly — means stored events may have gone unpublished: the engine must rebuild.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Verdict = Literal["next", "seen", "gap"]


@dataclass(frozen=True, slots=True)
class Position:
    session: str
    pseq: int
    final: bool = False

    @classmethod
    def parse(cls, text: str) -> Position:
        session, pseq, *rest = text.split(":")
        return cls(session, int(pseq), rest == ["final"])


class ProducerPositions:
    def __init__(self, known: dict[str, Position] | None = None) -> None:
        self._known = dict(known or {})

    @classmethod
    def from_hash(cls, entries: dict[bytes, bytes]) -> ProducerPositions:
        return cls({k.decode(): Position.parse(v.decode()) for k, v in entries.items()})

    def check(self, producer: str, entry: Position) -> Verdict:
        """Classify an entry and, unless it leaves a gap, move the producer's position to it."""
        known = self._known.get(producer)
        if known is not None and known.session == entry.session:
            if entry.pseq <= known.pseq:
                return "seen"
            verdict: Verdict = "next" if entry.pseq == known.pseq + 1 else "gap"
        else:
            fresh_start = known is None or known.final
            verdict = "next" if fresh_start and entry.pseq == 1 else "gap"
        if verdict == "next":
            self._known[producer] = entry
        return verdict
