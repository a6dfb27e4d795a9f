"""The app factory: one FastAPI app over one node (docs/api.md is the contract).

```
request -> AccessLogMiddleware (records agency reads) -> routes:
             public.py  health, metrics, chain, headers, instruments, header stream
             submit.py  POST /v1/transactions (+ wait for receipts through BlockFeed)
             signed.py  signed reads: auth.py authenticates, policy.py authorizes
             alerts.py  AML alerts and their review (rantai.supervision), agencies only
             settlements.py  settlement instructions; ISO 20022 sese.023/sese.025/pacs.009
           errors.py maps every failure to {"code", "message"} and a status
```
The app does not start or stop the node: whoever owns the node does (``rantai up``). The
lifespan starts the access log's background flush and, at shutdown, stops listening to the
node, ends header streams and flushes the access log. Without a lifespan (some test clients)
the app still works: the access log is then written synchronously, and the app stays
subscribed to the node's blocks for the node's lifetime (one cheap listener per app).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from rantai.api.access import AccessLogMiddleware
from rantai.api.alerts import router as alerts_router
from rantai.api.auth import NONCES_MAX, NonceCache, ReadAuthenticator
from rantai.api.context import ApiContext
from rantai.api.dryrun import router as dryrun_router
from rantai.api.errors import JsonResponse, install_handlers
from rantai.api.feed import STREAMS_MAX, WAITING_TXS_MAX, BlockFeed
from rantai.api.lifecycle import lifecycle_routes
from rantai.api.metrics import Metrics
from rantai.api.public import public_routes
from rantai.api.reports import router as reports_router
from rantai.api.settlements import router as settlements_router
from rantai.api.signed import router as signed_router
from rantai.api.submit import submit_routes
from rantai.core.readauth import READ_FRESHNESS_MS
from rantai.node.accesslog import FLUSH_INTERVAL_S, AccessLog
from rantai.node.node import Node, wall_clock_ms
from rantai.node.reads import Reader
from rantai.supervision import Supervisor, default_monitors
from rantai.supervision.process import SupervisionProcess

if TYPE_CHECKING:
    from rantai.web import DemoLogins

__all__ = ["api_context", "create_app"]

API_VERSION = "1"


def create_app(
    node: Node,
    *,
    clock_ms: Callable[[], int] = wall_clock_ms,
    access_log_flush_s: float = FLUSH_INTERVAL_S,
    nonces_max: int = NONCES_MAX,
    waiting_max: int = WAITING_TXS_MAX,
    streams_max: int = STREAMS_MAX,
    supervisor: Supervisor | None = None,
    supervision: SupervisionProcess | None = None,
    demo_logins: DemoLogins | None = None,
) -> FastAPI:
    """The HTTP API over ``node``.

    Parameters:
        node: the node to serve; the caller starts and stops it.
        clock_ms: the time for read-signature freshness and access log entries.
        access_log_flush_s: how often the access log is written (the window a crash can lose).
        nonces_max, waiting_max, streams_max: bounds of the replay cache, of transactions
            waited for, and of open header streams; past them, requests get 503 ``overloaded``.
        supervisor: reads and reviews alerts; by default it also runs the AML monitors, on a
            thread of its own.
        supervision: runs the monitors in a child process instead (``rantai up``); the app
            starts and stops it.
        demo_logins: demo mode only (``rantai up --demo``): identities the dashboard's login
            page may sign in as, with keys it fetches from the server.
    """
    access_log = AccessLog(node.store, clock_ms, flush_interval_s=access_log_flush_s)
    metrics = Metrics(node, lambda: access_log.pending)
    ctx = ApiContext(
        node=node,
        reader=Reader(node),
        clock_ms=clock_ms,
        metrics=metrics,
        feed=BlockFeed(node, metrics, waiting_max=waiting_max, streams_max=streams_max),
        access_log=access_log,
        auth=ReadAuthenticator(node, clock_ms, NonceCache(READ_FRESHNESS_MS, nonces_max)),
    )

    if supervisor is None:
        supervisor = Supervisor(node.store, default_monitors, clock_ms=clock_ms)
    monitors: Supervisor | SupervisionProcess = supervisor if supervision is None else supervision
    monitors.on_alerts(metrics.observe_alerts)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        access_log.start()
        detach = monitors.attach(node)
        monitors.start()
        try:
            yield
        finally:
            ctx.feed.close()
            detach()
            monitors.stop()
            access_log.stop()

    # FastAPIOffline: FastAPI with the docs pages' assets served from the package, not a CDN
    # (a node may run where only loopback is reachable).
    app = FastAPIOffline(
        title="Rantai",
        version=API_VERSION,
        summary="Ledger for tokenized financial instruments: submit, read, prove, supervise.",
        lifespan=lifespan,
        default_response_class=JsonResponse,
    )
    install_handlers(app)
    app.add_middleware(AccessLogMiddleware, access_log=access_log)
    app.include_router(public_routes(ctx))
    app.include_router(lifecycle_routes(ctx))
    app.include_router(submit_routes(ctx))
    app.include_router(signed_router)
    app.include_router(dryrun_router)
    app.include_router(alerts_router)
    app.include_router(reports_router)
    app.include_router(settlements_router)
    # The dashboard (rantai.web) at /, beside the API under /v1. Imported here: rantai.web
    # imports the API's modules, so a module-level import would be circular.
    from rantai.web import mount_web  # noqa: PLC0415

    mount_web(app, ctx, supervisor, demo=demo_logins)
    app.state.rantai = ctx
    app.state.supervisor = supervisor
    _document_errors_as_served(app)
    return app


def _document_errors_as_served(app: FastAPI) -> None:
    """Drop the 422 FastAPI documents for every route with parameters: this API answers
    validation errors with 400 (``errors.py``), and says so on each route."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = generate()
            for operations in spec.get("paths", {}).values():
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
            schemas = spec.get("components", {}).get("schemas", {})
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def api_context(app: FastAPI) -> ApiContext:
    """The context ``create_app`` built for ``app`` (for the server shell and tests)."""
    ctx = app.state.rantai
    if not isinstance(ctx, ApiContext):
        raise TypeError("not an app made by create_app")
    return ctx
