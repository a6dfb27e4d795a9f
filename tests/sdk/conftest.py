"""Fixtures for the SDK tests: a real node with a small market, and clients over a fake API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from tests.node.harness import market, new_node
from tests.sdk.fake import FakeApi
from tests.support import key_of

from rantai import sdk
from rantai.node.node import Node

URL = "http://rantai.test"
CHAIN_ID = "rantai-test"


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    """A node on SQLite with investors inv-0..inv-2 holding 1,000,000 of BOND1 each."""
    node = new_node(tmp_path / "chain")
    market(node)
    try:
        yield node
    finally:
        node.stop()
        node.store.close()


@pytest.fixture
def fake(node: Node) -> FakeApi:
    return FakeApi(node)


ClientFactory = Callable[..., sdk.Client]


@pytest.fixture
def client_for(fake: FakeApi) -> Iterator[ClientFactory]:
    """``client_for(party)``: a client signing as ``party`` over the fake API; closed after."""
    made: list[sdk.Client] = []

    def make(party: str | None = "inv-0", **kw: object) -> sdk.Client:
        key = None if party is None else key_of(party)
        client = sdk.Client(URL, party=party, key=key, transport=httpx.MockTransport(fake), **kw)  # type: ignore[arg-type]
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
