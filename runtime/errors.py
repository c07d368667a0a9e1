"""The kinds of refusal every package's domain errors share, each with the data that says what was refused.

Each service package has one base (`ingest.errors.IngestError`, `streams.errors.StreamsError`) and
its own `NotFound`, `Conflict`, `Invalid` (and ingest `Unavailable`) deriving from these kinds, so a
caller can catch one package's errors, and the API maps every package's errors by kind alone
(`api.http.errors`). The message is fit to show an operator or an API client as it is.
"""

from __future__ import annotations


class DomainError(Exception):
    """A refusal the caller can act on (never a bug). A domain error of none of the kinds below is
    one the caller cannot fix: the API answers it as an internal error."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """No such record: `kind` names what was looked for (a publisher, an alert), `key` its id."""

    def __init__(self, message: str, *, kind: str, key: str | int) -> None:
        super().__init__(message)
        self.kind = kind
        self.key = key


class Conflict(DomainError):
    """The record exists already: `kind` names it, `key` is the id or name that is taken."""

    def __init__(self, message: str, *, kind: str, key: str | int) -> None:
        super().__init__(message)
        self.kind = kind
        self.key = key


class Invalid(DomainError):
    """A value that is refused: `field` names it; the message is the reason."""

    def __init__(self, reason: str, *, field: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


class Unavailable(DomainError):
    """A service it needs (`service`: the broker, the database) could not do it; nothing changed."""

    def __init__(self, message: str, *, service: str) -> None:
        super().__init__(message)
        self.service = service
