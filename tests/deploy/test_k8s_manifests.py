"""deploy/k8s: every manifest parsed and held to the deployment's invariants (no cluster here)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.settings import Settings

K8S = Path(__file__).resolve().parents[2] / "deploy/k8s"
BASE = K8S / "base"
OVERLAYS = ("pilot", "national")
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job")

Manifest = dict[str, Any]


def _documents(path: Path) -> list[Manifest]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def _kustomization(directory: Path) -> Manifest:
    document = yaml.safe_load((directory / "kustomization.yaml").read_text())
    assert isinstance(document, dict)
    return document


def _base_manifests() -> list[Manifest]:
    return [m for r in _kustomization(BASE)["resources"] for m in _documents(BASE / r)]


def _by_kind(kind: str) -> dict[str, Manifest]:
    return {m["metadata"]["name"]: m for m in _base_manifests() if m["kind"] == kind}


def _workloads() -> Iterator[tuple[str, Manifest]]:
    for m in _base_manifests():
        if m["kind"] in WORKLOAD_KINDS:
            yield m["metadata"]["name"], m


def _default(setting: str) -> object:
    """The code's default, whatever IOC_* variables the test run has (the ConfigMap sets no ports)."""
    return Settings.model_fields[setting].default


def _pod(workload: Manifest) -> Manifest:
    pod: Manifest = workload["spec"]["template"]["spec"]
    return pod


