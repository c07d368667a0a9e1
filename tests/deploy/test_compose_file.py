"""deploy/compose/compose.yaml and the Dockerfile, checked as files: no Docker engine runs here."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from ingest.broker.roles import DEFAULT_ACL_ACCESS, SERVICE_ROLES, Acl, AclType, ServiceRole

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "deploy/compose/compose.yaml"
DOCKERFILE = ROOT / "deploy/docker/Dockerfile"
RUNBOOK = ROOT / "docs/operations.md"

ONE_SHOT = {"migrate", "broker-init"}
STATEFUL = {"timescaledb": "/var/lib/postgresql/data", "mosquitto": "/mosquitto/data", "grafana": "/var/lib/grafana"}
# A tag with at least major.minor.patch; `latest`, `stable` or a bare major would move under us.
PINNED_TAG = re.compile(r"^[^:@]+:(\d+\.\d+\.\d+)[\w.-]*$")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$")
REQUIRED_VARIABLE = re.compile(r"\$\{[A-Z0-9_]+:\?[^}]*\}")
ANY_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(:?[-?+])?[^}]*\}")


def _services() -> dict[str, dict[str, Any]]:
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    services: dict[str, dict[str, Any]] = document["services"]
    return services


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment as a mapping, so that each value can be checked"
    return {str(k): str(v) for k, v in env.items()}


def test_the_expected_services_are_there() -> None:
    assert set(_services()) == {
        "timescaledb", "mosquitto", "broker-init", "redis", "migrate", "ingest-1", "ingest-2", "streams-1",
        "streams-2", "notify", "api-1", "api-2", "proxy", "grafana",
    }  # fmt: skip


def test_every_image_is_pinned_to_a_full_version() -> None:
    images = {name: s["image"] for name, s in _services().items()}
    for name, image in images.items():
        if image.startswith("${IOC_IMAGE"):
            assert image == "${IOC_IMAGE:-daknong-ioc:0.1.0}", name
            continue
        assert PINNED_TAG.match(image), f"{name}: {image} is not pinned"
    assert images["timescaledb"] == "timescale/timescaledb:2.17.2-pg15"  # community edition, PostgreSQL 15
    assert images["mosquitto"].startswith("eclipse-mosquitto:2.")
    assert images["redis"].startswith("redis:7.")


def test_every_long_running_service_has_a_health_check_and_one_shots_do_not_restart() -> None:
    for name, service in _services().items():
        if name in ONE_SHOT:
            assert service["restart"] == "no", name
            continue
        check = service.get("healthcheck")
        assert check is not None, name
        assert check.get("disable") is not True, name
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert service["restart"] == "unless-stopped", name


def test_no_secret_has_a_value_or_a_default_in_the_file() -> None:
    for name, service in _services().items():
        for key, value in _environment(service).items():
            if SECRET_NAME.search(key):
                assert REQUIRED_VARIABLE.fullmatch(value), f"{name}.{key} must be a required ${{VAR:?}}"
            for match in ANY_VARIABLE.finditer(value):
                if SECRET_NAME.search(match.group(1)):
                    assert match.group(2) == ":?", f"{name}.{key}: {match.group(1)} must be required"
            # A connection URL carries its password only through a required variable.
            for credentials in re.findall(r"://([^@/]*)@", value):
                password = credentials.split(":", 1)[1]
                assert REQUIRED_VARIABLE.fullmatch(password), f"{name}.{key} has a literal password"
        command = " ".join(map(str, service.get("command", [])))
        if "--requirepass" in command:
            assert REQUIRED_VARIABLE.search(command.split("--requirepass", 1)[1]), name


def test_every_stateful_service_keeps_its_data_in_a_named_volume() -> None:
    named = set(yaml.safe_load(COMPOSE_FILE.read_text())["volumes"])
    services = _services()
    for name, target in STATEFUL.items():
        mounts = {str(v).split(":")[1]: str(v).split(":")[0] for v in services[name]["volumes"]}
        assert mounts[target] in named, f"{name} keeps {target} outside a named volume"
    # Redis only fans out (TimescaleDB is the truth: docs/architecture.md#data): it must not pretend
    # to persist.
    command = services["redis"]["command"]
    assert command[command.index("--save") + 1] == ""
    assert "volumes" not in services["redis"]


def test_two_engines_run_the_same_way_one_active_by_the_lease() -> None:
    services = _services()
    assert services["streams-1"] == services["streams-2"]
    assert "http://127.0.0.1:18082/health" in " ".join(services["streams-1"]["healthcheck"]["test"])


def test_two_ingest_replicas_share_the_stream_each_with_its_own_broker_account() -> None:
    services = _services()
    replicas = [_environment(services[n]) for n in ("ingest-1", "ingest-2")]
    assert [r["IOC_MQTT_USERNAME"] for r in replicas] == ["ioc-ingest", "ioc-ingest-2"]
    assert {r["IOC_INGEST_SHARED_GROUP"] for r in replicas} == {"ingest"}
    assert replicas[0]["IOC_MQTT_PASSWORD"] != replicas[1]["IOC_MQTT_PASSWORD"]
    for replica in replicas:
        assert replica["IOC_MQTT_PORT"] == "8883"
        assert replica["IOC_MQTT_TLS_CA_FILE"] == "/etc/ioc/tls/ca.crt"
    assert [services[n]["command"] for n in ("ingest-1", "ingest-2", "streams-1", "streams-2")] == [
        ["ingest"],
        ["ingest"],
        ["streams"],
        ["streams"],
    ]


NGINX = ROOT / "deploy/compose/nginx"


def _directives(text: str) -> dict[str, list[str]]:
    """Each nginx directive's values (every occurrence), comments left out."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        statement = line.split("#", 1)[0].strip()
        if statement.endswith(";"):
            name, _, value = statement[:-1].partition(" ")
            found.setdefault(name, []).append(value.strip())
    return found


