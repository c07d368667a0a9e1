"""Where the local stack lives: `IOC_HOME` when it is set, else `.ioc` in the project folder.

The project folder is the nearest one, from the working directory up, holding the project's
`pyproject.toml` (the marker). Only `ioc up` and `ioc stack up` may create a home; every other
command needs one that exists, and otherwise says where it looked: a command run elsewhere used to
make a fresh `./.ioc` with new secrets, and then failed on authentication against the real stack.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from cli.errors import CommandError
from deploy.settings import Settings
from deploy.stack.manager import LocalStack

PROJECT_NAME = "daknong-ioc"
HOME_FOLDER = ".ioc"


class NoLocalStack(CommandError):
    pass


@dataclass(frozen=True, slots=True)
class HomeSearch:
    """The result of looking for the home: `home` is None when there is nowhere to look."""

    home: Path | None
    from_environment: bool
    started_at: Path

    def where_it_looked(self) -> str:
        if self.from_environment:
            return f"IOC_HOME is {self.home}"
        if self.home is not None:
            return f"the project folder is {self.home.parent}"
        return (
            f"IOC_HOME is not set and neither {self.started_at} nor a folder above it holds the project"
            f" (a pyproject.toml of {PROJECT_NAME})"
        )


def project_folder(start: Path) -> Path | None:
    """The nearest folder, from `start` up, whose pyproject.toml is this project's."""
    for folder in (start, *start.parents):
        marker = folder / "pyproject.toml"
        try:
            name = tomllib.loads(marker.read_text(encoding="utf-8")).get("project", {}).get("name")
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        if name == PROJECT_NAME:
            return folder
    return None


def search_home(environ: dict[str, str] | os._Environ[str], cwd: Path) -> HomeSearch:
    given = environ.get("IOC_HOME")
    if given:
        return HomeSearch(Path(given).expanduser().resolve(), True, cwd)
    folder = project_folder(cwd)
    return HomeSearch(None if folder is None else folder / HOME_FOLDER, False, cwd)


def with_home(settings: Settings, search: HomeSearch) -> Settings:
    """The settings with the home found (as they are when IOC_HOME is set, or nothing was found)."""
    if search.from_environment or search.home is None:
        return settings
    return settings.model_copy(update={"home": search.home})


def _current_search() -> HomeSearch:
    return search_home(os.environ, Path.cwd())


def has_local_stack(settings: Settings) -> bool:
    return (settings.resolved_home() / "secrets.json").is_file()


def existing_stack(settings: Settings) -> LocalStack:
    """The local stack in the home, which must exist already (nothing is created)."""
    if not has_local_stack(settings):
        search = _current_search()
        if search.home is None:
            raise NoLocalStack(
                f"no local stack: {search.where_it_looked()}; run it in the project folder or set IOC_HOME"
            )
        raise NoLocalStack(
            f"no local stack in {settings.resolved_home()} ({search.where_it_looked()}); start it with `ioc up`"
            " (or `ioc stack up`), or set IOC_HOME to an existing one"
        )
    return LocalStack(settings)


def new_or_existing_stack(settings: Settings) -> LocalStack:
    """For `ioc up` and `ioc stack up` only: the home is created when missing, but only where it
    was found (IOC_HOME or the project folder), never in whatever folder the command runs in."""
    search = _current_search()
    if search.home is None:
        raise NoLocalStack(
            f"nowhere to create the local stack: {search.where_it_looked()};"
            " run it in the project folder or set IOC_HOME"
        )
    return LocalStack(settings)
