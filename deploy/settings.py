"""Every setting at once: what the `ioc` command builds at its entry point and hands on.

The services each take their own class (`IngestSettings`, `StreamsSettings`, `ApiSettings`,
`NotifySettings`); this one combines them for the dispatcher and the local stack, which start or
serve them all, and adds what only `ioc` itself reads: the local stack's other ports and mode,
and a migration policy. It lives here, not in `runtime`, because it needs every service's class
and no service may need it.
"""

from __future__ import annotations

from pydantic import Field

from api.http.settings import ApiSettings
from ingest.settings import IngestSettings
from notify.settings import NotifySettings
from streams.settings import StreamsSettings


class Settings(IngestSettings, StreamsSettings, ApiSettings, NotifySettings):
    """Read by `ioc` itself: the local stack (`ioc stack`) and `ioc db migrate`."""

    # The services reach PostgreSQL and Redis through IOC_DATABASE_URL and IOC_REDIS_URL; only the
    # local stack listens on these.
    pg_port: int = Field(default=15432, description="the local stack's PostgreSQL port")
    redis_port: int = Field(default=16379, description="the local stack's Redis port")
    alertmanager_port: int = Field(
        default=19093,
        description="the local stack's Alertmanager port (`ioc notify` posts there unless told otherwise)",
    )
    streams_local_replicas: int = Field(
        default=2,
        ge=1,
        le=4,
        description="KPI engines `ioc services start` runs (one active, the others standby); the second's health"
        " port is `IOC_STREAMS_HEALTH_PORT` + 10, and so on",
    )
    tls: bool = Field(
        default=False,
        description="the local stack in TLS mode (`ioc stack up --tls`): its own CA, Mosquitto and the API over TLS",
    )
    # Only the community edition of TimescaleDB (license 'timescale') has native compression; on the
    # Apache edition `ioc db migrate` skips it.
    compress_after_days: float = Field(
        default=7,
        ge=0,
        description="native compression of event chunks older than this, by `ioc db migrate`, on TimescaleDB's"
        " community edition only (0: off)",
    )

    def console_url(self) -> str:
        """Where people open the console: `IOC_NOTIFY_CONSOLE_URL`, else the API's public or own address."""
        if self.notify_console_url:
            return self.notify_console_url
        if self.api_public_url:
            return self.api_public_url.rstrip("/") + "/console"
        scheme = "https" if self.api_tls_cert_file and self.api_tls_key_file else "http"
        return f"{scheme}://{self.api_host}:{self.api_port}/console"
