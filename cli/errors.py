"""The one place where the `ioc` command turns what went wrong into one line and an exit code.

A command handler lets every refusal through: a domain error of any package (`runtime.errors`), a
database, Redis or broker that cannot be reached, the command line's own refusals (`CommandError`,
such as no local stack where one is needed). `run_reported` prints `ioc <command>: <message>` on
stderr and returns the exit code; the traceback only with `-v`, since a refusal is no bug. A reader
that stops reading (`ioc dead-letters list | head -1`) ends the command quietly.

Exit codes: 0 done; 1 refused, not found or a service unreachable; 2 a usage error (argparse's);
130 interrupted (Ctrl-C); 141 the output's reader went away (128 + SIGPIPE, as a Unix tool killed by
it reports).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable

import psycopg
import psycopg_pool
import pydantic
import pydantic_core
import redis

from deploy.backup import BackupError
from deploy.migrations.runner import MigrationError
from deploy.stack.ports import PortTaken
from deploy.stack.service import ServiceStartError
from ingest.broker.control import BrokerControlError
from runtime.errors import DomainError

EXIT_REFUSED = 1
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


class CommandError(Exception):
    """A refusal of the command line itself; the message is fit to show as it is."""


# Refusals whose message is written for an operator already: shown as they are.
_SHOWN_AS_THEY_ARE: tuple[type[BaseException], ...] = (
    CommandError, DomainError, BrokerControlError, ServiceStartError, MigrationError, BackupError, PortTaken,
)  # fmt: skip


def describe(exc: BaseException) -> str | None:
    """The one line that says what went wrong, for an error a user can act on; None for a bug."""
    if isinstance(exc, _SHOWN_AS_THEY_ARE):
        return _one_line(str(exc))
    if isinstance(exc, psycopg.OperationalError | psycopg_pool.PoolTimeout):
        return f"the database cannot be reached ({_database_reason(exc)})"
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        return f"Redis cannot be reached ({_one_line(str(exc))})"
    if isinstance(exc, pydantic.ValidationError) and exc.title.endswith("Settings"):
        return "; ".join(_setting_problem(e) for e in exc.errors())
    return None


def run_reported(command: str, call: Callable[[], int], *, verbose: bool) -> int:
    """`call()`'s exit code; what it raised as one line on stderr (with the traceback when `verbose`)."""
    try:
        code = call()
        sys.stdout.flush()  # a reader gone away shows here, not at the interpreter's exit
        return code
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print(f"\n{command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if verbose:
            traceback.print_exc()
        message = describe(exc)
        if message is None:  # a bug: say so in one line, and how to see where
            hint = "" if verbose else " (run with -v for the traceback)"
            message = f"unexpected {type(exc).__name__}: {_one_line(str(exc))}{hint}"
        print(f"{command}: {message}", file=sys.stderr)
        return EXIT_REFUSED


def _silence_stdout() -> None:
    # Python flushes stdout once more at exit, which would raise again: point it at /dev/null.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "no detail"


def _setting_problem(error: pydantic_core.ErrorDetails) -> str:
    name = "_".join(str(part) for part in error["loc"])
    return f"invalid setting IOC_{name.upper()}: {error['msg']}"


def _database_reason(exc: Exception) -> str:
    # libpq says 'connection to server at "127.0.0.1", port 1 failed: Connection refused' and a hint
    # on the next line: the first line names the address and the reason.
    first = _one_line(str(exc)).removeprefix("connection failed: ")
    return first.replace("FATAL:  ", "")
