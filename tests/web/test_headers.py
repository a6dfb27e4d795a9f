"""The security headers: on every HTML response (the dashboard's pages, its error pages, a
streamed page), on nothing else (the API's JSON, the header stream, CSV, scripts, redirects).
Over the API tests' world, and over a small app for what the node's app does not serve."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.types import Message, Receive, Scope, Send
from tests.api.support import SseClient, World, app_for
from tests.web.support import log_in

from rantai.api import api_context
from rantai.web.headers import CONTENT_SECURITY_POLICY, SecurityHeadersMiddleware, docs_policy

pytestmark = pytest.mark.anyio

PAGE_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def security_headers_of(response: httpx.Response) -> dict[str, list[str]]:
    """Each security header the response carries, with every value it was sent with."""
    return {
        name: response.headers.get_list(name) for name in PAGE_HEADERS if name in response.headers
    }


def assert_page_headers(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("text/html")
    assert security_headers_of(response) == {name: [value] for name, value in PAGE_HEADERS.items()}


async def test_dashboard_pages_carry_the_security_headers(client: httpx.AsyncClient) -> None:
    login = await client.get("/login")
    assert login.status_code == 200
    assert_page_headers(login)
    await log_in(client, "inv-0")
    for path in ("/", "/portfolio", "/explorer"):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert_page_headers(page)


async def test_error_pages_carry_them(client: httpx.AsyncClient) -> None:
    await log_in(client, "inv-0")
    missing = await client.get("/instruments/NO-SUCH")
    assert missing.status_code == 404
    assert_page_headers(missing)
    forbidden = await client.get("/issuer")
    assert forbidden.status_code == 403
    assert_page_headers(forbidden)


async def test_api_and_other_answers_carry_none(client: httpx.AsyncClient) -> None:
    answers = [
        await client.get("/health"),
        await client.get("/v1/chain"),
        await client.get("/v1/instruments/NO-SUCH"),  # a JSON error
        await client.post(
            "/v1/transactions", content=b"{", headers={"content-type": "application/json"}
        ),
        await client.get("/portfolio"),  # logged out: a redirect to the login page
        await client.get("/web/proofs/balance/inv-0:main/BOND1"),  # logged out: 401 JSON
        await client.get("/static/js/rantai.js"),
    ]
    await log_in(client, "issuer")
    answers.append(await client.get("/instruments/BOND1/register.csv"))
    for answer in answers:
        assert not answer.headers.get("content-type", "").startswith("text/html"), answer.url
        assert security_headers_of(answer) == {}, answer.url
    assert [a.status_code for a in answers] == [200, 200, 404, 400, 303, 401, 200, 200]


async def test_the_header_stream_starts_without_them(world: World) -> None:
    app = app_for(world)
    async with app.router.lifespan_context(app):
        sse = SseClient(app)
        stream = asyncio.create_task(app(sse.scope, sse.receive, sse.send))
        await sse.until(b": connected")
        sse.disconnect()
        api_context(app).feed.close_streams()
        await asyncio.wait_for(stream, timeout=5)
    names = {name.lower() for name, _ in sse.start_headers}
    assert (b"content-type", b"text/event-stream; charset=utf-8") in sse.start_headers
    assert names.isdisjoint(name.encode() for name in PAGE_HEADERS)


def test_the_app_runs_no_base_http_middleware(world: World) -> None:
    """``BaseHTTPMiddleware`` runs each request in a task group and copies its response
    through a stream: the cost the security headers used to add to every API request."""
    app = app_for(world)
    classes: list[object] = [m.cls for m in app.user_middleware]
    assert SecurityHeadersMiddleware in classes and BaseHTTPMiddleware not in classes


async def _streamed_page(request: Any) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for chunk in (b"<p>one</p>", b"<p>two</p>", b"<p>three</p>"):
            yield chunk

    return StreamingResponse(chunks(), media_type="text/html")


async def _page_with_own_policy(request: Any) -> Response:
    return HTMLResponse(
        "<p>framed</p>", headers={"Content-Security-Policy": "frame-ancestors 'self'"}
    )


async def _streamed_json(request: Any) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"a": '
        yield b"1}"

    return StreamingResponse(chunks(), media_type="application/json")


async def _json(request: Any) -> Response:
    return JSONResponse({"a": 1})


async def _bare_start(scope: Scope, receive: Receive, send: Send) -> None:
    # "headers" is optional in an ASGI start message.
    await send({"type": "http.response.start", "status": 204})
    await send({"type": "http.response.body", "body": b""})


@pytest.fixture
async def small_client() -> AsyncIterator[httpx.AsyncClient]:
    small = Starlette(
        routes=[
            Route("/streamed", _streamed_page),
            Route("/own-policy", _page_with_own_policy),
            Route("/streamed.json", _streamed_json),
            Route("/json", _json),
            Mount("/bare", app=_bare_start),
        ],
        middleware=[Middleware(SecurityHeadersMiddleware)],
    )
    transport = httpx.ASGITransport(app=small)
    async with httpx.AsyncClient(transport=transport, base_url="http://small.test") as client:
        yield client


async def test_a_streamed_page_gets_them_once_with_its_body_intact(
    small_client: httpx.AsyncClient,
) -> None:
    page = await small_client.get("/streamed")
    assert page.status_code == 200
    assert page.content == b"<p>one</p><p>two</p><p>three</p>"
    assert_page_headers(page)


async def test_headers_a_page_sets_itself_are_kept(small_client: httpx.AsyncClient) -> None:
    page = await small_client.get("/own-policy")
    assert security_headers_of(page) == {
        "content-security-policy": ["frame-ancestors 'self'"],
        "x-content-type-options": ["nosniff"],
        "referrer-policy": ["same-origin"],
    }


async def test_other_types_pass_unchanged(small_client: httpx.AsyncClient) -> None:
    streamed = await small_client.get("/streamed.json")
    assert streamed.json() == {"a": 1} and security_headers_of(streamed) == {}
    plain = await small_client.get("/json")
    assert plain.json() == {"a": 1} and security_headers_of(plain) == {}
    bare = await small_client.get("/bare/")
    assert bare.status_code == 204 and security_headers_of(bare) == {}


async def test_other_scopes_reach_the_app_untouched() -> None:
    seen: list[tuple[Scope, Receive, Send]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((scope, receive, send))

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        return None

    scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    await SecurityHeadersMiddleware(app)(scope, receive, send)
    assert seen == [(scope, receive, send)]


async def test_the_docs_pages_allow_exactly_their_own_inline_scripts(
    client: httpx.AsyncClient,
) -> None:
    swagger = await client.get("/docs")
    policy = swagger.headers["content-security-policy"]
    (inline,) = re.findall(r"<script>(.*?)</script>", swagger.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}';" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    assert swagger.headers["x-content-type-options"] == "nosniff"
    redoc = await client.get("/redoc")
    assert redoc.headers["content-security-policy"] == docs_policy(b"")
    assert "style-src 'self' 'unsafe-inline'" in docs_policy(b"")
    assert "frame-ancestors 'none'" in docs_policy(b"")
