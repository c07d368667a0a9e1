"""Settings per service: every `IOC_*` variable keeps its name, type, default and bounds, and each
service's class holds its own variables and the shared ones, never another service's."""

from __future__ import annotations

import json
import typing
from datetime import date
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

import api.http.main
import ingest.main
import notify.main
import streams.main
from api.http.settings import ApiSettings
from deploy.settings import Settings
from ingest.intake_settings import IntakeSettings
from ingest.settings import IngestSettings
from notify.settings import NotifySettings, WebhookTarget
from runtime.settings import SharedSettings
from streams.settings import StreamsSettings
from streams.silence_settings import SilenceSettings

# Every variable as it was before the split into one class per service (generated once from the
# flat `Settings.model_fields`): name, type, default, bounds. A rename, a new default or a moved
# bound fails here first; a new variable is added here on purpose.
VARIABLES: dict[str, tuple[str, object, str]] = {
    "IOC_HOME": ("Path", Path(".ioc"), ""),
    "IOC_PG_PORT": ("int", 15432, ""),
    "IOC_MQTT_PORT": ("int", 11883, ""),
    "IOC_REDIS_PORT": ("int", 16379, ""),
    "IOC_API_PORT": ("int", 18080, ""),
    "IOC_API_HOST": ("str", "127.0.0.1", ""),
    "IOC_API_ALLOWED_ORIGINS": ("list[str] | None", None, ""),
    "IOC_API_PUBLIC_URL": ("str | None", None, ""),
    "IOC_API_OPS_PORT": ("int", 18083, ""),
    "IOC_API_OPS_HOST": ("str", "127.0.0.1", ""),
    "IOC_API_SEND_BUFFER_BYTES": ("int", 131072, "ge=0"),
    "IOC_API_REQUEST_READ_TIMEOUT_SECONDS": ("float", 10.0, "gt=0 le=10"),
    "IOC_API_MAX_CONNECTIONS": ("int | None", None, "ge=16"),
    "IOC_API_KEY_RECHECK_SECONDS": ("float", 5.0, "gt=0 le=10"),
    "IOC_API_DEAD_LETTER_BURST": ("int", 20, "ge=1"),
    "IOC_API_BULK_REPLAY_MAX": ("int", 1000, "ge=1 le=100000"),
    "IOC_DATABASE_URL": ("pydantic.types.SecretStr | None", None, ""),
    "IOC_REDIS_URL": ("pydantic.types.SecretStr | None", None, ""),
    "IOC_MQTT_HOST": ("str", "127.0.0.1", ""),
    "IOC_MQTT_USERNAME": ("str", "ioc-ingest", ""),
    "IOC_MQTT_PASSWORD": ("pydantic.types.SecretStr | None", None, ""),
    "IOC_MQTT_KEEPALIVE_SECONDS": ("int", 30, "ge=2 le=600"),
    "IOC_MQTT_ADMIN_USERNAME": ("str", "ioc-admin", ""),
    "IOC_MQTT_ADMIN_PASSWORD": ("pydantic.types.SecretStr | None", None, ""),
    "IOC_MQTT_ADMIN_TIMEOUT_SECONDS": ("float", 5.0, "gt=0 le=60"),
    "IOC_MQTT_SWEEPER_USERNAME": ("str", "ioc-sweeper", ""),
    "IOC_MQTT_SWEEPER_PASSWORD": ("pydantic.types.SecretStr | None", None, ""),
    "IOC_MQTT_TLS_CA_FILE": ("pathlib.Path | None", None, ""),
    "IOC_MQTT_TLS_CERT_FILE": ("pathlib.Path | None", None, ""),
    "IOC_MQTT_TLS_KEY_FILE": ("pathlib.Path | None", None, ""),
    "IOC_MQTT_PUBLIC_TLS_URL": ("str | None", None, ""),
    "IOC_MQTT_PUBLIC_URL": ("str | None", None, ""),
    "IOC_MQTT_PUBLIC_CA_FILE": ("pathlib.Path | None", None, ""),
    "IOC_API_TLS_CERT_FILE": ("pathlib.Path | None", None, ""),
    "IOC_API_TLS_KEY_FILE": ("pathlib.Path | None", None, ""),
    "IOC_TLS": ("bool", False, ""),
    "IOC_INGEST_SHARED_GROUP": ("str", "", ""),
    "IOC_INGEST_STREAM_RETAIN_SECONDS": ("float", 60.0, "ge=1 le=3600"),
    "IOC_INGEST_BATCH_MAX_ROWS": ("int", 2000, "ge=1 le=100000"),
    "IOC_INGEST_FLUSH_INTERVAL_SECONDS": ("float", 0.02, "gt=0 le=10"),
    "IOC_INGEST_QUEUE_MAX_MESSAGES": ("int", 20000, "ge=100"),
    "IOC_INGEST_MAX_PAYLOAD_BYTES": ("int", 65536, "ge=1024"),
    "IOC_INGEST_MAX_FUTURE_SKEW_SECONDS": ("float", 300.0, "ge=0"),
    "IOC_INGEST_RETENTION_DAYS": ("int", 400, "ge=30"),
    "IOC_INGEST_EARLIEST_EVENT_DATE": ("date", date(2020, 1, 1), "ge=1970-01-01"),
    "IOC_INGEST_RESEND_HORIZON_DAYS": ("int", 7, "ge=7 le=90"),
    "IOC_INGEST_RESEND_CHECK": ("bool", True, ""),
    "IOC_INGEST_RETENTION_CHECK_SECONDS": ("float", 3600.0, "gt=0"),
    "IOC_INGEST_REGISTRY_REFRESH_SECONDS": ("float", 5.0, "gt=0"),
    "IOC_INGEST_RETAINED_SWEEP_SECONDS": ("float", 30.0, "ge=1 le=60"),
    "IOC_INGEST_SPOOL_DIR": ("pathlib.Path | None", None, ""),
    "IOC_INGEST_SPOOL_MAX_BYTES": ("int", 2147483648, "ge=0"),
    "IOC_INGEST_SPOOL_AFTER_SECONDS": ("float", 1.0, "ge=0 le=60"),
    "IOC_INGEST_FEEDBACK_RATE": ("float", 20.0, "ge=0 le=10000"),
    "IOC_INGEST_FEEDBACK_QUEUE_MAX": ("int", 1000, "ge=1 le=1000000"),
    "IOC_INGEST_HEALTH_PORT": ("int", 18081, ""),
    "IOC_INGEST_HEALTH_HOST": ("str", "127.0.0.1", ""),
    "IOC_COMPRESS_AFTER_DAYS": ("float", 7, "ge=0"),
    "IOC_STREAMS_CONSUMER": ("str", "engine", ""),
    "IOC_STREAMS_COALESCE_SECONDS": ("float", 0.1, "gt=0 le=10"),
    "IOC_STREAMS_LONG_WINDOW_COALESCE_SECONDS": ("float", 1.0, "gt=0 le=60"),
    "IOC_STREAMS_READ_COUNT": ("int", 200, "ge=1 le=10000"),
    "IOC_STREAMS_REPLAY_SECONDS": ("float", 60.0, "gt=0 le=3600"),
    "IOC_STREAMS_TARGETS_FILE": ("pathlib.Path | None", None, ""),
    "IOC_STREAMS_ALERT_RULES_FILE": ("pathlib.Path | None", None, ""),
    "IOC_STREAMS_HEALTH_PORT": ("int", 18082, ""),
    "IOC_STREAMS_HEALTH_HOST": ("str", "127.0.0.1", ""),
    "IOC_STREAMS_HISTORY_SECONDS": ("float", 10.0, "gt=0 le=600"),
    "IOC_STREAMS_SNAPSHOT_RETENTION_DAYS": ("float", 90, "gt=0"),
    "IOC_STREAMS_FULL_SNAPSHOT_MINUTES": ("int", 60, "ge=1 le=60"),
    "IOC_STREAMS_DOSSIER_HORIZON_DAYS": ("float", 90, "gt=0 le=400"),
    "IOC_STREAMS_SILENT_AFTER_SECONDS": ("float", 900, "gt=0"),
    "IOC_ALERTMANAGER_PORT": ("int", 19093, ""),
    "IOC_NOTIFY_ALERTMANAGER_URL": ("str | None", None, ""),
    "IOC_NOTIFY_ALERTMANAGER_LABELS": ("dict[str, str]", {}, ""),
    "IOC_NOTIFY_ALERTMANAGER_REPOST_SECONDS": ("float", 60.0, "gt=0 le=600"),
    "IOC_NOTIFY_WEBHOOKS": ("list[notify.settings.WebhookTarget]", [], ""),
    "IOC_NOTIFY_CONSOLE_URL": ("str | None", None, ""),
    "IOC_NOTIFY_POLL_SECONDS": ("float", 1.0, "gt=0 le=60"),
    "IOC_NOTIFY_BATCH_SIZE": ("int", 100, "ge=1 le=1000"),
    "IOC_NOTIFY_REQUEST_TIMEOUT_SECONDS": ("float", 5.0, "gt=0 le=60"),
    "IOC_NOTIFY_RETRY_INITIAL_SECONDS": ("float", 1.0, "gt=0 le=3600"),
    "IOC_NOTIFY_RETRY_MAX_DELAY_SECONDS": ("float", 300.0, "gt=0 le=86400"),
    "IOC_NOTIFY_RETRY_FOR_SECONDS": ("float", 86400.0, "gt=0 le=2592000"),
    "IOC_NOTIFY_LOOKBACK_SECONDS": ("float", 3600.0, "gt=0 le=2592000"),
    "IOC_NOTIFY_HEALTH_PORT": ("int", 18084, ""),
    "IOC_NOTIFY_HEALTH_HOST": ("str", "127.0.0.1", ""),
    "IOC_STREAMS_ONBOARDING_GRACE_SECONDS": ("float", 86_400, "gt=0"),  # issue 22: publisher states
    "IOC_STREAMS_INCIDENT_WINDOW_SECONDS": ("float", 120, "ge=0 le=86400"),
    "IOC_STREAMS_ALERT_FLAP_SECONDS": ("float", 600, "ge=0 le=86400"),
    "IOC_STREAMS_INCIDENT_ESCALATE_SECONDS": ("float", 900, "ge=0"),
    "IOC_STREAMS_LEASE_TTL_SECONDS": ("float", 2.0, "ge=0.5 le=30"),
    "IOC_STREAMS_LEASE_RENEW_SECONDS": ("float", 0.5, "gt=0 le=15"),
    "IOC_STREAMS_LOCAL_REPLICAS": ("int", 2, "ge=1 le=4"),
}

