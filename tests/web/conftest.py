"""Fixtures of the dashboard's in-process tests: the API tests' world, served with the web."""

from tests.api.conftest import anyio_backend, client, world

__all__ = ["anyio_backend", "client", "world"]
