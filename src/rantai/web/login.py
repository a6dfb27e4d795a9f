"""The login page, the signed-challenge check, logout, and demo identities.

See ``rantai.web.sessions`` for the protocol. The page signs in the browser with WebCrypto
(``static/js/login.js``); the private key is kept in the tab's ``sessionStorage`` only, so
that governance approvals can be signed later without asking again, and is cleared at logout.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Body, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import RedirectResponse, Response

from rantai.api.errors import NOT_FOUND, OVERLOADED, UNAUTHENTICATED, ApiError, JsonResponse
from rantai.core.ids import PARTY_ID_PATTERN
from rantai.core.records import Party, party_key
from rantai.crypto.keys import verify
from rantai.node.datadir import load_key
from rantai.web.context import SESSION_COOKIE, Web, current_viewer
from rantai.web.sessions import SESSION_TTL_MS, TableFull, login_signing_bytes

__all__ = ["router", "safe_next"]

router = APIRouter(include_in_schema=False)

HEX_32: Final = "^[0-9a-f]{64}$"
HEX_64: Final = "^[0-9a-f]{128}$"


class LoginForm(BaseModel):
    """What the login page posts: who, with which key, which challenge, and the signature."""

    party: str = Field(pattern=PARTY_ID_PATTERN, max_length=64)
    public_key: str = Field(pattern=HEX_32)
    challenge: str = Field(pattern=HEX_32)
    signature: str = Field(pattern=HEX_64)
    next: str = Field(default="/", max_length=2_000)


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else (another site) becomes ``/``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
def login_page(web: Web, request: Request, next: Annotated[str | None, Query()] = None) -> Response:
    """The login form with a fresh challenge (and demo identities in demo mode)."""
    if current_viewer(request, web) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    try:
        challenge = web.challenges.issue()
    except TableFull:
        raise ApiError(OVERLOADED, "too many logins in progress; retry") from None
    demo = []
    if web.demo is not None:
        demo = [p for p in web.demo.parties if web.demo.key_file(p) is not None]
    response = web.render(
        request,
        "login.html",
        None,
        challenge=challenge.hex(),
        next=safe_next(next),
        demo_parties=demo,
    )
    response.headers["Cache-Control"] = "no-store"  # a challenge is single use
    return response


@router.post("/login")
def login(web: Web, request: Request, form: Annotated[LoginForm, Body()]) -> Response:
    """Check the signed challenge; on success open a session and set its cookie."""
    chain = web.chain
    challenge = bytes.fromhex(form.challenge)
    # Spent before anything else, so a challenge is tried at most once.
    if not web.challenges.spend(challenge):
        raise ApiError(UNAUTHENTICATED, "the login challenge is unknown, used or expired")
    party: Party | None = web.api.node.ledger.values.get(party_key(form.party))
    key = bytes.fromhex(form.public_key)
    if party is None or key not in party.keys:
        raise ApiError(UNAUTHENTICATED, "not a current key of that party")
    message = login_signing_bytes(chain.chain_id, challenge)
    if not verify(key, message, bytes.fromhex(form.signature)):
        raise ApiError(UNAUTHENTICATED, "the signature does not verify")
    try:
        token = web.sessions.open(party.id, key)
    except TableFull:
        raise ApiError(OVERLOADED, "too many sessions open; retry") from None
    response = JsonResponse({"party": party.id, "next": safe_next(form.next)})
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_TTL_MS // 1000,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout(web: Web, request: Request) -> Response:
    """End the session; the page's script clears the key from ``sessionStorage``."""
    web.sessions.close(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict")
    return response


@router.get("/login/demo/{party}")
def demo_key(web: Web, party: Annotated[str, Path(pattern=PARTY_ID_PATTERN)]) -> Response:
    """Demo mode only: the seed of a demo identity, for the login page to sign with."""
    path = None if web.demo is None else web.demo.key_file(party)
    if path is None:
        raise ApiError(NOT_FOUND, "no demo identity of that name")
    try:
        key = load_key(path)
    except (OSError, ValueError, KeyError):
        raise ApiError(NOT_FOUND, "the demo key file is unreadable") from None
    response = JsonResponse({"party": key.party, "seed": key.key.seed.hex()})
    response.headers["Cache-Control"] = "no-store"
    return response
