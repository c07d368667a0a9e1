"""What every process of the system reads from ``IOC_*`` environment variables: its home and connections.

Each service has its own settings class, a subclass of this base in its own package (`IngestSettings`,
`StreamsSettings`, `ApiSettings`); the `ioc` command combines them (`deploy.settings.Settings`), builds
them once at its entry point and passes each service its own. Defaults describe the local stack that
``ioc stack up`` runs (its own ports, never the machine's standard ones); every value can be overridden
to point the services at production systems. The configuration reference, docs/configuration.md, is
generated from these classes (`python -m cli.configuration_doc`): the descriptions are its text.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class SharedSettings(BaseSettings):
    """The base of every process's settings: where the local stack lives, and the connections to
    PostgreSQL, Redis and the broker (with the broker's admin account, for the processes that manage
    publishers). Connections left unset point at the local stack in `IOC_HOME`."""

    # Frozen: settings are built once at an entry point and passed down, never changed on the way.
    model_config = SettingsConfigDict(env_prefix="IOC_", frozen=True, extra="ignore")

    home: Path = Field(
        default=Path(".ioc"),
        description="data directory of the local stack (its secrets, its databases' files, the spool by default);"
        " unset, the `ioc` command uses `.ioc` in the project folder (the nearest folder, from the working directory"
        " up, holding the project's pyproject.toml), and only `ioc up` and `ioc stack up` may create it",
    )
    mqtt_port: int = Field(default=11883, description="the broker's port (the local stack's Mosquitto listens on it)")

    # Empty means "the local stack in `home`" (resolved by deploy.stack.manager.LocalStack.connected_settings).
    database_url: SecretStr | None = Field(default=None, description="PostgreSQL DSN; unset: the local stack's")
    redis_url: SecretStr | None = Field(default=None, description="Redis URL; unset: the local stack's")
    mqtt_host: str = Field(default="127.0.0.1", description="the broker's host, for every MQTT client of the system")
    # The account that manages broker accounts over the dynamic-security plugin's control topic;
    # only the processes that manage publishers need its password.
    mqtt_admin_username: str = Field(
        default="ioc-admin",
        description="the broker account that manages publishers' accounts over the dynamic-security control topic:"
        " `ioc publishers`, the API's admin routes (503 without it), the simulator; no other process needs it",
    )
    mqtt_admin_password: SecretStr | None = Field(
        default=None, description="its password; unset: the local stack's (if there is one)"
    )
    mqtt_admin_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="how long a control-topic request may wait for the broker's answer"
    )
    # The certificate and host name are always verified: a CA alone turns TLS on.
    mqtt_tls_ca_file: Path | None = Field(
        default=None, description="MQTT over TLS for every client of the system, verified against this CA"
    )
    mqtt_tls_cert_file: Path | None = Field(
        default=None, description="the clients' certificate, where the broker asks for one"
    )
    mqtt_tls_key_file: Path | None = Field(default=None, description="its key (unset: in the certificate's file)")
    # The broker's address as publishers reach it (a public name, port 8883), which is rarely the one the
    # system's own clients use (a service name, the compose network): the connection kit prints these.
    mqtt_public_tls_url: str | None = Field(
        default=None,
        pattern=r"^mqtts://[^/\s:]+(:\d{1,5})?$",
        description="the broker's MQTT-over-TLS address for publishers, `mqtts://HOST:PORT`, printed by the"
        " connection kit of `ioc publishers add`; unset: `mqtts://IOC_MQTT_HOST:IOC_MQTT_PORT` when"
        " `IOC_MQTT_TLS_CA_FILE` is set",
    )
    mqtt_public_url: str | None = Field(
        default=None,
        pattern=r"^mqtt://[^/\s:]+(:\d{1,5})?$",
        description="the broker's plain MQTT address for publishers, `mqtt://HOST:PORT` (a closed network"
        " only); unset: `mqtt://IOC_MQTT_HOST:IOC_MQTT_PORT` when the broker runs without TLS, else none",
    )
    mqtt_public_ca_file: Path | None = Field(
        default=None,
        description="the CA that publishers verify the broker's certificate with, printed (path and PEM) by the"
        " connection kit; unset: `IOC_MQTT_TLS_CA_FILE`",
    )

    def resolved_home(self) -> Path:
        return self.home.expanduser().resolve()
