"""Inside a network namespace: a loopback TCP port that leads to a Unix socket outside it.

Run as `ip netns exec NS python -m tests.verify.netns_relay PORT PATH`; prints `ready` once listening,
relays until SIGTERM. Unix sockets cross network namespaces, TCP on the namespace's loopback does
not: dropping the namespace's loopback traffic cuts exactly this hop.
"""

from __future__ import annotations

import signal
import socket
import sys
import threading

from tests.fixtures.proxy import TcpProxy


def _unix_to(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    return sock


def main() -> int:
    port, path = int(sys.argv[1]), sys.argv[2]
    relay = TcpProxy(listener=socket.create_server(("127.0.0.1", port)), connect=lambda: _unix_to(path))
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    print("ready", flush=True)
    stopping.wait()
    relay.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
