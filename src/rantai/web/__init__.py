"""The dashboard: supervisory, issuer and investor pages over the same node as the API.

Served by the API's app (``rantai.api.create_app`` calls ``mount_web``) at ``/``, with the
API under ``/v1`` unchanged. Server-rendered Jinja2 pages in English and Bahasa Malaysia,
small scripts under ``static/js`` for the live parts (login signing, the block feed, proof
checks, approvals). Nothing is fetched from outside the node. See docs/web.md.

```
login.py     GET/POST /login, POST /logout, demo identities   (sessions.py: the protocol)
pages.py     /, /portfolio, /instruments..., /explorer..., /issuer, proof JSON for scripts
supervise.py /alerts (review), /governance (approve: signed in the browser)
context.py   the session -> a ``Who`` for the API's policy; rendering in the right language
headers.py   the security headers of every HTML response (Content-Security-Policy, ...)
```
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from rantai.api.context import ApiContext
from rantai.api.errors import UNAUTHENTICATED, JsonResponse
from rantai.supervision import Supervisor
from rantai.web.context import (
    DemoLogins,
    LoginRequired,
    PageError,
    WebContext,
    current_viewer,
    login_url,
    template_environment,
)
from rantai.web.headers import SecurityHeadersMiddleware
from rantai.web.history import History
from rantai.web.login import router as login_router
from rantai.web.pages import router as pages_router
from rantai.web.sessions import Challenges, Sessions
from rantai.web.supervise import router as supervise_router

__all__ = ["DemoLogins", "mount_web"]


def mount_web(
    app: FastAPI,
    ctx: ApiContext,
    supervisor: Supervisor,
    *,
    demo: DemoLogins | None = None,
    clock_ms: Callable[[], int] | None = None,
) -> None:
    """Add the dashboard's routes and static files to ``app`` (the API's app)."""
    clock = ctx.clock_ms if clock_ms is None else clock_ms
    app.state.web = WebContext(
        api=ctx,
        supervisor=supervisor,
        challenges=Challenges(clock),
        sessions=Sessions(clock),
        templates=template_environment(),
        history=History(ctx.node.store, ctx.head_height),
        demo=demo,
    )
    app.include_router(login_router)
    app.include_router(pages_router)
    app.include_router(supervise_router)
    app.mount("/static", StaticFiles(packages=[("rantai.web", "static")]), name="static")
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(PageError, _page_error)

    app.add_middleware(SecurityHeadersMiddleware)


async def _login_required(request: Request, exc: Exception) -> Response:
    if request.method == "GET" and not request.url.path.startswith("/web/"):
        return RedirectResponse(login_url(request), status_code=303)
    return JsonResponse({"code": UNAUTHENTICATED, "message": "log in first"}, status_code=401)


async def _page_error(request: Request, exc: Exception) -> Response:
    web = request.app.state.web
    if not isinstance(exc, PageError) or not isinstance(web, WebContext):
        raise TypeError("registered for PageError on an app with the dashboard")
    return web.render(
        request,
        "error.html",
        current_viewer(request, web),
        status_code=exc.status,
        message_key=exc.message_key,
    )
