"""Security: the locked dependencies (constraints.txt) against the known vulnerabilities, with pip-audit.

pip-audit asks a vulnerability service over the network (PyPI's JSON API per release, or OSV): a
run that cannot reach it audited nothing, so it fails here, naming the cause, rather than pass or
skip. Full profile only: `make test` must not depend on a service outside the machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.verify.report import ScenarioResult

CONSTRAINTS = Path(__file__).resolve().parents[2] / "constraints.txt"


def audit(service: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip_audit", "--requirement", str(CONSTRAINTS), "--no-deps", "--disable-pip",
         "--strict", "--progress-spinner", "off", "--format", "json", "--vulnerability-service", service],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip


@pytest.mark.long
def test_locked_dependencies_have_no_known_vulnerabilities(scenario: ScenarioResult) -> None:
    pins = [line for line in CONSTRAINTS.read_text().splitlines() if line and not line.startswith("#")]
    scenario.scenario = "Security: pip-audit of the locked dependencies (constraints.txt)"
    scenario.load = f"{len(pins)} pinned packages"
    outcomes = {service: audit(service) for service in ("pypi", "osv")}
    done = next((o for o in outcomes.values() if o.returncode == 0 or '"vulns"' in o.stdout), None)
    if done is None:
        reasons = "; ".join(f"{s}: {(o.stderr.strip().splitlines() or ['?'])[-1][:160]}" for s, o in outcomes.items())
        pytest.fail(f"no vulnerability service could audit the pins (network or service unavailable): {reasons}")
    report = json.loads(done.stdout)
    vulnerable = {
        f"{d['name']} {d['version']}": [v["id"] for v in d["vulns"]] for d in report["dependencies"] if d["vulns"]
    }
    scenario.measure("audited", len(report["dependencies"]))
    scenario.measure("known vulnerabilities", sum(len(v) for v in vulnerable.values()))
    assert vulnerable == {}, vulnerable
