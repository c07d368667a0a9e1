"""Every option of every `ioc` command has help text, and every command an example (no services)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

from cli import build_parser


def _commands(parser: argparse.ArgumentParser, path: str) -> Iterator[tuple[str, argparse.ArgumentParser, bool]]:
    """(its words, its parser, whether it has sub-commands) for `ioc` and every command below it."""
    subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    yield path, parser, bool(subcommands)
    for action in subcommands:
        for name, sub in action.choices.items():
            yield from _commands(sub, f"{path} {name}")


def test_every_option_and_argument_has_help_and_every_command_an_example() -> None:
    without_help, without_example = [], []
    commands = list(_commands(build_parser(), "ioc"))
    for path, parser, has_subcommands in commands:
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            if not action.help or action.help == argparse.SUPPRESS:
                without_help.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
        if not has_subcommands and "example" not in (parser.epilog or ""):
            without_example.append(path)
    assert without_help == []
    assert without_example == []
    assert len(commands) > 40  # the walk reached the leaves


def test_list_and_show_commands_take_json() -> None:
    commands = {path: parser for path, parser, _ in _commands(build_parser(), "ioc")}
    for path in (
        "ioc alerts list", "ioc alerts history", "ioc dead-letters list", "ioc publishers list",
        "ioc publishers gaps", "ioc publishers show", "ioc apikeys list", "ioc kpis show", "ioc services status",
        "ioc stack status", "ioc alerts incidents", "ioc alerts mutes",
    ):  # fmt: skip
        options = {o for a in commands[path]._actions for o in a.option_strings}
        assert "--json" in options, path


def test_the_command_line_reference_lists_every_command() -> None:
    reference = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    missing = [
        path for path, _, has_subcommands in _commands(build_parser(), "ioc")
        if not has_subcommands and f"| `{path}` |" not in reference
    ]  # fmt: skip
    assert missing == []
