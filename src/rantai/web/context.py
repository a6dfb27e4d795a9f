"""What every dashboard route shares: the API's context, the login tables, the templates,
and the dependency that turns a session cookie into a reader the API's policy understands.

The dashboard reads as the logged-in party with exactly the rules of the signed API: the
session's party becomes a ``Who`` (``rantai.api.policy.who_is``), pages ask the same policy
functions, and an agency's page views go into the same hash-chained access log as its
signed reads (``mark_agency``). A session ends as soon as the key that opened it is no
longer one of the party's current keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import quote

import jinja2
from fastapi import Depends, Request
from starlette.responses import HTMLResponse, Response

from rantai.api.access import mark_agency
from rantai.api.context import ApiContext
from rantai.api.policy import ISSUING_ROLES, Who, who_is
from rantai.core.records import ChainConfig, Party, party_key
from rantai.supervision import Supervisor
from rantai.web.format import format_time_ms, format_units, short_hex
from rantai.web.history import History
from rantai.web.i18n import LANGUAGE_COOKIE, LANGUAGES, Translator, catalog, language_of
from rantai.web.sessions import Challenges, Session, Sessions

__all__ = [
    "SESSION_COOKIE",
    "DemoLogins",
    "LoginRequired",
    "PageError",
    "Viewer",
    "WebContext",
    "viewer",
    "web_of",
]

SESSION_COOKIE: Final = "rantai_session"
LANGUAGE_COOKIE_MAX_AGE_S: Final = 365 * 24 * 3600


@dataclass(frozen=True, slots=True)
class DemoLogins:
    """Demo mode (``rantai up --demo``): identities whose key files the login page may fetch.

    Never set outside demo mode: it hands out private keys to whoever asks.
    """

    keys_dir: Path
    parties: tuple[str, ...]

    def key_file(self, party: str) -> Path | None:
        if party not in self.parties:
            return None
        path = self.keys_dir / f"{party}.key"
        return path if path.is_file() else None


class LoginRequired(Exception):
    """No live session: pages redirect to the login page, JSON routes answer 401."""


class PageError(Exception):
    """A page that cannot be shown: an HTTP status and a catalog key saying why."""

    def __init__(self, status: int, message_key: str) -> None:
        super().__init__(message_key)
        self.status = status
        self.message_key = message_key


@dataclass(frozen=True, slots=True)
class Viewer:
    """The logged-in reader of one request."""

    token: str
    session: Session
    party: Party
    who: Who

    @property
    def issuer(self) -> bool:
        return bool(self.who.roles & ISSUING_ROLES)


@dataclass(slots=True)
class WebContext:
    """The dashboard's state, built once per app by ``mount_web``."""

    api: ApiContext
    supervisor: Supervisor
    challenges: Challenges
    sessions: Sessions
    templates: jinja2.Environment
    history: History
    demo: DemoLogins | None

    @property
    def chain(self) -> ChainConfig:
        chain = self.api.node.ledger.chain
        if chain is None:
            raise PageError(503, "error.no_genesis")
        return chain

    def render(
        self,
        request: Request,
        template: str,
        viewer: Viewer | None,
        status_code: int = 200,
        **values: Any,
    ) -> Response:
        """The page ``template`` in the request's language, remembering an asked language."""
        language = language_of(request)
        translator = Translator(language)
        page = self.templates.get_template(template).render(
            t=translator.t,
            known=lambda key: key in catalog(language),
            lang=language,
            languages=LANGUAGES,
            path=request.url.path,
            viewer=viewer,
            chain_id=self.api.node.ledger.chain.chain_id if self.api.node.ledger.chain else "",
            **values,
        )
        response = HTMLResponse(page, status_code=status_code)
        if request.query_params.get("lang") == language:
            response.set_cookie(
                LANGUAGE_COOKIE,
                language,
                max_age=LANGUAGE_COOKIE_MAX_AGE_S,
                samesite="strict",
                secure=request.url.scheme == "https",
            )
        return response


def web_of(request: Request) -> WebContext:
    web = request.app.state.web
    if not isinstance(web, WebContext):
        raise TypeError("not an app with the dashboard mounted")
    return web


Web = Annotated[WebContext, Depends(web_of)]


def current_viewer(request: Request, web: WebContext) -> Viewer | None:
    """The reader of ``request`` from its session cookie, or ``None``."""
    token = request.cookies.get(SESSION_COOKIE)
    session = web.sessions.get(token)
    if session is None or token is None:
        return None
    values = web.api.node.ledger.values
    party: Party | None = values.get(party_key(session.party))
    chain = web.api.node.ledger.chain
    if party is None or chain is None or session.public_key not in party.keys:
        web.sessions.close(token)  # the key was revoked, or the party is gone
        return None
    who = who_is(party, chain)
    if who.agency:
        mark_agency(request.scope, who.party)  # agency page views go in the access log
    return Viewer(token, session, party, who)


async def viewer(request: Request, web: Web) -> Viewer:
    """A FastAPI dependency: the logged-in reader, or ``LoginRequired``."""
    found = current_viewer(request, web)
    if found is None:
        raise LoginRequired
    return found


LoggedIn = Annotated[Viewer, Depends(viewer)]


def login_url(request: Request) -> str:
    """The login page, coming back to this page after."""
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return "/login?next=" + quote(target, safe="")


def template_environment() -> jinja2.Environment:
    """Templates from the package, HTML-escaped, with the dashboard's filters."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("rantai.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    filters: Mapping[str, Any] = {
        "units": format_units,
        "when": format_time_ms,
        "short": short_hex,
    }
    env.filters.update(filters)
    return env
