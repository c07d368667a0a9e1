"""Every error the API returns: JSON `{"error": {"code", "message"}}` with a stable code, from one base class.

The domain errors of ingest, the engine and the API's own stores (`runtime.errors`: not found,
conflict, invalid, unavailable) are answered here by their kind, so an endpoint lets them through.
"""

from __future__ import annotations

import logging

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.routing import Match

from runtime import errors as domain

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


class ApiError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ApiError):
    status = 400
    code = "invalid_request"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class Unavailable(ApiError):
    status = 503
    code = "unavailable"


# Each kind of domain error, from any package, as the API error of that kind: an invalid value is the
# documented 400 invalid_request. A domain error of no kind is none the client can fix: a 500.
_BY_KIND: dict[type[domain.DomainError], type[ApiError]] = {
    domain.NotFound: NotFound, domain.Conflict: Conflict, domain.Invalid: BadRequest, domain.Unavailable: Unavailable,
}  # fmt: skip


def _api_error_of(exc: domain.DomainError) -> ApiError:
    """The API error a domain error of one of the kinds answers as (its status, code and message)."""
    kind = next(cls for cls in type(exc).__mro__ if cls in _BY_KIND)
    return _BY_KIND[kind](exc.message)


_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> list[str]:
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


def error_json(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, domain.DomainError):
            exc = _api_error_of(exc)
        assert isinstance(exc, ApiError)
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        return error_json(exc.status, exc.code, exc.message, headers)

    async def on_invalid_request(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc'][1:]) or 'request'}: {e['msg']}" for e in exc.errors()
        )
        return error_json(400, "invalid_request", problems)

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        # What the framework refuses itself (a body that is not JSON, an unknown route or method),
        # in the same shape as every other error.
        assert isinstance(exc, HTTPException)
        code = _CODES_BY_STATUS.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names the methods of the first route that matched the path; a path that
            # several routes serve (GET and POST apart) allows all of theirs.
            headers["Allow"] = ", ".join(allowed_methods(request))
        return error_json(exc.status_code, code, str(exc.detail), headers or None)

    async def on_unstorable_value(request: Request, exc: Exception) -> JSONResponse:
        # SQLSTATE class 22 (and psycopg's own refusal of NUL characters): a value in the request
        # that the database cannot store or compare, such as a NUL character or an out-of-range number.
        assert isinstance(exc, psycopg.DataError)
        # Logged (the class, never the values): a data exception from our own SQL would be a bug.
        log.warning("%s %s: %s answered 400", request.method, request.url.path, type(exc).__name__)
        return error_json(400, "invalid_request", f"a value in the request cannot be used: {type(exc).__name__}")

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug: the client gets the same JSON shape as for every other error, never a stack; the
        # framework still logs the traceback, since someone has to fix it.
        return error_json(500, "internal_error", "the API failed on this request; it is logged")

    app.add_exception_handler(ApiError, on_api_error)
    for kind in _BY_KIND:
        app.add_exception_handler(kind, on_api_error)
    app.add_exception_handler(Exception, on_unexpected)
    app.add_exception_handler(psycopg.DataError, on_unstorable_value)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(HTTPException, on_http_error)


_CODES_BY_STATUS = {
    400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "too_large", 503: "unavailable",
}  # fmt: skip


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in ((400, "Invalid request"), (401, "Missing or unknown API key"), (403, "Scope too low"))
}
NOT_FOUND: dict[int | str, dict[str, object]] = {404: {"model": ErrorResponse, "description": "No such resource"}}
CONFLICT: dict[int | str, dict[str, object]] = {409: {"model": ErrorResponse, "description": "It exists already"}}
UNAVAILABLE: dict[int | str, dict[str, object]] = {
    503: {"model": ErrorResponse, "description": "A service it needs (the database, the broker) is unavailable"}
}
