"""Live KPI walls that mirror what they are sent, in a process of their own, to compare with the server.

Run as `python -m tests.verify.wall_mirror` with a `WatchConfig` as JSON in `IOC_WALL_WATCH` and the
API key in `IOC_WALL_WATCH_KEY`. Each client applies its snapshot and every delta to a copy of the
values, as a wall does. Prints `ready` once every client has its snapshot; when stdin closes, it
waits until no client has received anything for a few seconds, takes a fresh snapshot from the
server and prints one JSON line: per client, the epochs it saw and whether its copy equals the
server's, and the frames it got twice or (subscribed to everything, so that every `seq` of an epoch
is its own) that skipped a `seq` after its snapshot.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field

import httpx
from websockets.asyncio.client import ClientConnection

from tools.bench.wall_watch import WatchConfig, open_wall_socket

_QUIET_SECONDS = 3.0
_QUIET_WAIT_MAX_SECONDS = 90.0

Values = dict[str, dict[str, object]]


@dataclass
class MirrorLog:
    epochs: list[str] = field(default_factory=list)
    snapshots: int = 0
    deltas: int = 0
    lagging: int = 0
    keys: int = 0
    differing_keys: int = -1  # from the server's snapshot, once compared
    closed: str = ""
    duplicate_frames: int = 0  # a `seq` at or below one already held in the same epoch
    seq_gaps: int = 0  # counted only for a client subscribed to every KPI, area and window
    last_seq: int = 0


def _key(frame: dict[str, object]) -> str:
    return f"{frame['kpi']}|{frame['area']}|{frame['window']}"


def _apply(log: MirrorLog, values: Values, message: dict[str, object], every_seq: bool = False) -> None:
    frames = message.get("frames") or []
    assert isinstance(frames, list)
    if message["type"] == "lagging":
        log.lagging += 1
        return
    if message["type"] == "snapshot":
        log.snapshots += 1
        values.clear()
        epoch = str(message["epoch"])
        if not log.epochs or log.epochs[-1] != epoch:
            log.epochs.append(epoch)
        log.last_seq = int(str(message["seq"]))
    elif message["type"] == "delta":
        log.deltas += 1
        for frame in frames:
            seq = int(str(frame["seq"]))
            if seq <= log.last_seq:
                log.duplicate_frames += 1
            elif every_seq and seq != log.last_seq + 1:
                log.seq_gaps += 1
            log.last_seq = max(log.last_seq, seq)
    for frame in frames:
        values[_key(frame)] = frame


class Mirror:
    def __init__(self, ws: ClientConnection, every_seq: bool = False) -> None:
        self.ws = ws
        self.every_seq = every_seq
        self.log = MirrorLog()
        self.values: Values = {}
        self.last_message_at = time.monotonic()

    def heard_within(self, seconds: float) -> bool:
        return time.monotonic() - self.last_message_at < seconds

    async def follow(self) -> None:
        try:
            async for raw in self.ws:
                self.last_message_at = time.monotonic()
                _apply(self.log, self.values, json.loads(raw), self.every_seq)
        except Exception as error:  # reported: a wall that lost its socket is a finding
            self.log.closed = repr(error)
        else:
            self.log.closed = f"closed by the server: {self.ws.close_code}"


async def _server_values(config: WatchConfig, http: httpx.AsyncClient) -> tuple[str, Values]:
    ws = await open_wall_socket(config, http, slow=False)
    try:
        first = json.loads(await ws.recv())
        assert first["type"] == "snapshot", first
        return str(first["epoch"]), {_key(f): f for f in first["frames"]}
    finally:
        await ws.close()


async def run(config: WatchConfig, key: str, stop: asyncio.Event) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=config.base_url, headers=headers, timeout=60) as http:
        every_seq = all(config.subscription.get(part) == "*" for part in ("kpis", "areas", "windows"))
        mirrors = [Mirror(await open_wall_socket(config, http, slow=False), every_seq) for _ in range(config.clients)]
        for mirror in mirrors:
            _apply(mirror.log, mirror.values, json.loads(await mirror.ws.recv()))
        print("ready", flush=True)
        following = [asyncio.ensure_future(m.follow()) for m in mirrors]
        await stop.wait()
        deadline = time.monotonic() + _QUIET_WAIT_MAX_SECONDS
        while time.monotonic() < deadline and any(m.heard_within(_QUIET_SECONDS) for m in mirrors):
            await asyncio.sleep(0.5)
        epoch, server = await _server_values(config, http)
        for mirror in mirrors:
            mirror.log.keys = len(mirror.values)
            every_key = server.keys() | mirror.values.keys()
            mirror.log.differing_keys = sum(1 for k in every_key if server.get(k) != mirror.values.get(k))
        for task in following:
            task.cancel()
        await asyncio.gather(*(m.ws.close() for m in mirrors), return_exceptions=True)
    return {"server_epoch": epoch, "server_keys": len(server), "clients": [asdict(m.log) for m in mirrors]}


async def _main(config: WatchConfig, key: str) -> dict[str, object]:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_stdin() -> None:
        if not os.read(sys.stdin.fileno(), 4096):
            loop.remove_reader(sys.stdin.fileno())
            stop.set()

    loop.add_reader(sys.stdin.fileno(), on_stdin)
    return await run(config, key, stop)


def main() -> int:
    raw = json.loads(os.environ["IOC_WALL_WATCH"])
    config = WatchConfig(**{**raw, "watched": tuple(raw.get("watched", ()))})
    print(json.dumps(asyncio.run(_main(config, os.environ["IOC_WALL_WATCH_KEY"]))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())


class WallMirrorProcess:
    """The mirrors in a subprocess: every client has its snapshot when this returns."""

    def __init__(self, config: WatchConfig, key: str) -> None:
        env = {**os.environ, "IOC_WALL_WATCH": json.dumps(asdict(config)), "IOC_WALL_WATCH_KEY": key}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.verify.wall_mirror"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert self._process.stdout is not None
        if self._process.stdout.readline().strip() != "ready":
            self._process.kill()
            raise RuntimeError(f"the walls did not all get their snapshot (exit {self._process.wait(10)})")

    def compare(self, timeout_seconds: float = 180) -> dict[str, object]:
        """Once the walls are quiet: the epochs each saw and how many of its values differ from the server's."""
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdin.close()
        result = json.loads(self._process.stdout.readline() or "{}")
        self._process.stdout.close()
        self._process.wait(timeout_seconds)
        assert isinstance(result, dict)
        return result

    def kill(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait(10)
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None:
                pipe.close()
