"""The twenty-line example in docs/publisher-library.md is the file the integration test runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_the_page_shows_the_example_file_exactly() -> None:
    page = (ROOT / "docs" / "publisher-library.md").read_text(encoding="utf-8")
    shown = re.search(r"```python\n(.*?)```", page, re.DOTALL)
    assert shown is not None
    example = (ROOT / "examples" / "coverage_probe.py").read_text(encoding="utf-8")
    assert shown.group(1) == example
    assert len(example.splitlines()) <= 22  # the docstring, the imports and twenty lines of code at most
