"""Where the local stack keeps its files, and who must be able to reach them.

PostgreSQL refuses to run as root and Mosquitto drops to its own user, so when we run as root their
directories must be reachable by those users along the whole path. A clone inside a root-only home
is not: then the service data lives under /var/tmp, and `<home>/services` points there.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

POSTGRES_USER = "postgres"
MOSQUITTO_USER = "mosquitto"


def running_as_root() -> bool:
    return os.geteuid() == 0


def user_can_reach(user: str, path: Path) -> bool:
    """True when `user` can traverse every directory down to `path` (which may not exist yet)."""
    probe = path
    while not probe.exists():
        probe = probe.parent
    result = subprocess.run(["runuser", "-u", user, "--", "test", "-x", str(probe)], capture_output=True, check=False)
    return result.returncode == 0


def chown_to(user: str, *paths: Path) -> None:
    """Give `paths` (recursively) to a service user; a no-op when we are not root."""
    if not running_as_root():
        return
    entry = pwd.getpwnam(user)
    for top in paths:
        os.chown(top, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
        for root, dirs, files in os.walk(top):
            os.chown(root, entry.pw_uid, entry.pw_gid)
            for name in dirs + files:
                os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def write_owned_file(path: Path, text: str, owner: str | None, mode: int = 0o600) -> None:
    """Replace `path` whole with `text`, owned by `owner` (when we are root).

    The directory may belong to a service user, so never follow a link planted there: the new
    content goes to a fresh file created exclusively, then renamed over the old one.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    if owner is not None and running_as_root():
        entry = pwd.getpwnam(owner)
        os.chown(tmp, entry.pw_uid, entry.pw_gid)
    os.replace(tmp, path)


@dataclass(frozen=True, slots=True)
class StackPaths:
    home: Path
    services: Path

    @property
    def secrets_file(self) -> Path:
        return self.home / "secrets.json"

    @property
    def postgres(self) -> Path:
        return self.services / "postgres"

    @property
    def mosquitto(self) -> Path:
        return self.services / "mosquitto"

    @property
    def redis(self) -> Path:
        return self.services / "redis"

    @property
    def alertmanager(self) -> Path:
        return self.services / "alertmanager"

    @property
    def logs(self) -> Path:
        return self.home / "logs"


def prepare_paths(home: Path) -> StackPaths:
    """Create the data directory layout, choosing a reachable place for the service data."""
    home.mkdir(parents=True, exist_ok=True)
    link = home / "services"
    if link.is_symlink() or link.is_dir():
        services = link.resolve()
    elif not running_as_root() or all(
        user_can_reach(u, home) for u in (POSTGRES_USER, MOSQUITTO_USER) if _user_exists(u)
    ):
        services = link
    else:
        digest = hashlib.sha256(str(home).encode()).hexdigest()[:12]
        services = Path("/var/tmp") / f"daknong-ioc-{digest}"  # noqa: S108 -- ownership checked below
        link.symlink_to(services)
    services.mkdir(parents=True, exist_ok=True)
    # A shared directory could have been planted by someone else: use it only if it is ours.
    info = services.lstat()
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.geteuid():
        raise PermissionError(f"{services} is not a directory owned by this user; remove it and retry")
    services.chmod(0o755)
    paths = StackPaths(home=home, services=services)
    paths.logs.mkdir(exist_ok=True)
    return paths


def remove_paths(paths: StackPaths) -> None:
    """Delete all local stack data (used by `ioc stack destroy`)."""
    shutil.rmtree(paths.services, ignore_errors=True)
    shutil.rmtree(paths.home, ignore_errors=True)


def _user_exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
    except KeyError:
        return False
    return True
