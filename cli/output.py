"""What list and show commands print with `--json`: one JSON document on stdout, for scripts."""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from typing import Any


def json_option(parser: Any, what: str) -> None:
    """`--json` on a list or show command; `what` completes its help text's example."""
    parser.add_argument("--json", action="store_true", help=f"print JSON for scripts (e.g. {what} --json | jq .)")


def _plain(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def print_json(value: object) -> None:
    print(json.dumps(value, default=_plain, ensure_ascii=False, indent=2))
