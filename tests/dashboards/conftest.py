"""The pages in a real browser against the real API: one fixture for the wall's and the console's tests."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
import redis

from api.http.auth.keys import ApiKeyRepository
from deploy.settings import Settings
from deploy.stack.manager import LocalStack
from streams.engine.frame_sink import FrameSink
from tests.dashboards.browser import Browser
from tests.dashboards.pages import Pages
from tests.fixtures.api import api_settings
from tests.fixtures.ingest import free_port
from tests.fixtures.stack import IsolatedDatabase


@pytest.fixture
def pages(
    stack: LocalStack, database: IsolatedDatabase, db: psycopg.Connection[tuple[object, ...]], redis_url: str
) -> Iterator[Pages]:
    port = free_port()
    settings = api_settings(stack, database, redis_url)
    settings = Settings.model_validate(settings.model_dump() | {"api_allowed_origins": [f"http://127.0.0.1:{port}"]})
    browser = Browser(1920, 1080)
    artifacts = stack.paths.home / "artifacts" / "dashboards"
    client = redis.Redis.from_url(redis_url)
    yield Pages(browser, FrameSink(client), ApiKeyRepository(db), db, port, artifacts, settings)
    client.close()
    browser.close()
    assert browser.exceptions == []  # no page script failed
