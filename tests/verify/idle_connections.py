"""A process that opens COUNT TCP connections to 127.0.0.1:PORT from SOURCE and never sends a byte on them.

    python -m tests.verify.idle_connections PORT COUNT SOURCE

One process may hold as many sockets as its open-file limit (raised to the hard limit here); each source
address has its own range of ephemeral ports. It opens them in batches, each once the last has
connected. It prints one JSON line once every connection attempt has
ended (`connected`, `failed`, `seconds`), then holds its sockets, whatever the server does with them,
until its standard input closes.
"""

from __future__ import annotations

import errno
import json
import resource
import selectors
import socket
import sys
import time

_ATTEMPT_SECONDS = 60.0
# Connections opened at once: a server that accepts them all sees them all. Thousands at once overflow
# the listen queue; the kernel then completes handshakes that it never queues (the client believes it
# is connected, the server never hears of it), which would hold nothing.
_BATCH = 200


def main(port: int, count: int, source: str) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    started = time.monotonic()
    held: list[socket.socket] = []
    connected = failed = 0
    while len(held) < count:
        batch = [_connecting(port, source) for _ in range(min(_BATCH, count - len(held)))]
        held.extend(batch)
        done, lost = _completed(batch, started + _ATTEMPT_SECONDS)
        connected, failed = connected + done, failed + lost
    print(json.dumps({"connected": connected, "failed": failed, "seconds": time.monotonic() - started}), flush=True)
    sys.stdin.read()  # hold every socket until told to stop
    for sock in held:
        sock.close()


def _connecting(port: int, source: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_BIND_ADDRESS_NO_PORT, 1)  # the port is chosen per peer
    sock.bind((source, 0))
    sock.setblocking(False)
    code = sock.connect_ex(("127.0.0.1", port))
    if code not in (0, errno.EINPROGRESS):
        raise OSError(code, f"connect: {errno.errorcode.get(code, code)}")
    return sock


def _completed(batch: list[socket.socket], deadline: float) -> tuple[int, int]:
    """Waits for every connection attempt of the batch to end: how many connected, how many failed."""
    pending = selectors.DefaultSelector()
    for sock in batch:
        pending.register(sock, selectors.EVENT_WRITE)
    connected = failed = 0
    while pending.get_map() and time.monotonic() < deadline:
        for key, _ in pending.select(timeout=1):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            pending.unregister(sock)
            if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                connected += 1
            else:
                failed += 1
    failed += len(pending.get_map())
    pending.close()
    return connected, failed


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
