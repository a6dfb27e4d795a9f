"""Login by signed challenge, and the sessions it opens.

```
GET  /login            a fresh challenge: 32 random bytes, single use, expires in 5 minutes
(browser)              signature = Ed25519(seed, login_signing_bytes(chain_id, challenge))
POST /login            {party, public_key, challenge, signature}
                       -> the key must be one of the party's *current* keys (state
                          ``party/<id>``) and the signature must verify; the challenge is
                          spent whatever the outcome
                       -> Set-Cookie: rantai_session=<random token>; HttpOnly; SameSite=Strict
POST /logout           the session is dropped at once
```
The signed bytes are domain-separated like a transaction's (docs/encoding.md):
``b"rantai/login/v1" || encode([chain_id, challenge])``, so a login signature can be
replayed neither on another chain nor as a transaction or a signed read.

Both tables live in memory and are bounded: a full challenge table first drops expired
entries, then refuses (``overloaded``) rather than grow; sessions likewise. A restart logs
everybody out, which is the safe direction.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from rantai.core.encoding import encode

__all__ = [
    "CHALLENGE_BYTES",
    "CHALLENGE_TTL_MS",
    "LOGIN_DOMAIN",
    "SESSION_TTL_MS",
    "Challenges",
    "Session",
    "Sessions",
    "login_signing_bytes",
]

LOGIN_DOMAIN: Final = b"rantai/login/v1"
CHALLENGE_BYTES: Final = 32
CHALLENGE_TTL_MS: Final = 5 * 60 * 1000
CHALLENGES_MAX: Final = 10_000
SESSION_TTL_MS: Final = 8 * 60 * 60 * 1000  # one working day
SESSIONS_MAX: Final = 10_000
DRAFTS_PER_SESSION_MAX: Final = 16


def login_signing_bytes(chain_id: str, challenge: bytes) -> bytes:
    """The bytes a party signs to log in with ``challenge`` on ``chain_id``."""
    return LOGIN_DOMAIN + encode([chain_id, challenge])


class TableFull(Exception):
    """A bounded table is full of live entries."""


class Challenges:
    """Single-use login challenges, each valid for ``CHALLENGE_TTL_MS``."""

    def __init__(self, clock_ms: Callable[[], int], entries_max: int = CHALLENGES_MAX) -> None:
        self._clock_ms = clock_ms
        self._entries_max = entries_max
        self._expiry: OrderedDict[bytes, int] = OrderedDict()  # insertion = expiry order
        self._lock = threading.Lock()

    def issue(self) -> bytes:
        """A fresh challenge.

        Raises:
            TableFull: ``entries_max`` challenges are live.
        """
        now = self._clock_ms()
        with self._lock:
            _drop_expired(self._expiry, now)
            if len(self._expiry) >= self._entries_max:
                raise TableFull("too many login challenges outstanding")
            challenge = secrets.token_bytes(CHALLENGE_BYTES)
            self._expiry[challenge] = now + CHALLENGE_TTL_MS
        return challenge

    def spend(self, challenge: bytes) -> bool:
        """Use ``challenge`` up; whether it was issued here and had not expired."""
        with self._lock:
            expiry = self._expiry.pop(challenge, None)
        return expiry is not None and self._clock_ms() < expiry


@dataclass(slots=True)
class Session:
    """A logged-in party: the key it proved, and the transactions it is about to sign."""

    party: str
    public_key: bytes
    expires_ms: int
    # draft id -> (nonce, canonical body): built by the server, signed in the browser
    drafts: OrderedDict[str, tuple[int, bytes]]


class Sessions:
    """Session tokens (random, 32 bytes, URL-safe) to sessions, bounded in number."""

    def __init__(self, clock_ms: Callable[[], int], entries_max: int = SESSIONS_MAX) -> None:
        self._clock_ms = clock_ms
        self._entries_max = entries_max
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def open(self, party: str, public_key: bytes) -> str:
        """A new session's token.

        Raises:
            TableFull: ``entries_max`` sessions are live.
        """
        now = self._clock_ms()
        token = secrets.token_urlsafe(32)
        with self._lock:
            expired = [t for t, s in self._sessions.items() if s.expires_ms <= now]
            for t in expired:
                del self._sessions[t]
            if len(self._sessions) >= self._entries_max:
                raise TableFull("too many sessions open")
            self._sessions[token] = Session(party, public_key, now + SESSION_TTL_MS, OrderedDict())
        return token

    def get(self, token: str | None) -> Session | None:
        """The live session of ``token``, or ``None``."""
        if not token:
            return None
        with self._lock:
            session = self._sessions.get(token)
            if session is not None and session.expires_ms <= self._clock_ms():
                del self._sessions[token]
                return None
            return session

    def close(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._sessions.pop(token, None)

    def add_draft(self, session: Session, nonce: int, body: bytes) -> str:
        """Keep a transaction the session's party is about to sign; its draft id."""
        draft = secrets.token_urlsafe(16)
        with self._lock:
            session.drafts[draft] = (nonce, body)
            while len(session.drafts) > DRAFTS_PER_SESSION_MAX:
                session.drafts.popitem(last=False)
        return draft

    def take_draft(self, session: Session, draft: str) -> tuple[int, bytes] | None:
        """The draft ``draft`` of ``session``, removed (a draft is submitted once)."""
        with self._lock:
            return session.drafts.pop(draft, None)


def _drop_expired(expiry: OrderedDict[bytes, int], now_ms: int) -> None:
    while expiry:
        challenge, at = next(iter(expiry.items()))
        if at > now_ms:
            return
        del expiry[challenge]
