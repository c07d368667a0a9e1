"""Who holds a TCP port on this machine, so that a service that cannot start says so.

Read from /proc (no `ss` or `lsof` needed): the sockets bound to the port in /proc/net/tcp{,6},
then the process whose file descriptors include one of them. Processes of other users may be
unreadable without root: the port is then reported as taken by an unknown process.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")
_LISTEN = "0A"


@dataclass(frozen=True, slots=True)
class PortHolder:
    port: int
    pid: int | None
    command: str
    listening: bool

    def describe(self) -> str:
        what = "listening on" if self.listening else "using"
        who = f"pid {self.pid} ({self.command})" if self.pid is not None else "a process this user cannot see"
        return f"port {self.port} is taken: {who} is {what} it"


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could bind `host:port` now (the same test the service will meet)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def port_holder(port: int) -> PortHolder | None:
    """The process holding `port` (a listener first, else any socket bound to it); None when none is."""
    inodes = _socket_inodes(port)
    if not inodes:
        return None
    listening = any(state == _LISTEN for state in inodes.values())
    wanted = {inode for inode, state in inodes.items() if state == _LISTEN} or set(inodes)
    for process in _PROC.iterdir():
        if not process.name.isdigit():
            continue
        try:
            for fd in (process / "fd").iterdir():
                target = fd.readlink().as_posix()
                if target.startswith("socket:[") and target[8:-1] in wanted:
                    return PortHolder(port, int(process.name), _command(process), listening)
        except OSError:
            continue  # gone, or another user's
    return PortHolder(port, None, "", listening)


def _socket_inodes(port: int) -> dict[str, str]:
    """inode -> TCP state of every socket whose local port is `port`."""
    found: dict[str, str] = {}
    for table in ("tcp", "tcp6"):
        try:
            lines = (_PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and int(fields[1].rsplit(":", 1)[1], 16) == port:
                found[fields[9]] = fields[3]
    return found


def _command(process: Path) -> str:
    try:
        words = (process / "cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    except OSError:
        return "?"
    return " ".join(w.decode(errors="replace") for w in words)[:120] or "?"


class PortTaken(RuntimeError):
    def __init__(self, holder: PortHolder, setting: str) -> None:
        super().__init__(f"{holder.describe()}; stop it or choose another port with {setting}")
        self.holder = holder
