"""The grammar of the API's free-text filters, as the contract defines what they name: anything else,
SQL metacharacters included, is refused with 400 before it reaches a query (which binds it anyway)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Final

from pydantic import BeforeValidator
from pydantic.config import JsonDict

from ingest.contract import AREA_CODE_PATTERN, PUBLISHER_ID_PATTERN
from streams.catalog import CATALOG
from streams.live import GAUGE_WINDOW
from streams.windows import WINDOWS_BY_NAME

AREA_CODE: Final = f"^{AREA_CODE_PATTERN}$"
PUBLISHER_ID: Final = f"^{PUBLISHER_ID_PATTERN}$"
# The largest id PostgreSQL's bigint holds: a larger `before_id` is refused as a parameter.
MAX_ROW_ID: Final = 2**63 - 1

# Listed in the OpenAPI document as enums, so that integrators (and schemathesis) know the valid
# values; an unknown one still gets our own 400, which names where the catalog is.
KPI_IDS: Final[JsonDict] = {"enum": [k.id for k in CATALOG.kpis]}
WINDOW_NAMES: Final = (*WINDOWS_BY_NAME, GAUGE_WINDOW)
WINDOWS: Final[JsonDict] = {"enum": list(WINDOW_NAMES)}

_DATE_TIME_START = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _rfc3339_text(value: object) -> object:
    # Pydantic would also read `0.5` as seconds since 1970: the API's times are RFC 3339 only.
    if isinstance(value, str) and not _DATE_TIME_START.match(value):
        raise ValueError("must be an RFC 3339 date-time, such as 2026-11-26T07:00:00+07:00")
    return value


Rfc3339 = Annotated[datetime, BeforeValidator(_rfc3339_text)]
