"""The API serves the wall and the console, every file they load, and nothing else of `dashboards/`."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from posixpath import dirname, normpath

import httpx
import pytest

pytestmark = pytest.mark.integration

EXPECTED_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
}
# `import … from './x.js'` and `export … from './x.js'` in the pages' ES modules.
_IMPORT = re.compile(r"""^\s*(?:import|export)\b[^'"]*?\bfrom\s+['"](\.{1,2}/[^'"]+)['"]""", re.MULTILINE)


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            if values.get("src"):
                self.found.append(str(values["src"]))
            else:
                self.inline_scripts += 1
        elif tag == "link" and values.get("href"):
            self.found.append(str(values["href"]))
        elif tag in ("img", "iframe", "object", "embed"):
            raise AssertionError(f"unexpected <{tag}> in a page")


def _assert_secured(response: httpx.Response) -> None:
    policy = response.headers["content-security-policy"]
    host = response.request.url.netloc.decode()
    assert policy == (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        f"connect-src 'self' ws://{host} wss://{host}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def _fetch_module_graph(client: httpx.Client, start: list[str]) -> set[str]:
    """Every file reachable from `start` through ES module imports, each fetched and checked once."""
    seen: set[str] = set()
    pending = list(start)
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        answer = client.get(path)
        assert answer.status_code == 200, path
        suffix = path[path.rindex(".") :]
        assert answer.headers["content-type"] == EXPECTED_TYPES[suffix], path
        _assert_secured(answer)
        if suffix == ".js":
            pending.extend(normpath(f"{dirname(path)}/{spec}") for spec in _IMPORT.findall(answer.text))
    return seen


@pytest.mark.parametrize(
    ("page", "must_load"),
    [
        ("/wall", {"/ui/wall/wall.js", "/ui/wall/layout.js", "/ui/common/live.js", "/ui/common/framebook.js"}),
        ("/console", {"/ui/console/console.js", "/ui/common/live.js", "/ui/common/alerts.js"}),
    ],
)
def test_a_page_and_every_file_it_loads_are_served_with_security_headers(
    client: httpx.Client, page: str, must_load: set[str]
) -> None:
    answer = client.get(page)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    _assert_secured(answer)
    references = _References()
    references.feed(answer.text)
    assert references.inline_scripts == 0  # the policy forbids them: they would not run
    assert all(r.startswith("/ui/") for r in references.found), references.found
    loaded = _fetch_module_graph(client, references.found)
    assert must_load <= loaded, must_load - loaded


def test_the_wall_layout_file_is_served(client: httpx.Client) -> None:
    answer = client.get("/ui/wall/layout.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["views"][0]["id"] == "overview"


@pytest.mark.parametrize(
    "path",
    [
        "/ui/grafana/datasources/ioc.yaml",
        "/ui/__init__.py",
        "/ui/package.json",
        "/ui/common/alerts.test.mjs",
        "/ui/wall/../../pyproject.toml",
        "/ui/wall/%2e%2e/%2e%2e/pyproject.toml",
        "/ui/wall/index.html",
        "/ui/wall/nothing.js",
        "/ui/",
    ],
)
def test_nothing_else_is_served(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 404, path


def test_a_missing_asset_is_a_json_error(client: httpx.Client) -> None:
    answer = client.get("/ui/wall/nothing.js")
    assert answer.json() == {"error": {"code": "not_found", "message": "no page asset 'wall/nothing.js'"}}


def test_the_pages_are_not_in_the_openapi_document(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p in ("/wall", "/console") or p.startswith("/ui/")]
