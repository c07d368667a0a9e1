"""A method a path does not serve: 405 in the error shape, naming every method the path allows."""

from __future__ import annotations

import asyncio

import httpx

from api.http.app import create_app
from deploy.settings import Settings


async def _refused(method: str, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(Settings()))
    async with httpx.AsyncClient(transport=transport, base_url="http://ioc.test") as client:
        return await client.request(method, path)


def test_a_path_served_by_several_routes_allows_all_of_their_methods() -> None:
    # GET and POST /api/v1/targets are two routes: Starlette alone would name only the first's.
    refused = asyncio.run(_refused("DELETE", "/api/v1/targets"))
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, POST"
    assert refused.json() == {"error": {"code": "method_not_allowed", "message": "Method Not Allowed"}}
    assert asyncio.run(_refused("POST", "/api/v1/areas")).headers["allow"] == "GET"
