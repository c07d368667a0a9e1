"""Which dead letters a console action means: by reason, publisher and arrival time, open or all.

One filter for the list, the preview count, the bulk replay and the CSV export, so that the count an
operator is shown is the count of what the replay or the export then takes. Every value is checked
before it reaches a query (which binds it anyway): an unknown reason, a publisher id outside the
contract's grammar, a time without its UTC offset or a range that ends before it starts is a 400.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query

from api.http.errors import BadRequest
from api.http.filters import PUBLISHER_ID, Rfc3339
from ingest.contract import RejectReason


@dataclass(frozen=True, slots=True)
class DeadLetterFilter:
    reason: str | None = None
    publisher_id: str | None = None
    since: datetime | None = None  # received at or after
    until: datetime | None = None  # received before
    include_resolved: bool = False

    def where(self) -> tuple[str, dict[str, Any]]:
        """The SQL condition (constant text, bound parameters) that selects these dead letters."""
        sql = (
            "(%(reason)s::text IS NULL OR reason = %(reason)s)"
            " AND (%(publisher)s::text IS NULL OR publisher_id = %(publisher)s)"
            " AND (%(since)s::timestamptz IS NULL OR received_at >= %(since)s)"
            " AND (%(until)s::timestamptz IS NULL OR received_at < %(until)s)"
            " AND (%(all)s OR resolved_at IS NULL)"
        )
        params = {"reason": self.reason, "publisher": self.publisher_id, "since": self.since, "until": self.until,
                  "all": self.include_resolved}  # fmt: skip
        return sql, params

    def to_json(self) -> dict[str, object]:
        """As the audit trail records it."""
        return {
            "reason": self.reason, "publisher": self.publisher_id,
            "since": None if self.since is None else self.since.isoformat(),
            "until": None if self.until is None else self.until.isoformat(), "include_resolved": self.include_resolved,
        }  # fmt: skip


def dead_letter_filter(
    reason: Annotated[RejectReason | None, Query(description="a reason code of the MQTT contract")] = None,
    publisher: Annotated[str | None, Query(pattern=PUBLISHER_ID)] = None,
    since: Annotated[Rfc3339 | None, Query(description="received at or after (RFC 3339, with its offset)")] = None,
    until: Annotated[Rfc3339 | None, Query(description="received before (RFC 3339, with its offset)")] = None,
    include_resolved: bool = False,
) -> DeadLetterFilter:
    """The filter of a request's query parameters (a FastAPI dependency)."""
    return checked_filter(
        DeadLetterFilter(None if reason is None else reason.value, publisher, since, until, include_resolved)
    )


def checked_filter(selection: DeadLetterFilter) -> DeadLetterFilter:
    for name, value in (("since", selection.since), ("until", selection.until)):
        if value is not None and value.utcoffset() is None:
            raise BadRequest(f"{name}: give the time with its UTC offset (such as +07:00 or Z)")
    if selection.since is not None and selection.until is not None and selection.until <= selection.since:
        raise BadRequest("until: must be after since")
    return selection
