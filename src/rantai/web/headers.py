"""The security headers of the dashboard's pages: an ASGI middleware around the whole app.

Every response whose ``content-type`` is ``text/html`` (the dashboard's pages and error
pages, and any other HTML the app serves) gets these headers, unless it already has them;
every other response (the API's JSON and MessagePack, scripts, redirects) passes unchanged:

```
Content-Security-Policy   only the node's own assets, no inline script, no framing
X-Content-Type-Options    nosniff
Referrer-Policy           same-origin
```

The API's documentation pages (``/docs``, Swagger UI; ``/redoc``) are the exception: they
start their viewer with an inline script and ReDoc injects its styles at run time, so under
that policy they were blank. Their policy allows exactly the inline scripts the page holds,
by hash (the page is read whole to hash them: it is a few hundred bytes), and inline styles;
everything else as above.

A pure ASGI middleware: it looks at the ``http.response.start`` message and nothing else
(but for the two documentation pages).
Not Starlette's ``BaseHTTPMiddleware`` (``@app.middleware("http")``): that runs every
request, the API's included, in a task group and copies its response through a stream,
which cost about a quarter of the event loop's CPU per API request under load.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Final

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTENT_SECURITY_POLICY", "DOCS_PATHS", "SecurityHeadersMiddleware", "docs_policy"]

# Every asset is served by the node itself; no inline script, nothing from elsewhere.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

DOCS_PATHS: Final = frozenset({"/docs", "/redoc"})
_INLINE_SCRIPT: Final = re.compile(rb"<script>(.*?)</script>", re.DOTALL)

_PAGE_HEADERS: Final = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
)


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTML response of ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in DOCS_PATHS:
            await self.app(scope, receive, _DocsPage(send).send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])  # optional in ASGI; MutableHeaders needs it
                headers = MutableHeaders(scope=message)  # its setdefault adds to message["headers"]
                if headers.get("content-type", "").startswith("text/html"):
                    for name, value in _PAGE_HEADERS:
                        headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def docs_policy(page: bytes) -> str:
    """The policy of a documentation page: its own inline scripts by hash, inline styles."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(body).digest()).decode()}'"
        for body in _INLINE_SCRIPT.findall(page)
    )
    script_src = f"script-src 'self' {hashes}".rstrip()
    return CONTENT_SECURITY_POLICY.replace("script-src 'self'", script_src).replace(
        "style-src 'self'", "style-src 'self' 'unsafe-inline'"
    )


class _DocsPage:
    """Holds a documentation page's response until its body is whole, then sends it with
    the headers, the policy naming the page's inline scripts."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._start: Message | None = None
        self._body: list[bytes] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._start = message
            return
        if message["type"] != "http.response.body" or self._start is None:
            await self._send(message)
            return
        self._body.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        page = b"".join(self._body)
        start = self._start
        start.setdefault("headers", [])
        headers = MutableHeaders(scope=start)
        if headers.get("content-type", "").startswith("text/html"):
            headers.setdefault("Content-Security-Policy", docs_policy(page))
            for name, value in _PAGE_HEADERS[1:]:
                headers.setdefault(name, value)
        await self._send(start)
        await self._send({"type": "http.response.body", "body": page})
