"""The close codes of the live websockets (4000–4999 are the application's; docs/websocket.md lists them):
the pages show each to a person, so each says one thing."""

from __future__ import annotations

CLOSE_PROTOCOL = 4400  # the second message was not `subscribe`
CLOSE_AUTH = 4401  # no valid ticket as the first message
CLOSE_ORIGIN = 4403  # the page's Origin may not open the live websockets
CLOSE_REVOKED = 4410  # the API key the ticket was issued for has been revoked
