"""`require(scope)`: the dependency every protected route declares; 401 without a valid key, 403 below the scope."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from fastapi import Depends, Request

from api.http.auth.keys import ApiKey, ApiKeyRepository, Scope
from api.http.errors import Forbidden, Unauthorized, Unavailable
from api.http.state import AppState, app_state


def require(scope: Scope) -> Callable[[Request, AppState], ApiKey]:
    def authorize(request: Request, state: AppState = Depends(app_state)) -> ApiKey:  # noqa: B008
        header = request.headers.get("authorization", "")
        kind, _, key = header.partition(" ")
        if kind.lower() != "bearer" or not key:
            raise Unauthorized("send an API key as 'Authorization: Bearer <key>'")
        try:
            with state.pool.connection(timeout=5) as conn:
                found = ApiKeyRepository(conn).authenticate(key.strip())
        except psycopg.Error as exc:
            raise Unavailable("the database is unavailable; try again") from exc
        if found is None:
            raise Unauthorized("unknown or revoked API key")
        if found.scope < scope:
            raise Forbidden(f"this route needs scope '{scope.label}'; the key '{found.name}' has '{found.scope.label}'")
        return found

    return authorize
