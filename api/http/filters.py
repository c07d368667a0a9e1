"""The grammar of the API's free-text filters, as the contract defines what they name: anything else,
SQL metacharacters included, is refused with 400 before it reaches a query (which binds it anyway)."""

from __future__ import annotations

from typing import Final

from ingest.contract import AREA_CODE_PATTERN, PUBLISHER_ID_PATTERN

AREA_CODE: Final = f"^{AREA_CODE_PATTERN}$"
PUBLISHER_ID: Final = f"^{PUBLISHER_ID_PATTERN}$"
