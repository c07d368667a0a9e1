"""The wall (`/wall`), the on-call console (`/console`) and their static files (`/ui/...`), from `dashboards/`.

The pages hold no data, so they need no key: everything they show comes from the authenticated API.
They are served with a strict Content-Security-Policy (scripts, styles and connections to this origin
only, the websockets included; no framing), so a page can neither be embedded nor made to load or
send anything elsewhere.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from api.http.errors import NotFound
from dashboards import asset_root

router = APIRouter(tags=["pages"], include_in_schema=False)

# Only these directories of dashboards/ are served (not grafana/, not the Python package), and only these types.
_SERVED_DIRECTORIES = frozenset({"common", "wall", "console"})
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
}
HTML = "text/html; charset=utf-8"
# One segment of an asset's path: every file under the served directories is named so. Anything
# else (NUL, control characters, a percent-escape that was not UTF-8, `..`, a name too long for the
# file system) is no asset, refused before it reaches the file system, which raises on some of them.
_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}")
_MAX_SEGMENTS = 8
# A Host header that can go into the policy as it is (anything else falls back to 'self' alone).
_PLAIN_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def security_headers(host: str | None) -> dict[str, str]:
    # 'self' covers ws:/wss: to the same host in current browsers; older ones need them spelled out.
    sockets = f" ws://{host} wss://{host}" if host and _PLAIN_HOST.fullmatch(host) else ""
    policy = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        f"connect-src 'self'{sockets}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return {
        "Content-Security-Policy": policy,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        "Cache-Control": "no-cache",  # revalidate (ETag), so that a new version reaches the wall at its next load
    }


def _page(name: str, request: Request) -> FileResponse:
    return FileResponse(asset_root() / name / "index.html", media_type=HTML, headers=security_headers(_host(request)))


def _host(request: Request) -> str | None:
    return request.headers.get("host")


@router.get("/wall")
def wall(request: Request) -> FileResponse:
    return _page("wall", request)


@router.get("/console")
def console(request: Request) -> FileResponse:
    return _page("console", request)


@router.get("/ui/{path:path}")
def asset(path: str, request: Request) -> FileResponse:
    # The route's pattern ends in `$`, which also matches before a final newline ("%0A"): the path
    # parameter must be all of what follows /ui/.
    file = _served_file(path) if request.scope["path"].endswith(f"/ui/{path}") else None
    if file is None:
        raise NotFound(f"no page asset {path[:100]!r}")
    return FileResponse(file, media_type=MEDIA_TYPES[file.suffix], headers=security_headers(_host(request)))


def _served_file(path: str) -> Path | None:
    root = asset_root()
    parts = path.split("/")
    if len(parts) > _MAX_SEGMENTS or parts[0] not in _SERVED_DIRECTORIES or not all(map(_SEGMENT.fullmatch, parts)):
        return None
    try:
        file = (root / path).resolve()
        if not file.is_relative_to(root) or file.suffix not in MEDIA_TYPES or not file.is_file():
            return None
    except OSError:  # unreadable: no asset either (the names above cannot make the file system raise)
        return None
    return file
