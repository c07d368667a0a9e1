"""A database connection for a request: from the pool, or 503 `unavailable` when the database is away."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from api.http.errors import Unavailable
from api.http.state import AppState


@contextmanager
def database(state: AppState) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    try:
        with state.pool.connection(timeout=5) as conn:
            yield conn
    except psycopg.OperationalError as exc:
        raise Unavailable("the database is unavailable; try again") from exc
