"""`ioc stack up | down | status | env`: the local stack of real services that development and tests use."""

from __future__ import annotations

import shlex
from dataclasses import asdict

import psycopg

from deploy.settings import Settings
from deploy.stack.alertmanager import AlertmanagerService
from deploy.stack.mosquitto import INGEST_USERNAMES, MosquittoService
from deploy.stack.paths import StackPaths, prepare_paths
from deploy.stack.postgres import PostgresService
from deploy.stack.redis import RedisService
from deploy.stack.secrets import StackSecrets, load_or_create_secrets
from deploy.stack.service import LocalService, ServiceHealth
from runtime.tls import CertificateFiles, ensure_local_certificates


class LocalStack:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.paths: StackPaths = prepare_paths(settings.resolved_home())
        self.secrets: StackSecrets = load_or_create_secrets(self.paths.secrets_file)
        self.postgres = PostgresService(self.paths.postgres, settings.pg_port, self.secrets.postgres_password)
        # TLS mode: a CA of the stack's own and a certificate for localhost and 127.0.0.1.
        self.certificates: CertificateFiles | None = (
            ensure_local_certificates(self.paths.home / "tls") if settings.tls else None
        )
        self.mosquitto = MosquittoService(
            self.paths.mosquitto,
            settings.mqtt_port,
            self.secrets.mqtt_service_password,
            self.secrets.mqtt_admin_password,
            tls=self.certificates,
            publisher_sources=self._publisher_sources,
        )
        self.redis = RedisService(self.paths.redis, settings.redis_port, self.secrets.redis_password)
        self.alertmanager = AlertmanagerService(self.paths.alertmanager, settings.alertmanager_port)

    @property
    def services(self) -> tuple[LocalService, ...]:
        return (self.postgres, self.mosquitto, self.redis, self.alertmanager)

    def up(self) -> None:
        """Start every service that is not running and wait until all answer. Safe to repeat."""
        for service in self.services:
            service.start()

    def _publisher_sources(self) -> dict[str, str]:
        """Each registered publisher's source, from the stack's own database (PostgreSQL starts first):
        what converting an earlier release's broker accounts needs. Empty when there is none yet."""
        try:
            with psycopg.connect(self.postgres.app_dsn(), connect_timeout=5) as conn:
                return {str(i): str(s) for i, s in conn.execute("SELECT id, source FROM publishers")}
        except psycopg.Error:
            return {}

    def down(self) -> None:
        for service in reversed(self.services):
            service.stop()

    def status(self) -> list[ServiceHealth]:
        return [service.health() for service in self.services]

    def environment(self) -> dict[str, str]:
        """The `IOC_*` variables a client or test needs to reach this stack."""
        env = {
            "IOC_HOME": str(self.paths.home),
            "IOC_DATABASE_URL": self.postgres.app_dsn(),
            "IOC_REDIS_URL": self.redis.url(),
            "IOC_MQTT_HOST": "127.0.0.1",
            "IOC_MQTT_PORT": str(self.settings.mqtt_port),
            "IOC_MQTT_USERNAME": INGEST_USERNAMES[0],
            "IOC_MQTT_PASSWORD": self.secrets.mqtt_service_password,
            "IOC_MQTT_ADMIN_PASSWORD": self.secrets.mqtt_admin_password,
            "IOC_MQTT_SWEEPER_PASSWORD": self.secrets.mqtt_service_password,
            "IOC_API_URL": f"http://127.0.0.1:{self.settings.api_port}",
            "IOC_NOTIFY_ALERTMANAGER_URL": self.alertmanager.url(),
        }
        if self.certificates is not None:
            port = self.settings.api_port
            env |= {
                "IOC_TLS": "true",
                "IOC_MQTT_TLS_CA_FILE": str(self.certificates.ca_cert),
                "IOC_API_TLS_CERT_FILE": str(self.certificates.cert),
                "IOC_API_TLS_KEY_FILE": str(self.certificates.key),
                "IOC_API_URL": f"https://127.0.0.1:{port}",
            }
        return env

    def connected_settings(self) -> Settings:
        """`settings` with every connection left unset filled in from this stack."""
        env = self.environment()
        updates: dict[str, object] = {}
        if self.settings.database_url is None:
            updates["database_url"] = env["IOC_DATABASE_URL"]
        if self.settings.redis_url is None:
            updates["redis_url"] = env["IOC_REDIS_URL"]
        if self.settings.notify_alertmanager_url is None:
            updates["notify_alertmanager_url"] = env["IOC_NOTIFY_ALERTMANAGER_URL"]
        for setting in ("mqtt_password", "mqtt_admin_password", "mqtt_sweeper_password"):
            if getattr(self.settings, setting) is None:
                updates[setting] = env[f"IOC_{setting.upper()}"]
        if self.certificates is not None and self.settings.mqtt_tls_ca_file is None:
            updates["mqtt_tls_ca_file"] = env["IOC_MQTT_TLS_CA_FILE"]
        return Settings.model_validate({**self.settings.model_dump(), **updates})


def render_env(environment: dict[str, str]) -> str:
    return "".join(f"export {key}={shlex.quote(value)}\n" for key, value in environment.items())


def health_as_json(health: list[ServiceHealth]) -> dict[str, object]:
    return {
        "healthy": all(h.state == "ok" for h in health),
        "services": {h.name: {k: v for k, v in asdict(h).items() if k != "name"} for h in health},
    }