def test_every_manifest_parses_and_every_resource_is_listed() -> None:
    files = {p.name for p in BASE.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(_kustomization(BASE)["resources"]) == files
    for path in K8S.rglob("*.yaml"):
        for document in _documents(path):
            assert "kind" in document, path
    assert all(m["kind"] != "Secret" for m in _base_manifests()), "secret values are never committed"


def test_the_image_is_pinned_to_a_version() -> None:
    (image,) = _kustomization(BASE)["images"]
    assert image["name"] == "daknong-ioc"
    assert re.fullmatch(r"\d+\.\d+\.\d+", image["newTag"])
    for name, workload in _workloads():
        assert [c["image"] for c in _pod(workload)["containers"]] == ["daknong-ioc"], name


@pytest.mark.parametrize("name", ["ioc-migrate", "ioc-ingest", "ioc-streams", "ioc-api"])
def test_every_workload_runs_as_a_user_within_requests_and_limits(name: str) -> None:
    pod = _pod(dict(_workloads())[name])
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["automountServiceAccountToken"] is False
    for container in pod["containers"]:
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["readOnlyRootFilesystem"] is True
        assert security["capabilities"]["drop"] == ["ALL"]
        for bound in ("requests", "limits"):
            assert set(container["resources"][bound]) == {"cpu", "memory"}, f"{name} {bound}"


# Each service's operations listener: /health and /metrics, apart from anything public.
OPS_PORTS = {
    "ioc-ingest": _default("ingest_health_port"),
    "ioc-streams": _default("streams_health_port"),
    "ioc-api": _default("api_ops_port"),
    "ioc-notify": _default("notify_health_port"),
}


def test_probes_and_scrapes_ask_each_service_s_operations_listener() -> None:
    config = _by_kind("ConfigMap")["ioc-config"]["data"]
    hosts = {
        config[k]
        for k in ("IOC_INGEST_HEALTH_HOST", "IOC_STREAMS_HEALTH_HOST", "IOC_API_OPS_HOST", "IOC_NOTIFY_HEALTH_HOST")
    }
    assert hosts == {"0.0.0.0"}  # noqa: S104 -- probes come from the kubelet, outside the pod's loopback
    assert config["IOC_API_OPS_PORT"] == str(OPS_PORTS["ioc-api"])
    for name, port in OPS_PORTS.items():
        workload = dict(_workloads())[name]
        (container,) = _pod(workload)["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        readiness = container["readinessProbe"]["httpGet"]
        assert readiness["path"] == "/health", name
        assert ports[readiness["port"]] == port, name
        assert ports[container["livenessProbe"]["tcpSocket"]["port"]] == port, name
        scrape = workload["spec"]["template"]["metadata"]["annotations"]
        assert scrape == {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": str(port),
            "prometheus.io/path": "/metrics",
        }


def test_the_api_s_operations_port_is_in_no_service_and_the_ingress_routes_only_the_public_one() -> None:
    (container,) = _pod(dict(_workloads())["ioc-api"])["containers"]
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {
        "http": _default("api_port"), "ops": _default("api_ops_port"),
    }  # fmt: skip
    for service in _by_kind("Service").values():
        assert all(
            p.get("targetPort", p["port"]) not in ("ops", OPS_PORTS["ioc-api"]) for p in service["spec"]["ports"]
        )
    assert _by_kind("Service")["ioc-api"]["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http"}]
    for rule in _by_kind("Ingress")["ioc-api"]["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            assert path["backend"]["service"] == {"name": "ioc-api", "port": {"name": "http"}}


def test_two_engines_active_and_standby_rolled_without_recreate() -> None:
    streams = _by_kind("Deployment")["ioc-streams"]
    assert streams["spec"]["replicas"] == 2
    assert streams["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
    }
    container = _pod(streams)["containers"][0]
    # Ready while active or a warm standby (status ok); the answer's `role` tells which.
    assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": "health"}
    spread = _pod(streams)["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
    assert spread["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"


def test_each_ingest_replica_logs_in_as_its_own_pod() -> None:
    ingest = _by_kind("StatefulSet")["ioc-ingest"]
    env = {e["name"]: e for e in _pod(ingest)["containers"][0]["env"]}
    assert env["IOC_MQTT_USERNAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert ingest["spec"]["replicas"] == 2
    assert _pod(ingest)["terminationGracePeriodSeconds"] >= 30  # time to drain on SIGTERM


def test_every_long_running_workload_has_a_disruption_budget() -> None:
    budgets = {
        tuple(sorted(b["spec"]["selector"]["matchLabels"].items())) for b in _by_kind("PodDisruptionBudget").values()
    }
    for name, workload in _workloads():
        if workload["kind"] == "Job":
            continue
        labels = tuple(sorted(workload["spec"]["selector"]["matchLabels"].items()))
        assert labels in budgets, name


def test_api_and_ingest_scale_and_the_engine_does_not() -> None:
    targets = {
        (h["spec"]["scaleTargetRef"]["kind"], h["spec"]["scaleTargetRef"]["name"]): h
        for h in _by_kind("HorizontalPodAutoscaler").values()
    }
    assert set(targets) == {("Deployment", "ioc-api"), ("StatefulSet", "ioc-ingest")}
    ingest = targets[("StatefulSet", "ioc-ingest")]
    assert ingest["spec"]["behavior"]["scaleDown"]["selectPolicy"] == "Disabled"
    for hpa in targets.values():
        assert hpa["spec"]["minReplicas"] >= 2


def test_network_policies_deny_by_default_open_the_api_to_the_ingress_and_ops_to_monitoring_only() -> None:
    policies = _by_kind("NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    with_ingress = {name: p["spec"] for name, p in policies.items() if p["spec"].get("ingress")}
    assert set(with_ingress) == {"api-from-ingress-controller", "ops-from-monitoring"}
    public = with_ingress["api-from-ingress-controller"]
    assert public["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "ioc-api"}}
    (rule,) = public["ingress"]
    assert rule["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}]
    assert rule["ports"] == [{"protocol": "TCP", "port": _default("api_port")}]
    (ops,) = with_ingress["ops-from-monitoring"]["ingress"]
    assert ops["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    assert sorted(p["port"] for p in ops["ports"]) == sorted(OPS_PORTS.values())
    ingress = _by_kind("Ingress")["ioc-api"]
    assert ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == "ioc-api"
    assert ingress["spec"]["tls"][0]["secretName"] == "ioc-api-tls"


def _secret_keys_used() -> set[str]:
    keys: set[str] = set()
    for _, workload in _workloads():
        for container in _pod(workload)["containers"]:
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref is not None:
                    assert ref["name"] == "ioc-secrets"
                    keys.add(ref["key"])
    return keys


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlays_take_secrets_from_an_uncommitted_file_and_name_their_engines(overlay: str) -> None:
    directory = K8S / "overlays" / overlay
    kustomization = _kustomization(directory)
    assert "../../base" in kustomization["resources"]
    (generator,) = kustomization["secretGenerator"]
    assert generator == {"name": "ioc-secrets", "envs": ["secrets.env"]}
    assert not (directory / "secrets.env").exists()
    assert "deploy/k8s/overlays/*/secrets.env" in (K8S.parents[1] / ".gitignore").read_text().splitlines()
    example = (directory / "secrets.env.example").read_text().splitlines()
    placeholders = dict(line.split("=", 1) for line in example if line and not line.startswith("#"))
    assert placeholders == dict.fromkeys(_secret_keys_used(), "")
    config = next(g for g in kustomization["configMapGenerator"] if g["name"] == "ioc-config")
    settings = dict(literal.split("=", 1) for literal in config["literals"])
    assert settings["IOC_MQTT_HOST"]
    broker_named_for_scale = "emqx" in settings["IOC_MQTT_HOST"]
    assert broker_named_for_scale is (overlay == "national")


def test_the_ingress_closes_connections_without_a_request_head_in_10_s_and_bounds_them() -> None:
    annotations = _by_kind("Ingress")["ioc-api"]["metadata"]["annotations"]
    assert int(annotations["nginx.ingress.kubernetes.io/limit-connections"]) > 0  # per client address
    controller = K8S / "ingress-nginx"
    assert _kustomization(controller)["resources"] == ["controller-config.yaml"]
    (config,) = _documents(controller / "controller-config.yaml")
    assert (config["kind"], config["metadata"]) == (
        "ConfigMap", {"name": "ingress-nginx-controller", "namespace": "ingress-nginx"},
    )  # fmt: skip
    data = config["data"]
    assert data["client-header-timeout"] == data["client-body-timeout"] == "10"
    assert int(data["max-worker-connections"]) < int(data["max-worker-open-files"])


def test_only_the_api_holds_the_broker_admin_password_and_ingest_the_sweepers() -> None:
    """The API manages publishers' accounts over the broker's control topic (so it reaches the broker
    over TLS too); every ingest replica runs the retained sweeper."""
    holders: dict[str, set[str]] = {}
    for name, workload in _workloads():
        for container in _pod(workload)["containers"]:
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef", {})
                holders.setdefault(ref.get("key", ""), set()).add(f"{name}:{env['name']}")
    assert holders["mqtt-admin-password"] == {"ioc-api:IOC_MQTT_ADMIN_PASSWORD"}
    assert holders["mqtt-sweeper-password"] == {"ioc-ingest:IOC_MQTT_SWEEPER_PASSWORD"}
    config = _by_kind("ConfigMap")["ioc-config"]["data"]
    (api,) = _pod(_by_kind("Deployment")["ioc-api"])["containers"]
    mounts = {m["name"]: m["mountPath"] for m in api["volumeMounts"]}
    assert str(Path(config["IOC_MQTT_TLS_CA_FILE"]).parent) == mounts["broker-ca"]