INTAKE_RULES = {
    "ingest_max_payload_bytes",
    "ingest_max_future_skew_seconds",
    "ingest_retention_days",
    "ingest_earliest_event_date",
}
SILENCE_RULES = {"streams_silent_after_seconds", "streams_onboarding_grace_seconds"}
SERVICE_CLASSES: tuple[type[SharedSettings], ...] = (IngestSettings, StreamsSettings, ApiSettings)


def described(info: FieldInfo) -> tuple[str, object, str]:
    """A field as the environment sees it: its type, its default and its bounds."""
    annotation = info.annotation
    kind = annotation.__name__ if isinstance(annotation, type) else str(annotation)
    bounds = [
        f"{name}={limit}"
        for constraint in info.metadata
        for name in ("ge", "gt", "le", "lt")
        if (limit := getattr(constraint, name, None)) is not None
    ]
    return kind, info.default, " ".join(bounds)


def env_names(settings: type[BaseSettings]) -> set[str]:
    return {"IOC_" + name.upper() for name in settings.model_fields}


def own(settings: type[SharedSettings]) -> set[str]:
    return set(settings.model_fields) - set(SharedSettings.model_fields)


def test_the_combined_settings_read_exactly_the_variables_documented_before_the_split() -> None:
    assert env_names(Settings) == set(VARIABLES)


