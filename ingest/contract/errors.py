"""Rejection codes of contract v1 and the exception that carries them.

The codes are part of the public contract: they are stored in the dead-letter
table and shown to integrators, so values must never be renamed.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final

MAX_PAYLOAD_BYTES: Final = 65536
MAX_JSON_DEPTH: Final = 8
MAX_DETAIL_CHARS: Final = 500
_ELLIPSIS: Final = "…"


class RejectReason(StrEnum):
    """Why an inbound message was refused."""

    TOPIC_INVALID = "topic_invalid"
    TOO_LARGE = "too_large"
    NOT_UTF8 = "not_utf8"
    NUL_CHARACTER = "nul_character"
    NOT_JSON = "not_json"
    NON_FINITE_NUMBER = "non_finite_number"
    TOO_DEEP = "too_deep"
    NOT_OBJECT = "not_object"
    UNKNOWN_FIELD = "unknown_field"
    MISSING_FIELD = "missing_field"
    INVALID_VALUE = "invalid_value"
    FUTURE_EVENT = "future_event"
    TOO_OLD = "too_old"
    # Decided by the ingest service against the database, not by decode();
    # listed here so that integrators find every code in one place.
    UNKNOWN_AREA = "unknown_area"
    AREA_NOT_ALLOWED = "area_not_allowed"
    UNKNOWN_PUBLISHER = "unknown_publisher"
    PUBLISHER_DISABLED = "publisher_disabled"
    SOURCE_MISMATCH = "source_mismatch"
    # Decided while storing, against the events already stored.
    CONFLICTING_DUPLICATE = "conflicting_duplicate"
    STORAGE_REJECTED = "storage_rejected"


REJECT_REASON_DESCRIPTIONS: Final[Mapping[RejectReason, str]] = MappingProxyType(
    {
        RejectReason.TOPIC_INVALID: (
            "The topic does not match ioc/v1/{source}/{publisher_id}/{event_type}, "
            "or the event type is not allowed under that source."
        ),
        RejectReason.TOO_LARGE: f"The payload is larger than {MAX_PAYLOAD_BYTES} bytes.",
        RejectReason.NOT_UTF8: "The payload is not valid UTF-8.",
        RejectReason.NUL_CHARACTER: "The payload contains a NUL character, raw or as the escape \\u0000.",
        RejectReason.NOT_JSON: "The payload is not syntactically valid JSON.",
        RejectReason.NON_FINITE_NUMBER: (
            "The payload contains NaN, Infinity, -Infinity or a number that overflows to infinity."
        ),
        RejectReason.TOO_DEEP: f"Objects and arrays are nested deeper than {MAX_JSON_DEPTH} levels.",
        RejectReason.NOT_OBJECT: "The top-level JSON value is not an object.",
        RejectReason.UNKNOWN_FIELD: "The payload has a field that the event type does not define.",
        RejectReason.MISSING_FIELD: "A required field is absent.",
        RejectReason.INVALID_VALUE: (
            "A field has the wrong type, is out of range, is not an allowed value, or is a date-time without an offset."
        ),
        RejectReason.FUTURE_EVENT: "occurred_at (or `at` for status) is too far ahead of the server clock.",
        RejectReason.TOO_OLD: (
            "occurred_at (or `at` for status) is older than retention would keep (the retention period minus "
            "the event table's chunk interval minus one day), or before the earliest plausible date "
            "(2020-01-01 by default): a clock that reset to 1970 shows up here."
        ),
        RejectReason.UNKNOWN_AREA: "area_code is not a known administrative unit.",
        RejectReason.AREA_NOT_ALLOWED: (
            "area_code is neither the publisher's registered area nor a unit below it "
            "(a publisher registered at the province may report for any unit in it)."
        ),
        RejectReason.UNKNOWN_PUBLISHER: "The publisher_id in the topic is not registered.",
        RejectReason.PUBLISHER_DISABLED: "The publisher is registered but disabled.",
        RejectReason.SOURCE_MISMATCH: "The publisher is registered for a different source.",
        RejectReason.CONFLICTING_DUPLICATE: (
            "An event with this event_id from this publisher was already stored (within the duplicate horizon) "
            "with different fields; the stored event is unchanged (the detail names it). A correction needs a "
            "new event_id."
        ),
        RejectReason.STORAGE_REJECTED: (
            "The event passed validation but the database refused the row (the detail names the error)."
        ),
    }
)


def clip(text: str, limit: int) -> str:
    """Shorten text to at most `limit` characters, marking the cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(_ELLIPSIS), 0)] + _ELLIPSIS


def excerpt(text: str, limit: int = 64) -> str:
    """A short, printable quotation of untrusted text for error details."""
    # repr() escapes control characters so a hostile key cannot forge log lines.
    return repr(clip(text, limit))


class PayloadRejected(Exception):
    """An inbound message that breaks the contract.

    `detail` is human readable and bounded so it can be stored and shown as is;
    it quotes at most short excerpts of the offending input.
    """

    reason: RejectReason
    detail: str

    def __init__(self, reason: RejectReason, detail: str) -> None:
        bounded = clip(detail, MAX_DETAIL_CHARS)
        super().__init__(reason, bounded)
        self.reason = reason
        self.detail = bounded

    def __str__(self) -> str:
        return f"{self.reason.value}: {self.detail}"
