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
        RejectReason.SOURCE_MISMATCH: (
            "The publisher is registered for a different source, or the payload is a valid event of a type that "
            "the topic's source does not send (a payment on a coverage topic); the detail names the expected topic."
        ),
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

# What the publisher does about each refusal: shown with the description in the contract documents.
REJECT_REASON_FIXES: Final[Mapping[RejectReason, str]] = MappingProxyType(
    {
        RejectReason.TOPIC_INVALID: (
            "Publish to `ioc/v1/<your source>/<your id>/<event type>`, with an event type of your source "
            "(the kit of `ioc publishers add` lists your topics)."
        ),
        RejectReason.TOO_LARGE: "Send one event per message; an event is far below the limit.",
        RejectReason.NOT_UTF8: "Encode the JSON text as UTF-8 (no Latin-1 or Windows-1258 bytes).",
        RejectReason.NUL_CHARACTER: "Strip NUL characters from text fields before sending.",
        RejectReason.NOT_JSON: "Send one JSON object, serialised by a JSON library rather than by hand.",
        RejectReason.NON_FINITE_NUMBER: "Leave an unknown measurement out (optional fields) instead of NaN.",
        RejectReason.TOO_DEEP: "Send the flat object of the schema; no field is nested.",
        RejectReason.NOT_OBJECT: "Send one event as a JSON object per message, never an array of events.",
        RejectReason.UNKNOWN_FIELD: "Remove the field the detail names; the schema lists every field allowed.",
        RejectReason.MISSING_FIELD: "Add the field the detail names; the schema lists the required ones.",
        RejectReason.INVALID_VALUE: (
            "Correct the value the detail names: its type, range or allowed values, and times as RFC 3339 "
            "with an offset (2025-01-31T08:30:00+07:00)."
        ),
        RejectReason.FUTURE_EVENT: "Synchronise the device's clock (NTP); send the time the event happened.",
        RejectReason.TOO_OLD: "Synchronise the device's clock; an event this old is not kept anyway.",
        RejectReason.UNKNOWN_AREA: "Use a code of the areas table (GET /api/v1/areas); ask the operators to import it.",
        RejectReason.AREA_NOT_ALLOWED: (
            "Report for your registered area or a unit below it, or ask the operators to register you where you report."
        ),
        RejectReason.UNKNOWN_PUBLISHER: "Ask the operators to register the publisher (`ioc publishers add`).",
        RejectReason.PUBLISHER_DISABLED: "Ask the operators why it was disabled; nothing it sends is stored.",
        RejectReason.SOURCE_MISMATCH: (
            "Send the event type of your source on your own topic; another kind of event needs a publisher "
            "registered for that source."
        ),
        RejectReason.CONFLICTING_DUPLICATE: (
            "Re-send an event only unchanged; send a correction or a next state as a new event with a new event_id."
        ),
        RejectReason.STORAGE_REJECTED: "Tell the operators: the event was valid, the database refused it.",
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
