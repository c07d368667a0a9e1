"""Debian's Chromium, headless, driven over the DevTools protocol (with the `websockets` client the project
already has): enough to load a page, evaluate JavaScript, wait for a condition and take a screenshot.

Chromium runs with the switches that keep it off the network (no background requests, updates, sync or
metrics) on a closed machine, in a throwaway profile. Exceptions thrown in the page are collected, so a
test can insist that none happened.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from websockets.sync.client import ClientConnection, connect

CHROMIUM_SWITCHES = (
    "--headless=new",
    "--no-sandbox",  # tests run as root, which the sandbox refuses
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--metrics-recording-only",
    "--disable-breakpad",
    "--disable-crash-reporter",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
)


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """One Chromium with one page of `width`×`height`; `switches` are added to CHROMIUM_SWITCHES. With
    `record_requests`, every request the page makes is recorded in `requested` (its URL), whether it
    succeeded or not."""

    def __init__(
        self, width: int = 1920, height: int = 1080, switches: tuple[str, ...] = (), *, record_requests: bool = False
    ) -> None:
        executable = chromium_path()
        assert executable is not None, "Debian's chromium is needed (apt-get install chromium)"
        self._profile = Path(tempfile.mkdtemp(prefix="ioc-chromium-"))
        self._process = subprocess.Popen(
            [executable, *CHROMIUM_SWITCHES, *switches, f"--user-data-dir={self._profile}",
             f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: close() ends every process it starts
        )  # fmt: skip
        self._ids = itertools.count(1)
        self.exceptions: list[str] = []
        self.requested: list[str] = []
        self._resources = ExitStack()
        try:
            self._socket = self._resources.enter_context(
                connect(self._page_socket_url(), max_size=64 * 1024 * 1024, open_timeout=10)
            )
            for domain in ("Page", "Runtime", *(("Network",) if record_requests else ())):
                self.call(f"{domain}.enable")
            self.resize(width, height)
        except BaseException:
            self.close()
            raise

    def resize(self, width: int, height: int) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def _page_socket_url(self) -> str:
        active = self._profile / "DevToolsActivePort"  # Chromium writes its port here once it listens
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if active.exists() and len(lines := active.read_text().splitlines()) >= 2:
                port = lines[0]
                with connect(f"ws://127.0.0.1:{port}{lines[1]}", open_timeout=10) as browser:
                    targets = _request(browser, 1, "Target.getTargets")["targetInfos"]
                (page,) = [t for t in targets if t["type"] == "page"]
                return f"ws://127.0.0.1:{port}/devtools/page/{page['targetId']}"
            time.sleep(0.1)
        raise AssertionError("chromium did not open its DevTools port")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        return _request(self._socket, next(self._ids), method, params, self._on_event)

    def _on_event(self, message: dict[str, Any]) -> None:
        if message.get("method") == "Runtime.exceptionThrown":
            details = message["params"]["exceptionDetails"]
            self.exceptions.append(str(details.get("exception", {}).get("description", details.get("text"))))
        elif message.get("method") == "Network.requestWillBeSent":
            self.requested.append(message["params"]["request"]["url"])

    def open(self, url: str) -> None:
        """Navigates and returns once the page's document has loaded."""
        self.call("Page.navigate", url=url)
        page = urlsplit(url)
        self.wait_equal(
            "document.readyState === 'complete' && window.location.origin + window.location.pathname",
            f"{page.scheme}://{page.netloc}{page.path}",
        )

    def evaluate(self, expression: str) -> Any:
        answer = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in answer:
            raise AssertionError(f"{expression}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 15.0) -> Any:
        """The value of `expression` once it is truthy (polled); fails with its last value after `timeout`."""
        return self._poll(expression, bool, timeout)

    def wait_equal(self, expression: str, expected: Any, timeout: float = 15.0) -> None:
        """Until `expression` evaluates to `expected` (compared in Python, after JSON)."""
        self._poll(expression, lambda value: value == expected, timeout)

    def _poll(self, expression: str, done: Callable[[Any], bool], timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if done(value):
                return value
            time.sleep(0.1)
        raise AssertionError(f"still {value!r} after {timeout} s: {expression}")

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        self._resources.close()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, sig)
            try:
                self._process.wait(10)
                break
            except subprocess.TimeoutExpired:
                continue
        # Its helper processes may still be writing into the profile for a moment.
        deadline = time.monotonic() + 5
        while self._profile.exists() and time.monotonic() < deadline:
            shutil.rmtree(self._profile, ignore_errors=True)
            time.sleep(0.05)


def _request(
    socket: ClientConnection,
    call_id: int,
    method: str,
    params: dict[str, Any] | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    socket.send(json.dumps({"id": call_id, "method": method, "params": params or {}}))
    while True:
        message = json.loads(socket.recv(timeout=30))
        if message.get("id") == call_id:
            if "error" in message:
                raise AssertionError(f"{method}: {message['error']}")
            return message["result"]  # type: ignore[no-any-return]
        if on_event is not None:
            on_event(message)
