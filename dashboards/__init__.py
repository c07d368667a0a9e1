"""The wall and console pages and Grafana provisioning (static files, served by the API; nothing to import)."""

from __future__ import annotations

from pathlib import Path


def asset_root() -> Path:
    """The directory holding `common/`, `wall/`, `console/` and `grafana/`."""
    return Path(__file__).resolve().parent
