"""Login by signed challenge: what opens a session, what is refused, and how sessions end."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from tests.api.support import World, app_for, client_for
from tests.node.harness import send
from tests.support import key_of
from tests.web.support import challenge_of, log_in, login_form

from rantai.core import codes
from rantai.core.kinds.parties import AddKey, RevokeKey
from rantai.crypto.keys import SigningKey
from rantai.node.datadir import save_key
from rantai.web import DemoLogins
from rantai.web.login import safe_next
from rantai.web.sessions import CHALLENGE_TTL_MS

pytestmark = pytest.mark.anyio


async def test_a_signed_challenge_opens_a_session_with_a_strict_cookie(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/")).status_code == 303
    answer = await log_in(client, "inv-0")
    cookie = answer.headers["set-cookie"].lower()
    assert "rantai_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    page = await client.get("/")
    assert page.status_code == 200 and "Signed in as inv-0" in page.text


async def test_a_challenge_is_single_use(client: httpx.AsyncClient) -> None:
    form = login_form("inv-0", await challenge_of(client))
    assert (await client.post("/login", json=form)).status_code == 200
    client.cookies.clear()
    again = await client.post("/login", json=form)
    assert again.status_code == 401 and again.json()["code"] == "unauthenticated"
    assert (await client.get("/")).status_code == 303


async def test_a_challenge_expires(client: httpx.AsyncClient, world: World) -> None:
    form = login_form("inv-0", await challenge_of(client))
    world.clock.now_ms += CHALLENGE_TTL_MS
    assert (await client.post("/login", json=form)).status_code == 401


@pytest.mark.parametrize(
    "party, key",
    [
        ("inv-1", key_of("inv-0")),  # a key, but not that party's
        ("nobody", key_of("nobody")),  # no such party
        ("inv-0", SigningKey(b"\x07" * 32)),  # a stranger's key
    ],
)
async def test_a_key_that_is_not_a_current_key_of_the_party_is_refused(
    client: httpx.AsyncClient, party: str, key: SigningKey
) -> None:
    form = login_form(party, await challenge_of(client), key)
    assert (await client.post("/login", json=form)).status_code == 401
    assert "rantai_session" not in client.cookies


async def test_a_signature_over_other_bytes_is_refused(client: httpx.AsyncClient) -> None:
    form = login_form("inv-0", await challenge_of(client))
    form["signature"] = key_of("inv-0").sign(b"something else").hex()
    assert (await client.post("/login", json=form)).status_code == 401


async def test_logout_ends_the_session(client: httpx.AsyncClient) -> None:
    await log_in(client, "inv-0")
    token = client.cookies["rantai_session"]
    assert (await client.post("/logout")).status_code == 303
    client.cookies.set("rantai_session", token)  # even if the browser kept it
    assert (await client.get("/portfolio")).status_code == 303


async def test_revoking_the_key_ends_the_session(client: httpx.AsyncClient, world: World) -> None:
    await log_in(client, "inv-0")
    assert (await client.get("/portfolio")).status_code == 200
    new = key_of("inv-0-rotated")
    assert send(world.node, [("inv-0", AddKey(new.public_key))]) == [codes.OK]
    assert send(world.node, [("inv-0", RevokeKey(key_of("inv-0").public_key))]) == [codes.OK]
    assert (await client.get("/portfolio")).status_code == 303


async def test_demo_identities_only_in_demo_mode(
    client: httpx.AsyncClient, world: World, tmp_path: Path
) -> None:
    assert (await client.get("/login/demo/SC")).status_code == 404
    assert "Demo identities" not in (await client.get("/login")).text

    keys = tmp_path / "keys"
    save_key(keys / "SC.key", "SC", key_of("SC"))
    demo = DemoLogins(keys, ("SC", "BNM"))  # BNM has no key file: not offered
    async with client_for(app_for(world, demo_logins=demo)) as demo_client:
        page = (await demo_client.get("/login")).text
        assert "Demo identities" in page and 'data-party="SC"' in page
        assert 'data-party="BNM"' not in page
        seed = (await demo_client.get("/login/demo/SC")).json()["seed"]
        assert seed == key_of("SC").seed.hex()
        assert (await demo_client.get("/login/demo/BNM")).status_code == 404
        assert (await demo_client.get("/login/demo/operator")).status_code == 404


@pytest.mark.parametrize(
    "asked, kept",
    [("/portfolio?x=1", "/portfolio?x=1"), ("//evil.example/", "/"), ("https://evil.example", "/"),
     ("/\\evil.example", "/"), (None, "/")],
)  # fmt: skip
def test_after_login_only_local_pages(asked: str | None, kept: str) -> None:
    assert safe_next(asked) == kept
