"""Versioned records between the services (a leaf): which format versions a reader takes, and refusing the rest.

Each record that crosses Redis from one service to another (the stored-events entry, ingest → engine
and API; the live flush and its replay entry, engine → API) carries its format version. A reader takes
the current version and the one before it, so replicas can be upgraded one at a time, readers first
(docs/operations.md#upgrading-with-zero-loss); anything else it refuses as a whole, with a
`RefusedRecord` saying what, from whom and why, and never reads a part of it by guesswork.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

# A record without a version field is in the format from before versions were written down: 1.
UNVERSIONED = 1


class RefusalReason(StrEnum):
    """Why a record was refused (a metric label)."""

    VERSION = "version"  # a format version this reader does not read
    MALFORMED = "malformed"  # a version it reads, but not laid out as that version says


class RefusedRecord(ValueError):
    def __init__(
        self, what: str, producer: str, version: object, reason: RefusalReason, reads: Sequence[int], detail: str = ""
    ) -> None:
        self.what = what
        self.producer = producer
        self.version = version
        self.reason = reason
        self.reads = tuple(reads)
        self.detail = detail
        super().__init__(self.describe())

    def describe(self) -> str:
        """One line: which record, which producer, which version, why, and what this reader takes."""
        why = "a version this process does not read" if self.reason is RefusalReason.VERSION else self.detail
        reads = " and ".join(map(str, self.reads))
        return f"refused {self.what} from {self.producer} in format version {self.version}: {why} (reads {reads})"


def version_of(raw: str | None, *, what: str, producer: str, reads: Sequence[int]) -> int:
    """The version a record's field states (None: the field is absent), if this reader reads it.

    Only the exact decimal spelling of a version it reads is taken (not "02", not "2.0")."""
    if raw is None and UNVERSIONED in reads:
        return UNVERSIONED
    for version in reads:
        if raw == str(version):
            return version
    stated = "none (unversioned)" if raw is None else raw if raw.isascii() and raw.isdigit() else repr(raw[:20])
    raise RefusedRecord(what, producer, stated, RefusalReason.VERSION, reads)
