"""What a page test works with: a browser, the frames to send, the API keys, and the API serving the pages."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

from api.http.auth.keys import ApiKeyRepository
from deploy.settings import Settings
from streams.engine.frame_sink import FrameSink
from tests.dashboards.browser import Browser
from tests.fixtures.api import serve_api

CONNECTION = "document.getElementById('conn').className"  # the page's connection badge: 'conn live', …


def text(selector: str) -> str:
    """JavaScript for the text of the first element matching `selector` (null when there is none)."""
    return f"(document.querySelector({json.dumps(selector)})?.textContent ?? null)"


@dataclass
class Pages:
    """A browser, the frames it will be sent, the API keys, and the API serving the pages on a port of its own."""

    browser: Browser
    sink: FrameSink
    keys: ApiKeyRepository
    db: psycopg.Connection[tuple[object, ...]]
    port: int
    artifacts: Path
    settings: Settings

    def serve(self, **overrides: object) -> AbstractContextManager[httpx.Client]:
        """The API (again, after a stop) on the same port, allowing the pages it serves to open its websockets
        (unless `overrides` say otherwise)."""
        settings = Settings.model_validate(self.settings.model_dump() | overrides) if overrides else self.settings
        return serve_api(settings, self.port)

    def open(self, page: str, query: str, key: str) -> None:
        """Opens `/page?query` with the key in the fragment (from a blank page, so that it is a new load)."""
        self.browser.call("Page.navigate", url="about:blank")
        self.browser.open(f"http://127.0.0.1:{self.port}/{page}?{query}#key={key}")

    def screenshot(self, name: str) -> None:
        """Saved for people to look at: $IOC_HOME/artifacts/dashboards/NAME."""
        self.browser.screenshot(self.artifacts / name)
