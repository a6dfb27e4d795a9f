"""Logging in to the dashboard from a test client: read the challenge, sign it, post it."""

from __future__ import annotations

import re

import httpx
from tests.support import CHAIN_ID, key_of

from rantai.crypto.keys import SigningKey
from rantai.web.sessions import login_signing_bytes

CHALLENGE = re.compile(r'data-challenge="([0-9a-f]{64})"')


async def challenge_of(client: httpx.AsyncClient) -> str:
    page = await client.get("/login")
    assert page.status_code == 200
    found = CHALLENGE.search(page.text)
    assert found is not None
    return found.group(1)


def login_form(party: str, challenge: str, key: SigningKey | None = None) -> dict[str, str]:
    key = key or key_of(party)
    signature = key.sign(login_signing_bytes(CHAIN_ID, bytes.fromhex(challenge)))
    return {
        "party": party,
        "public_key": key.public_key.hex(),
        "challenge": challenge,
        "signature": signature.hex(),
    }


async def log_in(client: httpx.AsyncClient, party: str) -> httpx.Response:
    """Log in as ``party`` (out of any session first)."""
    await client.post("/logout")
    answer = await client.post("/login", json=login_form(party, await challenge_of(client)))
    assert answer.status_code == 200, answer.text
    return answer