def test_the_proxy_fronts_both_api_replicas_over_https() -> None:
    main = _directives((NGINX / "nginx.conf").read_text())
    site = _directives((NGINX / "templates/ioc.conf.template").read_text())
    assert main["server"] == ["api-1:18080 max_fails=3 fail_timeout=30s", "api-2:18080 max_fails=3 fail_timeout=30s"]
    assert main["include"] == ["/etc/nginx/conf.d/ioc.conf"]
    assert site["listen"] == ["443 ssl"]
    assert site["server_name"] == ["${IOC_PUBLIC_HOST}"]
    assert (site["ssl_certificate"], site["ssl_certificate_key"]) == (["/certs/server.crt"], ["/certs/server.key"])
    assert site["proxy_pass"] == ["http://api"]
    assert site["proxy_set_header"][-2:] == ["Upgrade $http_upgrade", "Connection $connection_upgrade"]
    services = _services()
    assert services["api-1"]["environment"] == services["api-2"]["environment"]
    assert "ports" not in services["api-1"]
    assert "ports" not in services["api-2"]
    proxy = services["proxy"]
    assert "./nginx/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert "./nginx/templates:/etc/nginx/templates:ro" in proxy["volumes"]


def test_the_proxy_closes_connections_without_a_request_head_in_10_s_and_bounds_them_below_its_files() -> None:
    main = _directives((NGINX / "nginx.conf").read_text())
    assert main["client_header_timeout"] == ["10s"]  # also times the first byte and the TLS handshake
    connections, files = int(main["worker_connections"][0]), int(main["worker_rlimit_nofile"][0])
    assert connections < files, "each connection takes one descriptor; a worker must never run out of them"
    assert _services()["proxy"]["ulimits"]["nofile"]["hard"] >= files


def test_no_operations_listener_is_published_or_reachable_from_another_container() -> None:
    services = _services()
    for name in ("ingest-1", "ingest-2", "streams-1", "streams-2", "api-1", "api-2"):
        env = _environment(services[name])
        assert {env[k] for k in ("IOC_INGEST_HEALTH_HOST", "IOC_STREAMS_HEALTH_HOST", "IOC_API_OPS_HOST")} == {
            "127.0.0.1"
        }, name
        assert "ports" not in services[name], name
    for name in ("api-1", "api-2"):
        assert "http://127.0.0.1:18083/health" in " ".join(services[name]["healthcheck"]["test"]), name


def test_the_broker_listens_with_tls_and_dynamic_security() -> None:
    conf = (ROOT / "deploy/compose/mosquitto/mosquitto.conf").read_text().splitlines()
    assert "listener 8883" in conf
    assert "allow_anonymous false" in conf
    assert "plugin /usr/lib/mosquitto_dynamic_security.so" in conf
    assert {"cafile /mosquitto/certs/ca.crt", "certfile /mosquitto/certs/server.crt"} <= set(conf)
    assert not any(line.startswith("listener") and "8883" not in line for line in conf)  # no plain listener


def test_grafana_is_provisioned_from_the_repository() -> None:
    grafana = _services()["grafana"]
    assert "../../dashboards/grafana:/etc/ioc-grafana:ro" in grafana["volumes"]
    assert _environment(grafana)["GF_PATHS_PROVISIONING"] == "/etc/ioc-grafana"


def _published_ports() -> dict[str, list[str]]:
    published: dict[str, list[str]] = {}
    for name, service in _services().items():
        for port in service.get("ports", []):
            published.setdefault(name, []).append(str(port).split(":")[-2])
    return published


def test_the_runbook_documents_every_service_and_published_port() -> None:
    runbook = RUNBOOK.read_text()
    section = runbook.split("## Deployment", 1)[1].split("\n## ", 1)[0]
    for name in _services():
        assert f"`{name}`" in section, f"the runbook's Deployment section does not name {name}"
    assert _published_ports() == {"mosquitto": ["8883"], "proxy": ["443"], "grafana": ["3000"]}
    for name, ports in _published_ports().items():
        row = next(line for line in section.splitlines() if line.startswith(f"| `{name}`"))
        for port in ports:
            assert port in row, f"the runbook does not give {name}'s port {port}"


