"""`ioc up [--no-simulator]`: the whole system in one command (what `make up` runs); harmless to repeat.

Starts the local stack, migrates, starts ingest, the KPI engine and the API, and (unless
`--no-simulator`) the simulator at a gentle rate, then prints where to look. The wall reads with a
`read` key named `wall`: its secret is kept in `$IOC_HOME/wall.key` (mode 0600) and reused while it
is valid, so a second `make up` prints the same URL; a lost or revoked key is replaced by a new one
(`wall-<time>`, the old ones revoked). The key goes to the terminal only, never to a log.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.http.auth.keys import ApiKeyRepository, Scope
from cli import db_commands, services_commands
from cli._context import connect
from cli.home import new_or_existing_stack
from deploy.settings import Settings

WALL_KEY_NAME = "wall"
# A gentle demo: 8 events/s at the busiest hour, a simulated day every two minutes, so office hours,
# nights and dossier deadlines all show on the wall within minutes.
DEMO_SIMULATOR_ARGS = ["--rate", "8", "--speed", "720"]


def register(commands: Any) -> None:
    up = commands.add_parser(
        "up", help="start everything (stack, migrations, services, simulator) and print URLs",
        epilog="example: ioc up --no-simulator (creates the home, $IOC_HOME or .ioc in the project folder, if missing)",
    )  # fmt: skip
    up.add_argument(
        "--no-simulator", action="store_true", help="run the system for real publishers only (ioc up --no-simulator)"
    )
    up.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    stack = new_or_existing_stack(settings)
    stack.up()
    if db_commands.run_db(argparse.Namespace(action="migrate"), settings) != 0:
        return 1
    base = f"http://{settings.api_host}:{settings.api_port}"
    if services_commands.start(settings, None if args.no_simulator else DEMO_SIMULATOR_ARGS) != 0:
        return 1
    key = wall_key(settings, stack.paths.home / "wall.key")
    print()
    print(f"Wall:     {base}/wall#key={key}")
    print(f"Console:  {base}/console   (an operator key: .venv/bin/ioc apikeys create --name me --scope operate)")
    print(f"API:      {base}/docs")
    print(f"Alerts:   {stack.alertmanager.url()}   (Alertmanager: what `ioc notify` sent)")
    if args.no_simulator:
        print("No simulator: register real publishers with .venv/bin/ioc publishers add")
    else:
        print(f"Simulated publishers are sending; log: {stack.paths.logs / 'simulator.log'}")
    print("Stop:     make down")
    return 0


def wall_key(settings: Settings, key_file: Path) -> str:
    """The wall's read key: the kept one while it still authenticates, else a new one (kept 0600)."""
    with connect(settings) as conn:
        keys = ApiKeyRepository(conn)
        try:
            kept = key_file.read_text().strip()
        except OSError:
            kept = ""
        if kept and keys.authenticate(kept) is not None:
            return kept
        names = {k.name for k in keys.list()}
        for name in names:
            if name == WALL_KEY_NAME or name.startswith(f"{WALL_KEY_NAME}-"):
                keys.revoke(name)  # its secret is lost to us: nobody should hold it any more
        name = WALL_KEY_NAME if WALL_KEY_NAME not in names else f"{WALL_KEY_NAME}-{datetime.now(UTC):%Y%m%d-%H%M%S-%f}"
        key = keys.create(name, Scope.READ)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(key + "\n")
    print(f"created the API key {name} (scope read) for the wall")
    return key
