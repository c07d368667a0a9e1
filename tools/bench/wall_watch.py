"""Live KPI websocket clients by the hundred, in a process of their own: for `ioc bench ws` and the
fan-out test (so that their clock readings wait for nothing of the caller's).

Run as `python -m tools.bench.wall_watch` with a JSON config in `IOC_WALL_WATCH` (see `WatchConfig`)
and the API key in `IOC_WALL_WATCH_KEY`. Each client trades the key for a ticket, subscribes, and
notes when each delta arrives. `slow` clients stop reading after their snapshot (a wall on a bad
link) until stdin closes, then read on to see how the server caught them up. Prints `ready` once
every client has its snapshot; when stdin closes, one JSON line: a `WallClientLog` per client.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
import orjson
import uvloop
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosedOK

from streams.records import MICROS, to_micros

_CATCH_UP_SECONDS = 20.0  # a slow client reads this long at most after the load stops
_SLOW_RECEIVE_BUFFER = 4096  # bytes: the kernel holds little for a client that does not read


@dataclass(frozen=True)
class WatchConfig:
    base_url: str
    clients: int
    slow: int = 0
    subscription: dict[str, object] = field(default_factory=lambda: {"kpis": "*", "areas": "*", "windows": "*"})
    origin: str | None = None
    watched: tuple[str, ...] = ()  # frame keys whose (arrival, last_event_at) are recorded
    watching_clients: int = 10  # how many clients record them (the rest only their delays)
    # Whether the walls that do not record arrivals count the frames in every delta: counting is a
    # large share of this process's CPU with 500 walls (docs/performance.md#design-figures), so the
    # benchmark leaves it to the watching ones.
    count_frames: bool = True


@dataclass
class WallClientLog:
    slow: bool
    snapshots: int = 0
    deltas: int = 0
    frames: int = 0
    delta_bytes: int = 0
    lagging: int = 0
    seq_breaks: int = 0  # deltas not following on from the last seq (with a "*" subscription: a lost frame)
    delays_ms: list[float] = field(default_factory=list)  # arrival − `as_of` of the delta's newest frame
    watched: dict[str, list[tuple[float, int]]] = field(default_factory=dict)


async def open_wall_socket(config: WatchConfig, http: httpx.AsyncClient, slow: bool) -> ClientConnection:
    """A live KPI socket: ticket, auth, subscribe (the first message to read is the snapshot)."""
    ticket = (await http.post("/api/v1/ws-tickets")).raise_for_status().json()["ticket"]
    url = config.base_url.replace("http", "ws", 1) + "/ws/kpis"
    sock = None
    if slow:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _SLOW_RECEIVE_BUFFER)
        sock.setblocking(False)
        host, port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
        await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    # A browser takes a snapshot of any size: every value of the province is some 2 MB of JSON.
    origin: Any = config.origin
    ws = await connect(url, origin=origin, sock=sock, max_queue=1 if slow else 64, open_timeout=60, max_size=2**26)
    await ws.send(json.dumps({"type": "auth", "ticket": ticket}))
    ready = json.loads(await ws.recv())
    if ready.get("type") != "ready":
        raise RuntimeError(f"the server refused the ticket: {ready}")
    await ws.send(json.dumps({"type": "subscribe", **config.subscription}))
    return ws


def _note(log: WallClientLog, message: dict[str, object], arrived: float, last_seq: int) -> int:
    kind = message["type"]
    frames = message.get("frames") or []
    assert isinstance(frames, list)
    if kind == "lagging":
        log.lagging += 1
    elif kind in ("snapshot", "resumed"):
        log.snapshots += 1
        return int(str(message["seq"]))
    elif kind == "delta" and frames:
        log.deltas += 1
        log.frames += len(frames)
        if frames[0]["seq"] != last_seq + 1:
            log.seq_breaks += 1
        log.delays_ms.append(1000 * (arrived - to_micros(frames[-1]["as_of"]) / MICROS))
        for frame in frames:
            pairs = log.watched.get(f"{frame['kpi']}|{frame['area']}|{frame['window']}")
            if pairs is not None and frame["last_event_at"] is not None:
                pairs.append((arrived, to_micros(frame["last_event_at"])))
        return int(frames[-1]["seq"])
    return last_seq


async def _client(
    ws: ClientConnection, log: WallClientLog, snapshot_seen: asyncio.Event, stop: asyncio.Event, count_frames: bool
) -> None:
    first = json.loads(await ws.recv())
    last_seq = _note(log, first, time.time(), 0)
    snapshot_seen.set()
    if log.slow:
        await stop.wait()  # not reading: the server's buffers for it fill up
        deadline = time.monotonic() + _CATCH_UP_SECONDS
        while time.monotonic() < deadline:  # caught up once it was told it lagged and got a snapshot
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
            except TimeoutError:
                break
            last_seq = _note(log, message, time.time(), last_seq)
            if log.lagging and message["type"] == "snapshot":
                break
        return
    receiving = asyncio.ensure_future(_receive(ws, log, last_seq, count_frames))
    await stop.wait()
    await asyncio.sleep(1.0)  # what was in flight when the load stopped
    receiving.cancel()


async def _receive(ws: ClientConnection, log: WallClientLog, last_seq: int, count_frames: bool) -> None:
    while True:
        try:
            raw = await ws.recv(decode=False)  # bytes: hundreds of walls need not decode every delta
        except ConnectionClosedOK:
            return
        arrived = time.time()
        log.delta_bytes += len(raw)
        if not log.watched and raw.startswith(_DELTA):
            last_seq = _note_delta(log, raw, arrived, last_seq, count_frames)
        else:
            last_seq = _note(log, orjson.loads(raw), arrived, last_seq)


_DELTA = b'{"type": "delta"'


def _note_delta(log: WallClientLog, raw: bytes, arrived: float, last_seq: int, count_frames: bool) -> int:
    """`_note` for a delta without parsing it: hundreds of clients in one process must keep up with
    the server, so only what is counted is read (the frames' encoding is the engine's, see
    streams/frames.py: `"as_of":"…"` and `"seq":N}` end each frame)."""
    log.deltas += 1
    if count_frames:
        log.frames += raw.count(b'"kpi":')
    first = raw.index(b'"seq":') + 6
    if int(raw[first : raw.index(b"}", first)]) != last_seq + 1:
        log.seq_breaks += 1
    as_of = raw.rindex(b'"as_of":"') + 9
    log.delays_ms.append(1000 * (arrived - to_micros(raw[as_of : raw.index(b'"', as_of)].decode()) / MICROS))
    last = raw.rindex(b'"seq":') + 6
    return int(raw[last : raw.index(b"}", last)])


async def watch(config: WatchConfig, key: str, ready: asyncio.Event, stop: asyncio.Event) -> list[WallClientLog]:
    logs = [WallClientLog(slow=i < config.slow) for i in range(config.clients)]
    for log in logs[config.slow : config.slow + config.watching_clients]:
        log.watched = {k: [] for k in config.watched}
    limits = httpx.Limits(max_connections=20)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=config.base_url, headers=headers, limits=limits, timeout=60) as http:
        sockets = [await open_wall_socket(config, http, log.slow) for log in logs]
    seen = [asyncio.Event() for _ in logs]
    tasks = [
        asyncio.ensure_future(_client(ws, log, s, stop, config.count_frames))
        for ws, log, s in zip(sockets, logs, seen, strict=True)
    ]
    await asyncio.gather(*(s.wait() for s in seen))
    ready.set()
    await asyncio.gather(*tasks)
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return logs


async def _main(config: WatchConfig, key: str) -> list[WallClientLog]:
    ready, stop = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_stdin() -> None:
        if not os.read(sys.stdin.fileno(), 4096):  # closed: the load is over
            loop.remove_reader(sys.stdin.fileno())
            stop.set()

    loop.add_reader(sys.stdin.fileno(), on_stdin)
    watching = asyncio.ensure_future(watch(config, key, ready, stop))
    await asyncio.wait({watching, asyncio.ensure_future(ready.wait())}, return_when=asyncio.FIRST_COMPLETED)
    if ready.is_set():
        print("ready", flush=True)
    return await watching  # raises what made it fail before every client was ready


class WallWatcher:
    """`python -m tools.bench.wall_watch` in a subprocess: every client has its snapshot when this returns."""

    def __init__(self, config: WatchConfig, key: str, timeout_seconds: float = 120) -> None:
        env = {**os.environ, "IOC_WALL_WATCH": json.dumps(asdict(config)), "IOC_WALL_WATCH_KEY": key}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tools.bench.wall_watch"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert self._process.stdout is not None
        ready = self._process.stdout.readline().strip()
        if ready != "ready":
            self._process.kill()
            raise RuntimeError(f"the websocket clients did not all connect (exit {self._process.wait(10)})")
        self._timeout = timeout_seconds

    @property
    def pid(self) -> int:
        return self._process.pid

    def stop(self) -> list[WallClientLog]:
        """Stop the load; each client's log once it has read what was in flight."""
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdin.close()
        logs = json.loads(self._process.stdout.readline() or "[]")
        self._process.stdout.close()
        self._process.wait(self._timeout)
        return [
            WallClientLog(**{**log, "watched": {k: [tuple(p) for p in v] for k, v in log["watched"].items()}})
            for log in logs
        ]


def main() -> int:
    raw = json.loads(os.environ["IOC_WALL_WATCH"])
    config = WatchConfig(**{**raw, "watched": tuple(raw.get("watched", ()))})
    gc.disable()  # a collection pass over what the clients logged would show up as delivery delay
    # uvloop, as the API runs on (uvicorn picks it): hundreds of sockets read by asyncio's own loop
    # cost this process more CPU than the server spends sending to them.
    logs = uvloop.run(_main(config, os.environ["IOC_WALL_WATCH_KEY"]))
    print(json.dumps([asdict(log) for log in logs]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
