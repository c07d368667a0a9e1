"""`ioc publishers maintenance | enable | show | silent-after` and `ioc alerts mute | mutes | unmute`, as a script
runs them: one line out, one clear line on stderr and exit 1 for anything refused, an example in every help."""

from __future__ import annotations

import argparse
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest

from cli import build_parser
from deploy.stack.manager import LocalStack
from ingest.registry.publishers import add_publisher
from streams.alerts.evaluator import AlertOpened
from streams.alerts.rules import AlertRule
from streams.alerts.store import AlertStore
from tests.fixtures.mqtt import unique_publisher_id
from tests.fixtures.stack import IsolatedDatabase, cli_environment

pytestmark = pytest.mark.integration
HANOI = timezone(timedelta(hours=7))


@pytest.fixture
def ioc(stack: LocalStack, database: IsolatedDatabase):  # type: ignore[no-untyped-def]
    env = cli_environment(stack, IOC_DATABASE_URL=database.url)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "cli", *args], env=env, capture_output=True, text=True)

    return run


def test_maintenance_from_the_command_line_with_every_refusal_one_line(
    stack: LocalStack,
    db: psycopg.Connection[tuple[object, ...]],
    ioc,  # type: ignore[no-untyped-def]
) -> None:
    counter = unique_publisher_id("counter")
    add_publisher(db, stack.mosquitto.accounts, counter, "payments", "24611")
    until = (datetime.now(HANOI) + timedelta(days=2)).replace(second=0, microsecond=0)
    typed = until.strftime("%Y-%m-%dT%H:%M%z")[:-2] + ":00"  # 2026-12-11T17:00+07:00, as an operator types it
    done = ioc("publishers", "maintenance", counter, "--until", typed, "--reason", "counter moved", "--by", "ops-anh")
    assert (done.returncode, done.stdout) == (0, f"publisher {counter}: in maintenance until {until.isoformat()}\n")
    shown = ioc("publishers", "show", counter).stdout.splitlines()
    assert shown[0] == f"{counter}  payments  area 24611  state maintenance  status silent"
    assert shown[2].startswith(f"maintenance until {until.astimezone(UTC):%Y-%m-%d %H:%M:%SZ}, set by ops-anh at ")
    assert shown[3].split()[2:5] == ["maintenance_set", "ops-anh", "until"]
    listed = {line.split()[0]: line.split()[3:5] for line in ioc("publishers", "list").stdout.splitlines()}
    assert listed[counter] == ["maintenance", "silent"]

    past = (datetime.now(HANOI) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M") + "+07:00"
    soon = (datetime.now(HANOI) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M") + "+07:00"
    for args, message in (
        (("--until", past, "--reason", "x"), f"{datetime.fromisoformat(past).isoformat()} is not in the future"),
        (("--until", "friday 5pm", "--reason", "x"),
         "'friday 5pm' is not a time like 2026-12-11T17:00+07:00 (ISO 8601 with an offset)"),
        (("--until", soon), "--reason is required with --until"),
        (("--until", soon, "--reason", "r" * 10_240), "the reason has 10240 characters; at most 500 are kept"),
        (("--until", soon, "--reason", "ok\x1b[2Kforged"),
         "the reason must not contain control characters (newlines, tabs, escapes)"),
    ):  # fmt: skip
        refused = ioc("publishers", "maintenance", counter, *args)
        assert (refused.returncode, refused.stdout, refused.stderr) == (
            1, "", f"ioc publishers maintenance: {message}\n"
        ), args  # fmt: skip
    unknown = ioc("publishers", "maintenance", "nobody-here", "--until", soon, "--reason", "x")
    assert (unknown.returncode, unknown.stderr) == (
        1,
        "ioc publishers maintenance: publisher nobody-here does not exist\n",
    )
    assert ioc("publishers", "maintenance", "nobody-here", "--end").returncode == 1
    assert ioc("publishers", "enable", "nobody-here").returncode == 1
    assert (
        ioc("publishers", "show", "nobody-here").stderr == "ioc publishers show: publisher nobody-here does not exist\n"
    )
    usage = ioc("publishers", "maintenance", counter)  # neither --until nor --end: argparse's own usage error
    assert usage.returncode == 2
    assert "one of the arguments --until --end is required" in usage.stderr

    ended = ioc("publishers", "maintenance", counter, "--end")
    assert (ended.returncode, ended.stdout) == (0, f"publisher {counter}: not in maintenance\n")
    assert ioc("publishers", "show", counter).stdout.splitlines()[0].endswith("state onboarding  status silent")
    stack.mosquitto.accounts.delete(counter)


def test_mutes_from_the_command_line(
    db: psycopg.Connection[tuple[object, ...]],
    ioc,  # type: ignore[no-untyped-def]
) -> None:
    rule = AlertRule(id="publisher-silent", kpi="ops.publishers_silent", window="now", above=0, severity="major")
    now_us = int(datetime.now(UTC).timestamp() * 1_000_000)
    AlertStore(db).apply([AlertOpened(rule, "24615-05", 1.0, "1 silent in 24615-05", now_us)])
    until = (datetime.now(HANOI) + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M") + "+07:00"
    made = ioc("alerts", "mute", "--area", "24615", "--until", until, "--reason", "fibre cut", "--by", "ops-anh")
    assert made.returncode == 0, made.stderr
    mute_id = int(made.stdout.split()[1].rstrip(":"))
    assert made.stdout == f"mute {mute_id}: area 24615 and below until {datetime.fromisoformat(until).isoformat()}\n"
    assert "(muted " + str(mute_id) + ")" in ioc("alerts", "list").stdout
    listed = ioc("alerts", "mutes").stdout
    assert listed.startswith(f"{mute_id:>5}  area 24615 and below")
    assert listed.rstrip().endswith("by ops-anh: fibre cut")
    for args, message in (
        (("--until", until, "--reason", "x"), "a mute needs a rule, an area, or both"),
        (("--rule", "nope", "--until", until, "--reason", "x"), "there is no alert rule 'nope'"),
        (("--area", "24615", "--until", "tomorrow", "--reason", "x"),
         "'tomorrow' is not a time like 2026-12-11T17:00+07:00 (ISO 8601 with an offset)"),
        (("--area", "24615", "--until", "2020-01-01T00:00+07:00", "--reason", "x"),
         "2020-01-01T00:00:00+07:00 is not in the future"),
        (("--area", "24615", "--until", until, "--reason", "a\nb"),
         "the reason must not contain control characters (newlines, tabs, escapes)"),
    ):  # fmt: skip
        refused = ioc("alerts", "mute", *args)
        assert (refused.returncode, refused.stderr) == (1, f"ioc alerts mute: {message}\n"), args

    removed = ioc("alerts", "unmute", str(mute_id), "--by", "ops-binh")
    assert (removed.returncode, removed.stdout) == (0, f"mute {mute_id} removed (area 24615 and below)\n")
    assert "muted" not in ioc("alerts", "list").stdout
    assert ioc("alerts", "mutes").stdout == ""
    assert ioc("alerts", "mutes", "--all").stdout.rstrip().endswith("(removed by ops-binh)")
    twice = ioc("alerts", "unmute", str(mute_id))
    assert twice.returncode == 1
    assert twice.stderr.startswith(f"ioc alerts unmute: mute {mute_id} was removed already, by ops-binh at ")
    assert ioc("alerts", "unmute", "999999").stderr == "ioc alerts unmute: no mute 999999\n"


def _subcommand(*path: str) -> argparse.ArgumentParser:
    parser = build_parser()
    for name in path:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


@pytest.mark.parametrize(
    "command",
    [
        ("publishers", "maintenance"), ("publishers", "enable"), ("publishers", "disable"), ("publishers", "show"),
        ("publishers", "silent-after"), ("alerts", "mute"), ("alerts", "mutes"), ("alerts", "unmute"),
    ],
)  # fmt: skip
def test_every_argument_of_the_new_commands_has_an_example(command: tuple[str, ...]) -> None:
    parser = _subcommand(*command)
    assert "example" in (parser.epilog or ""), command
    for action in parser._actions:
        if not isinstance(action, argparse._HelpAction):
            assert "e.g." in (action.help or ""), (command, action.dest)
