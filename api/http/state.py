"""What every request handler shares: settings, the database pool and Redis, opened and closed by the lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TypedDict

import psycopg
import redis
from fastapi import FastAPI, Request
from psycopg_pool import ConnectionPool

from api.http.live.events_tail import EventTail
from api.http.live.hub import FrameHub
from api.http.live.key_watch import KeyWatch
from api.http.settings import ApiSettings
from api.http.status.shared_counts import LiveClientShare
from api.http.system.checks import HealthChecks
from api.http.system.metrics import ApiMetrics
from api.http.system.ops import ops_listener
from ingest.broker.accounts import accounts_from_settings
from ingest.registry.publishers import BrokerAccounts


@dataclass(frozen=True)
class AppState:
    settings: ApiSettings
    pool: ConnectionPool[psycopg.Connection[tuple[object, ...]]]
    redis: redis.Redis
    hub: FrameHub
    metrics: ApiMetrics
    tail: EventTail
    keys: KeyWatch  # ends the live websockets of a revoked key
    health: HealthChecks
    # The Origins that may open the live websockets, worked out once from the settings.
    allowed_origins: frozenset[str] = frozenset()
    # Publishers' broker accounts (the admin routes), built once from the settings; None without the
    # broker admin's password (IOC_MQTT_ADMIN_PASSWORD): those routes then answer 503.
    broker_accounts: BrokerAccounts | None = None


class LifespanState(TypedDict):
    app: AppState


def lifespan_for(
    settings: ApiSettings, metrics: ApiMetrics
) -> Callable[[FastAPI], AbstractAsyncContextManager[LifespanState]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[LifespanState]:
        assert settings.database_url is not None
        assert settings.redis_url is not None
        pool: ConnectionPool[psycopg.Connection[tuple[object, ...]]] = ConnectionPool(
            settings.database_url.get_secret_value(),
            min_size=1,
            max_size=8,
            kwargs={"autocommit": True, "connect_timeout": 5},
            open=False,
            name="api",
        )
        pool.open(wait=False)  # the API starts (and says `down` on /health) even if the database is away
        client = redis.Redis.from_url(settings.redis_url.get_secret_value(), socket_timeout=2, socket_connect_timeout=2)
        checks = HealthChecks(settings, pool, client, asyncio.get_running_loop())
        try:
            ops = ops_listener(settings, checks, metrics)  # a port that is taken fails the start, before the rest runs
        except OSError:
            client.close()
            pool.close()
            raise
        hub = FrameHub(settings.redis_url.get_secret_value(), metrics.flushes_refused)
        hub.start()
        tail = EventTail(settings.redis_url.get_secret_value(), pool, metrics.records_refused)
        tail.start()
        keys = KeyWatch(settings.redis_url.get_secret_value(), pool, settings.api_key_recheck_seconds)
        keys.start()
        share = LiveClientShare(
            settings.redis_url.get_secret_value(), lambda: {"kpis": hub.clients, "events": tail.clients}
        )
        share.start()
        ops.start()
        origins = frozenset(settings.allowed_origins())
        try:
            accounts = accounts_from_settings(settings)
            yield {"app": AppState(settings, pool, client, hub, metrics, tail, keys, checks, origins, accounts)}
        finally:
            await asyncio.to_thread(ops.stop)
            await share.stop()
            await keys.stop()
            await tail.stop()
            await hub.stop()
            client.close()
            pool.close()

    return lifespan


def app_state(request: Request) -> AppState:
    state: AppState = request.state.app
    return state
