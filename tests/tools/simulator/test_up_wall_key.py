"""`ioc up`'s read key for the wall: reused while valid, so a second `make up` is harmless; replaced when lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.http.auth.keys import ApiKeyRepository, Scope
from cli.up_commands import wall_key
from deploy.settings import Settings
from deploy.stack.manager import LocalStack
from tests.fixtures.stack import IsolatedDatabase

pytestmark = pytest.mark.integration


def test_the_wall_key_is_kept_reused_and_replaced_when_it_no_longer_works(
    stack: LocalStack, database: IsolatedDatabase, tmp_path: Path
) -> None:
    settings = Settings.model_validate(stack.settings.model_dump() | {"database_url": database.url})
    key_file = tmp_path / "wall.key"
    first = wall_key(settings, key_file)
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert wall_key(settings, key_file) == first
    with database.connect() as conn:
        keys = ApiKeyRepository(conn)
        found = keys.authenticate(first)
        assert found is not None
        assert (found.name, found.scope) == ("wall", Scope.READ)
        keys.revoke("wall")
    second = wall_key(settings, key_file)
    assert second != first
    key_file.unlink()  # lost: the old key is revoked, since nobody should hold it any more
    third = wall_key(settings, key_file)
    with database.connect() as conn:
        keys = ApiKeyRepository(conn)
        assert keys.authenticate(second) is None
        assert keys.authenticate(third) is not None
        active = [k.name for k in keys.list() if k.revoked_at is None]
        assert len(active) == 1
        assert active[0].startswith("wall-")
