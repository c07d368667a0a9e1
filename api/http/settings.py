"""The HTTP API's settings (`ioc api`): its listeners, TLS, websocket origins and connection bounds."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field

from ingest.intake_settings import IntakeSettings
from streams.silence_settings import SilenceSettings


class ApiSettings(IntakeSettings, SilenceSettings):
    """Read by the HTTP API (`ioc api`), with the intake rules (it replays dead letters) and the silence
    rules (it shows which publishers are silent)."""

    api_port: int = Field(default=18080, description="where `ioc api` listens (the local stack's API port)")
    # In production behind a TLS reverse proxy or ingress, or with a certificate of its own.
    api_host: str = Field(default="127.0.0.1", description="the address `ioc api` listens on")
    # A wall served by this API is never refused its websocket, whatever its host, port and scheme.
    api_allowed_origins: list[str] | None = Field(
        default=None,
        description="pages allowed to open the websockets (the Origin header; a JSON list); unset: the API's"
        " own origin (`http(s)://127.0.0.1:<IOC_API_PORT>` and `localhost`, or its `IOC_API_HOST`) and the"
        " public URL's",
    )
    api_public_url: str | None = Field(
        default=None,
        description="the address people and other systems reach the API at (behind a proxy, its `https://`"
        " URL); its origin is allowed too",
    )
    # Never routed by the proxy or the ingress: for the probes and Prometheus only. Loopback on a
    # machine, all interfaces in a container (a kubelet probe or a scrape comes from outside the
    # process's loopback).
    api_ops_port: int = Field(
        default=18083,
        description="the API's operations listener: `/health` (each dependency — `database`, `broker`, `redis`,"
        " `streams` (the engine's heartbeat), `event_loop` — with a reason) and `/metrics`",
    )
    api_ops_host: str = Field(
        default="127.0.0.1",
        description="where the operations listener listens (0.0.0.0 in the container image, for probes)",
    )
    # Small enough that a live client which stops reading shows as lagging within a few hundred
    # frames, and that 500 walls cannot pin gigabytes of kernel memory.
    api_send_buffer_bytes: int = Field(
        default=131_072,
        ge=0,
        description="kernel send buffer of each API connection (0: the kernel's autotuning, up to 4 MB): bounds"
        " what a stalled live client holds before it is marked lagging",
    )
    # At most 10 s, as the proxies do.
    api_request_read_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=10,
        description="a connection that has not sent a complete request (head and body) within this long of"
        " opening, or of starting its next one, is closed",
    )
    # Unset: its open-file limit, raised to the hard limit at start, less 2,560 for the listen backlog
    # and its own files (api.http.serving.server.connection_bound).
    api_max_connections: int | None = Field(
        default=None,
        ge=16,
        description="connections `ioc api` holds at most, websockets included; at the bound the oldest one still"
        " waiting for a complete request makes room ([connection limits](operations.md#connection-limits));"
        " unset: the open-file limit (raised to the hard limit at start) less 2,560",
    )
    # A revocation announced through Redis closes the websockets at once; this is for one that was not.
    api_key_recheck_seconds: float = Field(
        default=5.0,
        gt=0,
        le=10,
        description="how often each API process asks the database whether the keys of its live websockets are"
        " still current (an announced revocation closes them at once)",
    )
    # The console's status board and dead-letter tools (api.http.status, api.http.dead_letters).
    api_dead_letter_burst: int = Field(
        default=20,
        ge=1,
        description="dead letters received within 5 minutes above which the console's status board calls it a"
        " burst (a problem); fewer, but some, are a warning",
    )
    api_bulk_replay_max: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="dead letters one bulk replay (`POST /api/v1/dead-letters/replay`) replays at most; a filter"
        " matching more is refused, to be narrowed",
    )
    api_tls_cert_file: Path | None = Field(
        default=None, description="with `IOC_API_TLS_KEY_FILE`: `ioc api` serves HTTPS and WSS itself"
    )
    api_tls_key_file: Path | None = Field(default=None, description="the key of `IOC_API_TLS_CERT_FILE`")

    def allowed_origins(self) -> list[str]:
        """The Origins allowed to open the live websockets: the setting when given, else the API's own."""
        if self.api_allowed_origins is not None:
            return list(self.api_allowed_origins)
        scheme = "https" if self.api_tls_cert_file and self.api_tls_key_file else "http"
        # Listening on every interface or on loopback, the API is reached at both loopback names.
        hosts = ["127.0.0.1", "localhost"] if self.api_host in _LOOPBACK_OR_ANY else [self.api_host]
        origins = [f"{scheme}://{_bracketed(host)}:{self.api_port}" for host in hosts]
        if self.api_public_url:
            public = urlsplit(self.api_public_url)
            origins.append(f"{public.scheme}://{public.netloc}")
        return origins


_LOOPBACK_OR_ANY = frozenset({"127.0.0.1", "localhost", "0.0.0.0", "::", "::1", ""})  # noqa: S104


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host
