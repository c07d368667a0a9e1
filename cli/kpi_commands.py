"""`ioc kpis show AREA [--window W]`: an area's current KPI values, as the engine last published them."""

from __future__ import annotations

import argparse
from typing import Any

import redis

from cli._context import connect, with_connections
from cli.errors import CommandError
from cli.output import json_option, print_json
from deploy.settings import Settings
from ingest.registry.areas import AreaRepository
from runtime.redis_names import KPI_CURRENT
from streams.frames import KpiFrame
from streams.live import GAUGE_WINDOW
from streams.windows import WINDOWS_BY_NAME

_WINDOWS = (*WINDOWS_BY_NAME, GAUGE_WINDOW)
_REDIS_TIMEOUT_SECONDS = 5


def register(commands: Any) -> None:
    kpis = commands.add_parser("kpis", help="current KPI values")
    actions = kpis.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = actions.add_parser(
        "show", help="an area's current values, as the KPI engine last published them",
        epilog="example: ioc kpis show 67 --window today",
    )  # fmt: skip
    show.add_argument("area", help="an area code from the areas table (e.g. 67, the province; 24611 a commune)")
    show.add_argument(
        "--window", choices=_WINDOWS, help=f"only this window ({', '.join(_WINDOWS)}; e.g. --window 1h); default all"
    )
    json_option(show, "ioc kpis show 67")
    kpis.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    with connect(settings) as conn:
        AreaRepository(conn).require_known([args.area])  # UnknownArea: reported
    url = with_connections(settings).redis_url
    if url is None:
        raise CommandError("no Redis: set IOC_REDIS_URL")
    client = redis.Redis.from_url(
        url.get_secret_value(), socket_timeout=_REDIS_TIMEOUT_SECONDS, socket_connect_timeout=_REDIS_TIMEOUT_SECONDS
    )
    with client:
        stored = client.hgetall(KPI_CURRENT)
    frames = [KpiFrame.decode(value) for value in stored.values()]
    wanted = sorted(
        (f for f in frames if f.area == args.area and (args.window is None or f.window == args.window)),
        key=lambda f: (f.kpi, _WINDOWS.index(f.window) if f.window in _WINDOWS else len(_WINDOWS)),
    )
    if args.json:
        print_json([f._asdict() for f in wanted])
        return 0
    if not wanted:
        print(f"no current values for area {args.area}: the KPI engine has published none (is it running?)")
        return 0
    for f in wanted:
        value = "—" if f.value is None else f"{f.value:g} {f.unit}".rstrip()
        target = "" if f.target is None else f"target {f.target:g}"
        print(f"{f.kpi:<34} {f.window:<6} {value:<16} {target:<14} last event {f.last_event_at or '—'}".rstrip())
    return 0
