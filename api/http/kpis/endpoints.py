"""`GET /api/v1/kpis` (the catalog) and `GET /api/v1/kpis/current` (the latest frame of each KPI, area, window)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import redis
from fastapi import APIRouter, Depends, Query
from pydantic.config import JsonDict

from api.http.auth.dependencies import require
from api.http.auth.keys import ApiKey, Scope
from api.http.db import database
from api.http.errors import ERROR_RESPONSES, BadRequest, Unavailable
from api.http.filters import AREA_CODE, KPI_IDS, WINDOW_NAMES, WINDOWS, Rfc3339
from api.http.kpis.schemas import CatalogEntry, CurrentValues, Frame, HistoryPoint, KpiHistory, TargetOut
from api.http.state import AppState, app_state
from ingest.registry.areas import AreaRepository
from runtime.redis_names import KPI_CURRENT, KPI_EPOCH
from streams.catalog import CATALOG, Gauge
from streams.frames import KpiFrame
from streams.history_reads import read_history
from streams.live import GAUGE_WINDOW
from streams.rulebook import read_rulebook
from streams.windows import LOCAL_TIMEZONE, WINDOWS_BY_NAME

router = APIRouter(prefix="/api/v1/kpis", tags=["kpis"], responses=ERROR_RESPONSES)
_WINDOWED = (*WINDOWS_BY_NAME,)
ReadKey = Annotated[ApiKey, Depends(require(Scope.READ))]
State = Annotated[AppState, Depends(app_state)]


@router.get("", response_model=list[CatalogEntry], summary="The KPI catalog")
def catalog(key: ReadKey, state: State) -> list[CatalogEntry]:
    with database(state) as conn:
        targets = read_rulebook(conn, (k.id for k in CATALOG.kpis)).targets
    today = datetime.now(LOCAL_TIMEZONE).date()
    entries = []
    for kpi in CATALOG.kpis:
        gauge = isinstance(kpi.formula, Gauge)  # a value at `now`; every other KPI has the four windows
        in_force = targets.in_force(kpi.id, today)
        entries.append(
            CatalogEntry(
                id=kpi.id, label_vi=kpi.label_vi, label_en=kpi.label_en, unit=kpi.unit, definition=kpi.definition,
                windows=[GAUGE_WINDOW] if gauge else list(_WINDOWED),
                target_in_force=None if in_force is None else TargetOut.of(in_force),
                targets=[TargetOut.of(t) for t in targets.all() if t.kpi == kpi.id],
            )
        )  # fmt: skip
    return entries


@router.get("/current", response_model=CurrentValues, summary="Current values, as the engine last published them")
def current(
    key: ReadKey,
    state: State,
    kpi: Annotated[str | None, Query(description="a KPI id from the catalog", json_schema_extra=KPI_IDS)] = None,
    area: Annotated[str | None, Query(pattern=AREA_CODE, description="an area code")] = None,
    window: Annotated[str | None, Query(description="5m, 1h, 24h, today or now", json_schema_extra=WINDOWS)] = None,
) -> CurrentValues:
    if kpi is not None and kpi not in {k.id for k in CATALOG.kpis}:
        raise BadRequest(f"unknown KPI {kpi!r}; GET /api/v1/kpis lists them")
    if window is not None and window not in WINDOW_NAMES:
        raise BadRequest(f"unknown window {window!r}; use one of 5m, 1h, 24h, today, now")
    if area is not None:
        with database(state) as conn:
            AreaRepository(conn).require_known([area])  # UnknownArea: 400, not an empty answer
    try:
        with state.redis.pipeline(transaction=True) as pipe:
            pipe.get(KPI_EPOCH)
            pipe.hgetall(KPI_CURRENT)
            epoch, stored = pipe.execute()
    except redis.RedisError as exc:
        raise Unavailable("Redis is unavailable; try again") from exc
    frames = [KpiFrame.decode(value) for value in stored.values()]
    wanted = [
        Frame.of(f)
        for f in frames
        if (kpi is None or f.kpi == kpi) and (area is None or f.area == area) and (window is None or f.window == window)
    ]
    wanted.sort(key=lambda f: (f.kpi, f.area, f.window))
    return CurrentValues(
        epoch=None if epoch is None else epoch.decode(), at=datetime.now(UTC).isoformat(), values=wanted
    )


# Bucket sizes a history can be asked for (allow-listed; nothing else reaches SQL).
BUCKETS: dict[str, timedelta] = {
    "1m": timedelta(minutes=1), "5m": timedelta(minutes=5), "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1), "6h": timedelta(hours=6), "1d": timedelta(days=1),
}  # fmt: skip
_MAX_BUCKETS = 5_000
_BUCKET_NAMES: JsonDict = {"enum": [*BUCKETS]}


@router.get("/history", response_model=KpiHistory, summary="A KPI's values over time, from the minute snapshots")
def history(
    key: ReadKey,
    state: State,
    kpi: Annotated[str, Query(description="a KPI id from the catalog", json_schema_extra=KPI_IDS)],
    area: Annotated[str, Query(pattern=AREA_CODE, description="an area code")],
    window: Annotated[str, Query(description="5m, 1h, 24h, today or now", json_schema_extra=WINDOWS)] = "1h",
    start: Annotated[Rfc3339 | None, Query(alias="from", description="RFC 3339; default: `to` − 24 h")] = None,
    end: Annotated[Rfc3339 | None, Query(alias="to", description="RFC 3339; default: now")] = None,
    bucket: Annotated[str, Query(description="1m, 5m, 15m, 1h, 6h or 1d", json_schema_extra=_BUCKET_NAMES)] = "1h",
) -> KpiHistory:
    if kpi not in {k.id for k in CATALOG.kpis}:
        raise BadRequest(f"unknown KPI {kpi!r}; GET /api/v1/kpis lists them")
    if window not in WINDOW_NAMES:
        raise BadRequest(f"unknown window {window!r}; use one of 5m, 1h, 24h, today, now")
    if bucket not in BUCKETS:
        raise BadRequest(f"unknown bucket {bucket!r}; use one of {', '.join(BUCKETS)}")
    for name, moment in (("from", start), ("to", end)):
        if moment is not None and moment.tzinfo is None:
            raise BadRequest(f"'{name}' needs a time zone offset (RFC 3339)")
    end = end or datetime.now(UTC)
    start = start or end - timedelta(hours=24)
    if start >= end:
        raise BadRequest("'from' must be before 'to'")
    if (end - start) / BUCKETS[bucket] > _MAX_BUCKETS:
        raise BadRequest(f"at most {_MAX_BUCKETS} buckets per query: widen the bucket or narrow the range")
    with database(state) as conn:
        AreaRepository(conn).require_known([area])  # UnknownArea: 400, not an empty history
        rows = read_history(conn, (kpi, area, window), start, end, BUCKETS[bucket])
    points = [HistoryPoint(at=at, value=v, numerator=n, denominator=d, target=t) for at, v, n, d, t in rows]
    return KpiHistory(kpi=kpi, area=area, window=window, bucket=bucket, points=points)
