"""The KPI engine's domain errors: one base, and a class per kind of refusal (`runtime.errors` says what each
carries).

Every error the rulebook, the targets and the alerts raise for their callers derives from one of
these; the database's own errors stay psycopg's.
"""

from __future__ import annotations

from runtime import errors as kinds


class StreamsError(kinds.DomainError):
    """Base of the KPI engine's domain errors."""


class NotFound(StreamsError, kinds.NotFound):
    pass


class Conflict(StreamsError, kinds.Conflict):
    pass


class Invalid(StreamsError, kinds.Invalid):
    pass