def test_every_variable_keeps_its_type_default_and_bounds() -> None:
    now = {"IOC_" + name.upper(): described(info) for name, info in Settings.model_fields.items()}
    assert now == VARIABLES


def test_each_service_class_holds_its_own_variables_and_the_shared_ones_only() -> None:
    assert all(name.startswith("ingest_") or name.startswith("mqtt_") for name in own(IngestSettings))
    assert all(name.startswith("streams_") for name in own(StreamsSettings))
    # The API replays dead letters by ingest's intake rules, and shows silent publishers by the engine's
    # silence rules; of the other services' variables it reads only those.
    assert {name for name in own(ApiSettings) if not name.startswith("api_")} == INTAKE_RULES | SILENCE_RULES
    assert own(IntakeSettings) == INTAKE_RULES
    assert own(SilenceSettings) == SILENCE_RULES
    assert not any(name.startswith(("ingest_", "streams_", "api_")) for name in SharedSettings.model_fields)


def test_an_ingest_only_variable_is_not_on_the_engines_nor_the_apis_class() -> None:
    for ingest_only in ("ingest_batch_max_rows", "mqtt_password", "mqtt_sweeper_password", "ingest_spool_dir"):
        assert ingest_only in IngestSettings.model_fields
        assert ingest_only not in StreamsSettings.model_fields
        assert ingest_only not in ApiSettings.model_fields
    assert "streams_read_count" not in IngestSettings.model_fields
    assert "streams_read_count" not in ApiSettings.model_fields
    assert "api_port" not in IngestSettings.model_fields
    assert "api_port" not in StreamsSettings.model_fields
    for local_stack_only in ("pg_port", "redis_port", "alertmanager_port", "tls", "compress_after_days"):
        assert not any(local_stack_only in cls.model_fields for cls in SERVICE_CLASSES)


def test_the_combined_class_is_every_service_class_at_once() -> None:
    assert all(issubclass(Settings, cls) for cls in SERVICE_CLASSES)
    assert not any(issubclass(a, b) for a in SERVICE_CLASSES for b in SERVICE_CLASSES if a is not b)
    everything = set().union(*(cls.model_fields for cls in SERVICE_CLASSES))
    assert everything <= set(Settings.model_fields)


