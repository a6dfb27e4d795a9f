"""What every route of one app shares: the node, its reader, and the API's own state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request

from rantai.api.auth import ReadAuthenticator
from rantai.api.feed import BlockFeed
from rantai.api.metrics import Metrics
from rantai.node.accesslog import AccessLog
from rantai.node.node import Node
from rantai.node.reads import Reader

__all__ = ["ApiContext", "context_of"]


@dataclass(frozen=True, slots=True)
class ApiContext:
    """The node an app serves and the API's own parts, built once by ``create_app``."""

    node: Node
    reader: Reader
    clock_ms: Callable[[], int]
    metrics: Metrics
    feed: BlockFeed
    access_log: AccessLog
    auth: ReadAuthenticator

    def head_height(self) -> int:
        """The head height; the chain has a genesis whenever routes run past ``no_genesis``."""
        head = self.node.ledger.head
        return -1 if head is None else head.height


async def context_of(request: Request) -> ApiContext:
    """The context of the app serving ``request`` (a FastAPI dependency; async so that it
    runs on the event loop, not through the thread pool)."""
    ctx = request.app.state.rantai
    if not isinstance(ctx, ApiContext):
        raise TypeError("not an app made by create_app")
    return ctx
