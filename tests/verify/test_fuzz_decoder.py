"""Bad input, fuzzed: the decoder under atheris (coverage-guided libFuzzer) never raises anything but
the contract's refusal. A million inputs under `make verify`; a short run of the same harness in
`make test`, so that the harness cannot rot unnoticed."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.verify.report import ScenarioResult


def fuzz(runs: int, corpus: Path) -> tuple[float, str]:
    subprocess.run([sys.executable, "-m", "tests.verify.fuzz_decoder", "--seeds", str(corpus)], check=True)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "tests.verify.fuzz_decoder", f"-atheris_runs={runs}", "-max_len=4096", "-seed=1",
         "-print_final_stats=1", str(corpus)],
        capture_output=True, text=True, timeout=3000,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(rf"^Done {runs} in ", done.stderr, re.MULTILINE), done.stderr[-1000:]
    return elapsed, done.stderr


def _record(scenario: ScenarioResult, runs: int, elapsed: float, output: str) -> None:
    scenario.load = f"{runs:,} inputs (atheris {_atheris_version()}, libFuzzer)"
    scenario.measure("crashes", 0)
    scenario.measure("inputs/s", runs / elapsed)
    coverage = re.findall(r"cov: (\d+) ft: \d+ corp: (\d+)", output)
    if coverage:
        cov, corpus = coverage[-1]
        scenario.measure("edges covered", int(cov))
        scenario.measure("corpus", int(corpus))


def _atheris_version() -> str:
    from importlib.metadata import version

    return version("atheris")


@pytest.mark.long
def test_decoder_survives_a_million_fuzzed_inputs(scenario: ScenarioResult, tmp_path: Path) -> None:
    runs = 1_000_000
    scenario.scenario = "Bad input: the decoder fuzzed with atheris never raises but its refusal"
    elapsed, output = fuzz(runs, tmp_path / "corpus")
    _record(scenario, runs, elapsed, output)


def test_fuzzing_harness_runs(scenario: ScenarioResult, tmp_path: Path) -> None:
    runs = 20_000
    scenario.scenario = "Bad input: the atheris harness of the decoder (short run)"
    elapsed, output = fuzz(runs, tmp_path / "corpus")
    _record(scenario, runs, elapsed, output)
