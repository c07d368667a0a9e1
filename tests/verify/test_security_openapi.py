"""Security: schemathesis with every check against a real server, more examples than `make test`
gives the contract test (`tests/api/test_openapi_contract.py`): never a 5xx, every answer as the
document says, invalid data refused, valid data accepted."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import psycopg
import pytest

from api.http.auth.keys import ApiKeyRepository, Scope
from tests.verify.report import ScenarioResult

pytestmark = pytest.mark.integration

# Which operations may answer 400 to schema-valid requests, and why.
CONFIG = Path(__file__).with_name("schemathesis.toml")


def run_schemathesis(client: httpx.Client, key: str, examples: int, workdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG),
         "run", f"{client.base_url}/openapi.json", "--header", f"Authorization: Bearer {key}",
         "--max-examples", str(examples), "--seed", "1",
         "--workers", "1", "--exclude-path", "/api/v1/health", "--exclude-path", "/api/v1/apikeys/{name}/revoke",
         "--no-color"],
        capture_output=True, text=True, timeout=3000, cwd=workdir,  # its example database goes there
    )  # fmt: skip


@pytest.mark.long
def test_every_operation_under_every_schemathesis_check(
    client: httpx.Client, db: psycopg.Connection[tuple[object, ...]], scenario: ScenarioResult, tmp_path: Path
) -> None:
    examples = 200
    # Health answers 503 by design without an engine; revoking keys would revoke the one it runs with.
    scenario.scenario = "Security: schemathesis, every check, every operation but health and key revocation"
    scenario.load = f"up to {examples} generated requests per operation, admin key"
    done = run_schemathesis(client, ApiKeyRepository(db).create("schemathesis", Scope.ADMIN), examples, tmp_path)
    summary = done.stdout[done.stdout.rfind("SUMMARY") :]
    failures = "; ".join(re.findall(r"❌ (ST\d+ [^\n]+)", summary))
    assert done.returncode == 0, f"schemathesis found {failures or 'a failure'}\n{summary}"
    cases = re.search(r"(\d[\d,]*) generated", summary)
    scenario.measure("test cases", cases.group(1) if cases else "?")
    scenario.measure("failures", 0)
