"""What a publisher's id may be: the registry's rule, which its broker account (the id is the MQTT
username and client id) and its topics (`ioc/v1/<source>/<id>/…`) follow."""

from __future__ import annotations

import re

from ingest.errors import Invalid

# One topic level, lower case: it is the username, the client id and a level of every topic it writes.
USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
# Service accounts of the system itself; no publisher may take one of these names.
RESERVED_PREFIX = "ioc-"


class InvalidUsername(Invalid, ValueError):
    def __init__(self, username: str) -> None:
        super().__init__(f"invalid MQTT username {username!r}: must match {USERNAME_PATTERN.pattern}", field="username")
        self.username = username
