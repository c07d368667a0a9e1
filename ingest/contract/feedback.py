"""What a publisher hears back: one message per dead letter of its own, on a topic only it may read.

The topic lies outside `ioc/v1/`, the event tree that the ingest subscribes to, so a feedback message
never comes back in as an event; only the ingest's service account may write it.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

from pydantic import Field

from ingest.contract.errors import RejectReason
from ingest.contract.events import ContractModel

FEEDBACK_TOPIC_TEMPLATE: Final = "ioc/feedback/v1/{publisher_id}"
# Found without decoding: the payload that was refused may be anything.
_EVENT_ID_RE: Final = re.compile(rb'"event_id"\s*:\s*"([0-9A-Fa-f-]{32,36})"')


def feedback_topic(publisher_id: str) -> str:
    return FEEDBACK_TOPIC_TEMPLATE.format(publisher_id=publisher_id)


class DeadLetterFeedback(ContractModel):
    """One of the publisher's messages became a dead letter: what it was and why."""

    event_id: str | None = Field(
        description="The refused message's event_id when one could be read from it (null: none, or not JSON)."
    )
    reason: RejectReason = Field(description="The dead-letter reason code (the contract's table says how to fix it).")
    detail: str = Field(description="What exactly was wrong, at most 500 characters.")
    topic: str = Field(description="The topic the message was published on.")
    received_at: datetime = Field(description="When the ingest received it, RFC 3339.")


def event_id_of(payload: bytes) -> str | None:
    """The `event_id` a refused payload names, if it names one (a cheap scan of its first 4 KiB)."""
    match = _EVENT_ID_RE.search(payload[:4096])
    return None if match is None else match.group(1).decode("ascii")
