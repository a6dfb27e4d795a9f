"""The interactive docs work where only loopback is reachable: every asset is served locally."""

from __future__ import annotations

import re

import httpx
import pytest

pytestmark = pytest.mark.anyio


async def test_docs_pages_load_every_asset_from_the_node(client: httpx.AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        answer = await client.get(page)
        assert answer.status_code == 200
        urls = re.findall(r'(?:src|href)="([^"]+)"', answer.text)
        assert urls, page
        assert all(url.startswith("/") for url in urls), urls  # no CDN
        for url in urls:
            asset = await client.get(url)
            assert asset.status_code == 200 and len(asset.content) > 1_000, url
    assert (await client.get("/openapi.json")).json()["info"]["title"] == "Rantai"
