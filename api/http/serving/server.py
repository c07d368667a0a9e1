"""The API's uvicorn server as `ioc api` runs it (and the tests serve it): the connection guard, a listening
socket we bind ourselves, and a bound on connections below the process's open-file limit."""

from __future__ import annotations

import logging
import resource
import socket

import uvicorn
from fastapi import FastAPI

from api.http.serving.guard import ConnectionGuard, guarded_protocol
from api.http.settings import ApiSettings

log = logging.getLogger(__name__)
LISTEN_BACKLOG = 2048
# Descriptors that are not client connections: those accepted in one go before any is counted (up to
# the listen backlog) and the process's own (database pool, Redis, logs, files being served).
_OWN_FILES = 512
_OPEN_FILES_CAP = 1_048_576  # when the hard limit is unlimited


def raise_open_files_limit() -> int:
    """Raises the process's soft limit on open files to its hard limit; the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = _OPEN_FILES_CAP if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            log.warning("open files: keeping the soft limit of %d (%s)", soft, exc)
    return _OPEN_FILES_CAP if soft == resource.RLIM_INFINITY else soft


def connection_bound(settings: ApiSettings, open_files: int) -> int:
    """How many connections the server holds at most: `IOC_API_MAX_CONNECTIONS`, never more than the
    open-file limit leaves once the listen backlog and the process's own files are set aside."""
    ceiling = open_files - min(LISTEN_BACKLOG + _OWN_FILES, open_files // 2)
    wanted = settings.api_max_connections
    if wanted is not None and wanted > ceiling:
        log.warning("IOC_API_MAX_CONNECTIONS=%d is above what %d open files allow: %d", wanted, open_files, ceiling)
    return ceiling if wanted is None else min(wanted, ceiling)


def api_server(app: FastAPI, settings: ApiSettings, open_files: int, log_level: str = "info") -> uvicorn.Server:
    """The server for `app`, its connections guarded (serve it on `listening_socket(settings)`)."""
    guard = ConnectionGuard(settings.api_request_read_timeout_seconds, connection_bound(settings, open_files))
    # HTTPS and WSS when a certificate is configured (uvicorn wraps the socket we bind). No
    # permessage-deflate: it would compress every delta once per client (the frames are encoded once
    # for all of them), costing more CPU than a control room's network saves.
    tls = settings.api_tls_cert_file is not None and settings.api_tls_key_file is not None
    config = uvicorn.Config(
        app, host=settings.api_host, port=settings.api_port, log_level=log_level,
        http=guarded_protocol(guard), backlog=LISTEN_BACKLOG, ws_per_message_deflate=False,
        ssl_certfile=str(settings.api_tls_cert_file) if tls else None,
        ssl_keyfile=str(settings.api_tls_key_file) if tls else None,
    )  # fmt: skip
    log.info("at most %d connections; a request within %g s", guard.max_connections, guard.read_timeout_seconds)
    return uvicorn.Server(config)


def listening_socket(settings: ApiSettings) -> socket.socket:
    """The API's socket, bound by us: accepted connections inherit its send buffer size (Linux)."""
    family = socket.AF_INET6 if ":" in settings.api_host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if settings.api_send_buffer_bytes:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, settings.api_send_buffer_bytes)
    sock.bind((settings.api_host, settings.api_port))
    sock.listen(LISTEN_BACKLOG)
    sock.set_inheritable(True)
    return sock
