"""Word of a revoked API key to every API process, which closes the key's live websockets at once.

The database is what revokes a key; this message only hastens what each process would find out by
itself within `IOC_API_KEY_RECHECK_SECONDS` (see `api.http.live.key_watch`), so it is sent once, after
the revocation is committed, and a Redis that is away costs only those seconds.
"""

from __future__ import annotations

import logging

import redis

from runtime.redis_names import API_KEYS_REVOKED_CHANNEL

log = logging.getLogger(__name__)


def announce_revoked(client: redis.Redis, name: str) -> bool:
    """True when Redis took the message (every subscribed API process gets it)."""
    try:
        client.publish(API_KEYS_REVOKED_CHANNEL, name)
    except redis.RedisError as exc:
        log.warning("API key %s revoked, but Redis is away (%s): its websockets close at the next recheck", name, exc)
        return False
    return True
