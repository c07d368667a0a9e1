"""The interactive API reference, `/docs` (Swagger UI), served whole by the API itself.

FastAPI's own page loads Swagger UI from a public CDN, which a closed operations-center network
cannot reach: there `/docs` was a blank page. Here its files come from a pinned package
(`fastapi-offline`, which ships them), at `/docs/assets/…`, and the page says so in its policy:
scripts, styles, images and connections from this origin only, so nothing is asked of another host.
Swagger UI's online validator badge (a request to validator.swagger.io) is turned off. ReDoc is not
served: the copy in that package always loads its maker's logo from the maker's CDN.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from api.http.errors import NotFound

router = APIRouter(include_in_schema=False)

TITLE = "Đắk Nông IOC API"
ASSETS = "/docs/assets"
OPENAPI_URL = "/openapi.json"
# The files served, by name: nothing else of the package is reachable.
_ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon.png": "image/png",
}
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def asset_directory() -> Path:
    return Path(str(resources.files("fastapi_offline") / "static"))


def _policy(html: str) -> str:
    """Only this origin; the page's one inline script allowed by its hash, not every inline script."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    # Swagger UI sets style attributes and draws its icons from data: URLs.
    return (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
        " connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def _page(html: str) -> HTMLResponse:
    headers = {"Content-Security-Policy": _policy(html), "X-Content-Type-Options": "nosniff"}
    return HTMLResponse(html, headers=headers)


@cache
def _swagger_html() -> str:
    page = get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title=f"{TITLE} - Swagger UI",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon.png",
        oauth2_redirect_url=None,
        swagger_ui_parameters={"validatorUrl": None},
    )
    return bytes(page.body).decode()


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    return _page(_swagger_html())


@router.get(f"{ASSETS}/{{name}}")
def asset(name: str) -> FileResponse:
    if name not in _ASSET_TYPES:
        raise NotFound(f"no documentation asset {name[:100]!r}")
    return FileResponse(
        asset_directory() / name, media_type=_ASSET_TYPES[name], headers={"Cache-Control": "public, max-age=86400"}
    )