@pytest.mark.parametrize(
    ("composition_root", "expected"),
    [
        (ingest.main.run, IngestSettings),
        (streams.main.run, StreamsSettings),
        (api.http.main.run, ApiSettings),
        (notify.main.run, NotifySettings),
    ],
)
def test_each_services_composition_root_takes_its_own_class(composition_root: object, expected: type) -> None:
    assert typing.get_type_hints(composition_root)["settings"] is expected


@pytest.mark.parametrize("settings", [SharedSettings, *SERVICE_CLASSES, Settings])
def test_every_class_reads_ioc_variables_is_frozen_and_ignores_unknown_ones(
    settings: type[SharedSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert settings.model_config["env_prefix"] == "IOC_"
    monkeypatch.setenv("IOC_NO_SUCH_SETTING", "1")
    monkeypatch.setenv("IOC_MQTT_HOST", "broker.example")
    built = settings()
    assert built.mqtt_host == "broker.example"
    assert not hasattr(built, "no_such_setting")
    with pytest.raises(ValidationError, match="frozen"):
        built.mqtt_host = "elsewhere"  # type: ignore[misc]


def test_every_variable_set_in_the_environment_reaches_each_class_that_holds_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    values = {name: _other_value(name, info) for name, info in Settings.model_fields.items()}
    for name, (text, _) in values.items():
        monkeypatch.setenv("IOC_" + name.upper(), text)
    for settings in (Settings, *SERVICE_CLASSES, IntakeSettings, SilenceSettings, SharedSettings):
        built = settings()
        for name in settings.model_fields:
            read = getattr(built, name)
            read = read.get_secret_value() if isinstance(read, SecretStr) else read
            assert read == values[name][1], name


def test_a_value_out_of_bounds_is_refused_by_every_class_that_holds_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_INGEST_RETENTION_DAYS", "29")  # less than a month: too_old would refuse everything
    for settings in (IntakeSettings, IngestSettings, ApiSettings, Settings):
        with pytest.raises(ValidationError, match="ingest_retention_days"):
            settings()
    assert not hasattr(StreamsSettings(), "ingest_retention_days")  # not its variable: ignored


def _other_value(name: str, info: FieldInfo) -> tuple[str, object]:
    """A valid value other than the default, as the environment spells it and as the field reads it."""
    kind, default, _ = described(info)
    if name == "api_allowed_origins":
        return '["https://wall.example"]', ["https://wall.example"]
    if name in ("notify_alertmanager_url", "notify_console_url"):
        return f"https://{name.replace('_', '-')}.example", f"https://{name.replace('_', '-')}.example"
    if name == "notify_alertmanager_labels":
        return '{"env": "prod"}', {"env": "prod"}
    if name == "notify_webhooks":
        hook = {"name": "bot", "url": "https://bot.example/hook", "secret": "0123456789abcdef"}
        return json.dumps([hook]), [WebhookTarget.model_validate(hook)]
    if name in ("mqtt_public_tls_url", "mqtt_public_url"):
        scheme = "mqtts" if name == "mqtt_public_tls_url" else "mqtt"
        return f"{scheme}://broker.example:8883", f"{scheme}://broker.example:8883"
    if kind == "bool":
        return str(not default).lower(), not default
    if kind == "date":
        return "2021-02-03", date(2021, 2, 3)
    if "Path" in kind:
        return f"/srv/{name}", Path(f"/srv/{name}")
    if isinstance(default, int | float) or kind == "int | None":
        number = _inside_bounds(info, default if isinstance(default, int | float) else None)
        return str(number), number
    return f"{name}-set", f"{name}-set"


def _inside_bounds(info: FieldInfo, default: float | None) -> float:
    upper = next((c.le for c in info.metadata if getattr(c, "le", None) is not None), None)
    if default is None:
        return 64
    if upper is not None and default >= upper:
        return upper / 2
    return default + 1 if isinstance(default, int) else default * 1.5


def test_a_lease_renewed_less_than_twice_within_its_time_to_live_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_STREAMS_LEASE_TTL_SECONDS", "2")
    monkeypatch.setenv("IOC_STREAMS_LEASE_RENEW_SECONDS", "1.5")
    for settings in (StreamsSettings, Settings):
        with pytest.raises(ValueError, match="at most half of IOC_STREAMS_LEASE_TTL_SECONDS"):
            settings()
    monkeypatch.setenv("IOC_STREAMS_LEASE_RENEW_SECONDS", "1")
    assert StreamsSettings().streams_lease_renew_seconds == 1.0
