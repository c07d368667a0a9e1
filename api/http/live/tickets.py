"""Websocket tickets: short-lived, single-use, exchanged for an API key over HTTPS so that no key ever
travels in a websocket URL. Only a hash of the ticket is kept in Redis; redeeming deletes it."""

from __future__ import annotations

import hashlib
import secrets

import redis

from api.http.auth.keys import Scope

TICKET_SECONDS = 30
_PREFIX = "ioc:ws:ticket:"


def _name(ticket: str) -> str:
    return _PREFIX + hashlib.sha256(ticket.encode()).hexdigest()


def issue_ticket(client: redis.Redis, key_name: str, scope: Scope) -> str:
    ticket = secrets.token_urlsafe(24)
    client.set(_name(ticket), f"{scope.label}:{key_name}", ex=TICKET_SECONDS)
    return ticket


def redeem_ticket(client: redis.Redis, ticket: str) -> tuple[Scope, str] | None:
    """The ticket's scope and key name, once; None when unknown, expired or already used."""
    if not ticket or len(ticket) > 64:
        return None
    stored = client.getdel(_name(ticket))
    if stored is None:
        return None
    text = stored.decode() if isinstance(stored, bytes) else str(stored)
    scope, _, key_name = text.partition(":")
    return Scope.parse(scope), key_name
