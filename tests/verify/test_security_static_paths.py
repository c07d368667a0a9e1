"""Malformed paths under /ui/ against a real `ioc api`: each is a 404 in the API's JSON error format, and
nothing reaches the log as a traceback (it was a 500 in plain text, with a traceback, for a NUL byte).

The paths are percent-encoded, as a URL carries them: NUL and control characters, escapes that do not
decode as UTF-8, `..` and `.`, empty segments, names far longer than a file system allows. Bytes that
cannot stand in a request line at all are refused by the HTTP parser before any route sees them.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import strategies as st

from dashboards import asset_root
from deploy.stack.manager import LocalStack
from tests.fixtures.api import api_process
from tests.fixtures.stack import IsolatedDatabase
from tests.fixtures.verify import VerifyProfile
from tests.verify.report import ScenarioResult
from tests.verify.test_bad_input import run_examples

pytestmark = pytest.mark.integration

SERVED = {
    path.relative_to(asset_root()).as_posix()
    for directory in ("common", "wall", "console")
    for path in (asset_root() / directory).iterdir()
    if path.suffix in (".js", ".css", ".json", ".svg")
}


def _escaped(data: bytes) -> str:
    return "".join(f"%{byte:02X}" for byte in data)


_SEGMENTS = st.one_of(
    st.sampled_from(["common", "wall", "console", "base.css", "live.js", "grafana", "..", ".", "", "%2e%2e"]),
    st.binary(min_size=1, max_size=40).map(_escaped),  # NUL, control bytes, escapes that are not UTF-8
    st.text(min_size=1, max_size=20).map(lambda text: _escaped(text.encode("utf-8", "surrogatepass"))),
    st.integers(min_value=200, max_value=5000).map(lambda n: "a" * n + ".js"),  # longer than a file name may be
)
_PATHS = st.one_of(
    st.lists(_SEGMENTS, min_size=1, max_size=6).map("/".join),
    st.sampled_from(sorted(SERVED)).flatmap(  # a served asset with something appended or inserted
        lambda asset: st.sampled_from(["%00", "%00.js", "%FF", "%C0%AF", "/..", "/../../pyproject.toml", "%0A"]).map(
            lambda tail: asset + tail
        )
    ),
)


def get(port: int, target: str) -> tuple[int, dict[str, str], bytes]:
    """The answer to `GET <target>` sent exactly as given (no client normalises it): status, headers, body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode("ascii"))
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split(" ")[1]), headers, body


def test_malformed_static_paths_are_json_404s_without_a_traceback(
    stack: LocalStack,
    database: IsolatedDatabase,
    redis_url: str,
    tmp_path: Path,
    scenario: ScenarioResult,
    profile: VerifyProfile,
) -> None:
    examples = profile.pick(fast=300, full=5_000)
    scenario.scenario = "Security: malformed /ui/ paths (NUL, bad escapes, .., overlong) are JSON 404s, no traceback"
    scenario.load = f"GET /ui/common/base.css%00.js, then {examples:,} generated paths (hypothesis)"
    log = tmp_path / "api.log"
    outcomes = {"404": 0, "200 (a real asset)": 0}
    with api_process(stack, database, redis_url, log_file=log) as base_url:
        port = urlsplit(base_url).port
        assert port is not None
        status, headers, body = get(port, "/ui/common/base.css%00.js")
        assert (status, headers["content-type"]) == (404, "application/json"), body
        assert json.loads(body)["error"]["code"] == "not_found"

        def check(value: object) -> None:
            assert isinstance(value, str)
            status, headers, body = get(port, "/ui/" + value)
            if status == 200:  # what it decodes to is a file the pages use
                assert unquote(value, errors="replace") in SERVED, value
                outcomes["200 (a real asset)"] += 1
                return
            assert (status, headers.get("content-type")) == (404, "application/json"), (value, status, body[:200])
            assert json.loads(body)["error"]["code"] == "not_found", value
            outcomes["404"] += 1

        ran = run_examples(_PATHS, examples, check)
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text[-3000:]
    assert "Exception in ASGI application" not in text
    for name, count in outcomes.items():
        scenario.measure(name, count)
    scenario.measure("paths", ran + 1)
    scenario.measure("tracebacks in the log", 0)
