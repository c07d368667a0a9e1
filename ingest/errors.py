"""Ingest's domain errors: one base, and a class per kind of refusal (`runtime.errors` says what each carries).

Every error ingest raises for its callers (the registry of publishers and areas, dead letters and
their replay, the broker accounts) derives from one of these; the database's own errors stay
psycopg's.
"""

from __future__ import annotations

from runtime import errors as kinds


class IngestError(kinds.DomainError):
    """Base of ingest's domain errors."""


class NotFound(IngestError, kinds.NotFound):
    pass


class Conflict(IngestError, kinds.Conflict):
    pass


class Invalid(IngestError, kinds.Invalid):
    pass


class Unavailable(IngestError, kinds.Unavailable):
    pass
