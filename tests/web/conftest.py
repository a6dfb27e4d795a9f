"""Fixtures of the dashboard's in-process tests: the API tests' world, served with the web."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from tests.api.support import World, app_for, build_world, client_for


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    built = build_world(tmp_path / "chain")
    try:
        yield built
    finally:
        built.node.stop()
        built.node.store.close()


@pytest.fixture
async def client(world: World) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app_for(world)) as c:
        yield c
