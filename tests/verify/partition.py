"""A silent network partition between ingest and the broker, made with a network namespace.

Ingest runs in a namespace of its own. It reaches PostgreSQL through a Unix socket, and the broker
through a TCP port on the namespace's loopback that a relay carries over a Unix socket to the real
broker. `partition()` makes the namespace's loopback drop every packet (a `pfifo` queue of length
0): no reset, no FIN, the connection simply goes quiet, as when a link or a firewall drops it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.fixtures.proxy import TcpProxy, tcp_to


def _run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, text=True)


def _unix_listener(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.listen(16)
    return sock


class IsolatedIngestNetwork:
    BROKER_PORT = 1883  # inside the namespace
    DATABASE_SOCKET_PORT = 5432  # the name of the PostgreSQL socket file in `database_socket_dir`

    def __init__(self, directory: Path, broker_port: int, database_port: int) -> None:
        self.name = f"ioc-partition-{os.getpid()}"
        self.database_socket_dir = directory / "pg"
        self.database_socket_dir.mkdir(parents=True)
        _run("ip", "netns", "add", self.name)
        self._proxies: list[TcpProxy] = []
        self._relay: subprocess.Popen[str] | None = None
        try:
            _run("ip", "netns", "exec", self.name, "ip", "link", "set", "lo", "up")
            broker_socket = directory / "broker.sock"
            self._proxies.append(TcpProxy(listener=_unix_listener(broker_socket), connect=tcp_to(broker_port)))
            database_socket = self.database_socket_dir / f".s.PGSQL.{self.DATABASE_SOCKET_PORT}"
            self._proxies.append(TcpProxy(listener=_unix_listener(database_socket), connect=tcp_to(database_port)))
            self._relay = subprocess.Popen(
                [*self.exec_prefix(), sys.executable, "-m", "tests.verify.netns_relay", str(self.BROKER_PORT),
                 str(broker_socket)],
                stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            assert self._relay.stdout is not None
            assert self._relay.stdout.readline().strip() == "ready", "the relay in the namespace did not start"
        except BaseException:
            self.close()
            raise

    def exec_prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.name]

    def partition(self) -> None:
        _run(*self.exec_prefix(), "tc", "qdisc", "add", "dev", "lo", "root", "pfifo", "limit", "0")

    def heal(self) -> None:
        _run(*self.exec_prefix(), "tc", "qdisc", "del", "dev", "lo", "root")

    def close(self) -> None:
        if self._relay is not None:
            self._relay.terminate()
            self._relay.wait(10)
            if self._relay.stdout is not None:
                self._relay.stdout.close()
        for proxy in self._proxies:
            proxy.close()
        subprocess.run(["ip", "netns", "del", self.name], check=False, capture_output=True)