def _stages() -> list[list[str]]:
    stages: list[list[str]] = []
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("FROM "):
            stages.append([])
        if stages and line.strip() and not line.lstrip().startswith("#"):
            stages[-1].append(line)
    return stages


def test_the_image_is_multi_stage_pinned_and_runs_as_a_user() -> None:
    text = DOCKERFILE.read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.MULTILINE)
    assert base is not None
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base.group(1))
    stages = _stages()
    assert [s[0] for s in stages] == ["FROM ${PYTHON_IMAGE} AS build", "FROM ${PYTHON_IMAGE} AS runtime"]
    runtime = "\n".join(stages[-1])
    assert "USER 10001:10001" in runtime
    assert "COPY --from=build /opt/ioc /opt/ioc" in runtime
    for tool in ("gcc", "build-essential", "python3-dev", "libpq-dev", "make"):
        assert not re.search(rf"\b{tool}\b", runtime), f"{tool} in the final image"
    assert "-c constraints.txt" in "\n".join(stages[0])
    assert 'ENTRYPOINT ["ioc"]' in runtime


def test_the_image_copies_every_package_the_project_installs() -> None:
    """A package left out of the image fails only where the image is built: here it fails a test."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {name.rstrip("*") for name in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = set(re.findall(r"^COPY (\w+) \./\1$", DOCKERFILE.read_text(), re.MULTILINE))
    assert copied == packages
    assert packages >= {"runtime", "ingest", "streams", "api", "deploy", "tools", "cli", "dashboards"}


@pytest.mark.parametrize(
    "path", ["deploy/compose/mosquitto/entrypoint.sh", "deploy/compose/mosquitto/init-accounts.sh"]
)
def test_the_broker_scripts_take_passwords_from_the_environment_only(path: str) -> None:
    script = (ROOT / path).read_text()
    assert "set -eu" in script  # a missing variable stops the script instead of setting an empty password
    for match in re.finditer(r"(?:-P|createClient \S+ -p|init \S+ ioc-admin) (\S+)", script):
        assert match.group(1).startswith('"$'), f"{path}: literal password {match.group(1)}"


_ACL_LINE = re.compile(r"^ctrl addRoleACL (\S+) (\w+) '([^']+)' (allow|deny)(?: (\d+))?$")


def test_the_compose_broker_gets_the_roles_of_the_local_stack_and_no_shared_publisher_role() -> None:
    """One definition of the system's roles (ingest/broker/roles.py) for every stack: the compose broker's
    script must make the same, and no role may rely on %u or %c, which the plugin does not substitute."""
    script = (ROOT / "deploy/compose/mosquitto/init-accounts.sh").read_text()
    commands = [line.strip() for line in script.splitlines() if line.strip().startswith("ctrl ")]
    made: dict[str, set[Acl]] = {}
    for command in commands:
        if match := _ACL_LINE.match(command):
            role, acltype, topic, allow, priority = match.groups()
            made.setdefault(role, set()).add(Acl(AclType(acltype), topic, allow == "allow", int(priority or 0)))
    wanted = {ServiceRole.INGEST, ServiceRole.MONITOR, ServiceRole.SWEEPER}
    assert made == {r.value: set(SERVICE_ROLES[r].acls) for r in wanted}
    assert {f"ctrl createRole {r.value}" for r in wanted} <= set(commands)
    defaults = dict(re.findall(r"^ctrl setDefaultACLAccess (\w+) (allow|deny)$", "\n".join(commands), re.MULTILINE))
    assert {k: v == "allow" for k, v in defaults.items()} == DEFAULT_ACL_ACCESS
    assert "ctrl deleteRole ioc-publisher" in commands
    assert not [c for c in commands if c.startswith("ctrl createRole ioc-publisher")]
    accounts = dict(re.findall(r"^account (\S+) \"\$\w+\" (\S+)$", script, re.MULTILINE))
    assert accounts == {
        "ioc-ingest": "ioc-ingest", "ioc-ingest-2": "ioc-ingest", "ioc-monitor": "ioc-monitor",
        "ioc-sweeper": "ioc-sweeper",
    }  # fmt: skip
    for path in (ROOT / "deploy/compose/mosquitto").iterdir():
        code = [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]
        assert not re.search(r"%[uc]", "\n".join(code)), f"{path.name} relies on %u/%c"


def test_only_the_account_managers_hold_the_broker_admin_password_and_ingest_the_sweepers() -> None:
    services = _services()
    holding = {name for name, s in services.items() if "IOC_MQTT_ADMIN_PASSWORD" in _environment(s)}
    assert holding == {"mosquitto", "broker-init", "api-1", "api-2"}
    sweeping = {name for name, s in services.items() if "IOC_MQTT_SWEEPER_PASSWORD" in _environment(s)}
    assert sweeping == {"broker-init", "ingest-1", "ingest-2"}
    example = (ROOT / "deploy/compose/env.example").read_text().splitlines()
    assert {"IOC_MQTT_ADMIN_PASSWORD=", "IOC_MQTT_SWEEPER_PASSWORD="} <= set(example)
