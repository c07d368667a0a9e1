"""`/docs` renders on a closed network: Swagger UI comes from the API itself.

Chromium runs with the network cut off: every host name but 127.0.0.1 resolves to nothing and every
request that is not to the loopback goes to a proxy that does not exist. The page must still show
the operations, and no request may have left for another host.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from deploy.stack.manager import LocalStack
from tests.dashboards.browser import Browser, chromium_path

pytestmark = pytest.mark.integration

NETWORK_CUT_OFF = (
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",  # the discard port: nothing listens there
    "--proxy-bypass-list=<-loopback>;127.0.0.1",
)


@pytest.fixture
def offline_browser() -> Iterator[Browser]:
    assert chromium_path() is not None, "Debian's chromium is needed (apt-get install chromium)"
    browser = Browser(1440, 1000, NETWORK_CUT_OFF, record_requests=True)
    yield browser
    browser.close()


def _hosts(urls: list[str]) -> set[str]:
    return {f"{u.scheme}://{u.netloc}" for u in map(urlsplit, urls) if u.scheme not in ("data", "blob")}


def test_swagger_ui_renders_every_operation_with_the_network_cut_off(
    client: httpx.Client, offline_browser: Browser, stack: LocalStack
) -> None:
    base = str(client.base_url).rstrip("/")
    offline_browser.open(f"{base}/docs")
    operations = offline_browser.wait_for("document.querySelectorAll('.opblock').length", timeout=30)
    spec_paths = client.get("/openapi.json").json()["paths"]
    expected = sum(
        len([m for m in methods if m in ("get", "post", "put", "delete")]) for methods in spec_paths.values()
    )
    assert operations == expected
    assert offline_browser.evaluate("document.querySelector('.info .title').textContent").startswith("Đắk Nông IOC API")
    assert offline_browser.evaluate("document.querySelector('.opblock-summary-path')?.textContent") is not None
    offline_browser.screenshot(stack.paths.home / "artifacts" / "api" / "docs-offline.png")
    assert offline_browser.requested, "no request was recorded"
    assert _hosts(offline_browser.requested) == {base}
    assert offline_browser.exceptions == []


def test_the_page_names_no_other_host_and_only_its_own_files_are_served(client: httpx.Client) -> None:
    answer = client.get("/docs")
    assert answer.status_code == 200
    assert "http://" not in answer.text
    assert "https://" not in answer.text
    policy = answer.headers["content-security-policy"]
    assert policy.startswith("default-src 'none'; script-src 'self' 'sha256-")
    assert "connect-src 'self';" in policy
    assert "unsafe-inline'; img" in policy  # styles only: no inline script but the page's own, by its hash
    assert client.get("/docs/assets/swagger-ui-bundle.js").headers["content-type"].startswith("text/javascript")
    for hostile in ("../core.py", "..%2F__init__.py", "%00", "redoc.standalone.js", "x" * 300):
        refused = client.get(f"/docs/assets/{hostile}")
        assert refused.status_code == 404, hostile
        assert refused.json()["error"]["code"] == "not_found"
