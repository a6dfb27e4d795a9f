"""What the client does, written once for both clients and free of I/O.

Each operation is a generator that yields *effects* — a ``Call`` (one HTTP request, answered
with its parsed result) or a ``Sleep`` — and returns its result. ``Client`` performs effects
with ``httpx.Client``, ``AsyncClient`` with ``httpx.AsyncClient``; an effect that fails is
thrown back into the generator, so an operation can clean up (give nonces back) and re-raise.
Writing each operation once keeps the two clients' behaviour identical by construction.

``Session`` is the client's state: the chain id and executor keys it trusts, its signer, and
the next nonce of each sender it has signed for.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Generic, Protocol, TypeVar
from urllib.parse import quote

import msgspec

from rantai.core import codes
from rantai.core.ballots import Ballot
from rantai.core.block import Receipt
from rantai.core.bonds import BondState, BondTerms, Certification
from rantai.core.distributions import Distribution
from rantai.core.record_dates import RecordDate
from rantai.core.records import ChainConfig, Instrument, Party
from rantai.core.settlement import Leg
from rantai.core.tx import TxBody, build_envelope
from rantai.crypto.hashing import sha256
from rantai.iso20022 import IsoMapping
from rantai.sdk._builders import check_body
from rantai.sdk._convert import from_json, hex_bytes
from rantai.sdk._errors import (
    ApiError,
    NotFound,
    ProofError,
    TransportError,
    UnexpectedResponse,
    error_from_response,
)
from rantai.sdk._keys import PartyKey
from rantai.sdk._models import (
    Balance,
    Balances,
    ChainInfo,
    HeaderInfo,
    Health,
    Holding,
    Schedule,
    SchedulePeriod,
    Submission,
    Transaction,
)
from rantai.sdk._verify import (
    balance_from_json,
    header_from_json,
    holdings_from_json,
    transaction_from_json,
)

__all__ = [
    "PAGE_SIZE_DEFAULT",
    "Call",
    "Effect",
    "NonceBook",
    "Op",
    "Page",
    "ReadAuth",
    "SenderLocks",
    "Session",
    "Settlement",
    "Sleep",
    "balance",
    "balances",
    "chain",
    "check_link",
    "ensure_chain",
    "finish",
    "header",
    "headers_page",
    "health",
    "holders_page",
    "instrument",
    "instruments_page",
    "iso_export",
    "next_nonce",
    "party",
    "receipt",
    "settlement",
    "settlements_page",
    "signs",
    "stream_headers",
    "submit",
    "transaction",
    "wait",
]

T = TypeVar("T")

PAGE_SIZE_DEFAULT: Final = 100
PAGE_SIZE_MAX: Final = 1_000  # docs/api.md, "Pagination"
SUBMIT_ENVELOPES_MAX: Final = 10_000  # per request, docs/api.md
# 16 MiB per request body; keep room for the JSON around the envelopes.
SUBMIT_BODY_BYTES_MAX: Final = 16 * 1024 * 1024 - 1024
WAIT_POLL_S: Final = 0.2
SENDER_LOCKS_MAX: Final = 4_096


@dataclass(frozen=True, slots=True)
class ReadAuth:
    """Who signs a read, and for which chain."""

    signer: PartyKey
    chain_id: str


@dataclass(frozen=True, slots=True)
class Call:
    """One HTTP request and how to read its answer.

    ``parse`` takes the decoded JSON of a 2xx answer (with ``raw``, its body bytes: an XML
    document). With ``missing_ok`` a 404 whose code is ``not_found`` is answered with None
    instead of raising ``NotFound``.
    """

    method: str
    path: str
    parse: Callable[[Any], object]
    params: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    auth: ReadAuth | None = None
    missing_ok: bool = False
    timeout_s: float | None = None
    raw: bool = False


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait this long before the operation goes on."""

    seconds: float


Effect = Call | Sleep
Op = Generator[Effect, Any, T]


def finish(call: Call, status: int, content: bytes) -> object:
    """The result of ``call`` from the status and body of its answer.

    Raises the ``ApiError`` subclass for the status, or UnexpectedResponse when a 2xx body
    is not what docs/api.md says.
    """
    data: Any = None
    if call.raw and 200 <= status < 300:
        return call.parse(content)
    try:
        data = msgspec.json.decode(content) if content else None
    except msgspec.DecodeError:
        if 200 <= status < 300:
            raise UnexpectedResponse(f"{call.method} {call.path}: not JSON") from None
    if status >= 400:
        error = error_from_response(status, data, content.decode("utf-8", "replace"))
        if call.missing_ok and isinstance(error, NotFound) and error.code == "not_found":
            return None
        raise error
    if not 200 <= status < 300:
        raise UnexpectedResponse(f"{call.method} {call.path}: HTTP {status}")
    try:
        return call.parse(data)
    except (KeyError, TypeError, ValueError, msgspec.ValidationError) as exc:
        # ValidationError is a ValueError; named for whoever reads this.
        raise UnexpectedResponse(
            f"{call.method} {call.path}: unexpected response ({exc.__class__.__name__}: {exc})"
        ) from None


def _segment(value: str) -> str:
    # Valid ids need no quoting (docs in rantai.core.ids), so the path as sent is the path
    # as read, and the read signature covers the same bytes on both sides.
    return quote(value, safe=":")


# --- nonces and the session ---------------------------------------------------------------


class NonceBook:
    """The next nonce of each sender this client signs for; thread-safe.

    The first nonce comes from the node's committed state; later ones are counted here, so a
    client can pipeline transactions without waiting for each block. When the count is in
    doubt (a refusal, a lost response, a ``bad_nonce`` receipt) the sender is given back its
    unused nonces or forgotten, and asked again next time.
    """

    def __init__(self) -> None:
        self._next: dict[str, int] = {}
        self._lock = threading.Lock()

    def known(self, party: str) -> bool:
        with self._lock:
            return party in self._next

    def take(self, party: str, count: int, fetched: int | None) -> int:
        """Reserve ``count`` nonces for ``party``; return the first. ``fetched`` is the node's
        next nonce, used only if no other caller counted for ``party`` meanwhile."""
        with self._lock:
            start = self._next.get(party, fetched)
            if start is None:
                raise RuntimeError(f"no nonce known or fetched for {party!r}")
            self._next[party] = start + count
            return start

    def give_back(self, party: str, first_unused: int, end: int) -> None:
        """Nonces from ``first_unused`` up to ``end`` (a reservation's end) were not used."""
        with self._lock:
            if self._next.get(party) == end:
                self._next[party] = first_unused
            else:  # someone reserved after us: their nonces are now ahead; ask the node
                self._next.pop(party, None)

    def forget(self, party: str) -> None:
        with self._lock:
            self._next.pop(party, None)


class _Lock(Protocol):
    def locked(self) -> bool: ...


L = TypeVar("L", bound=_Lock)


class SenderLocks(Generic[L]):
    """One lock per sender, held from taking nonces until the node has admitted them.

    The node orders envelopes as they arrive, and a nonce ahead of the sender's next one is
    not executed (``bad_nonce``). Two threads or tasks that took nonces 5 and 6 and then raced
    to the node could arrive as 6, 5; holding the sender's lock across the request keeps
    arrival in nonce order. Locks not held are dropped past ``SENDER_LOCKS_MAX`` senders.
    """

    def __init__(self, make: Callable[[], L]) -> None:
        self._make = make
        self._locks: dict[str, L] = {}
        self._guard = threading.Lock()

    def __call__(self, party: str) -> L:
        with self._guard:
            lock = self._locks.get(party)
            if lock is None:
                if len(self._locks) >= SENDER_LOCKS_MAX:
                    self._locks = {p: k for p, k in self._locks.items() if k.locked()}
                lock = self._locks[party] = self._make()
            return lock


@dataclass(slots=True)
class Session:
    """A client's state: what it trusts, who it signs as, and its nonce counts."""

    signer: PartyKey | None
    chain_id: str | None
    executors: frozenset[bytes] | None
    timeout_s: float
    nonces: NonceBook = field(default_factory=NonceBook)

    def learn(self, info: ChainInfo) -> None:
        """Take the chain id and executor keys from ``/v1/chain`` where not configured."""
        if self.chain_id is not None and info.config.chain_id != self.chain_id:
            raise UnexpectedResponse(
                f"the server is on chain {info.config.chain_id!r}, not {self.chain_id!r}"
            )
        self.chain_id = info.config.chain_id
        if self.executors is None:
            self.executors = frozenset(info.config.executors)

    def auth(self) -> ReadAuth | None:
        if self.signer is None or self.chain_id is None:
            return None
        return ReadAuth(self.signer, self.chain_id)

    def trust(self) -> tuple[str, frozenset[bytes]]:
        if self.chain_id is None or self.executors is None:
            raise RuntimeError("ensure_chain must run before a verified read")
        return self.chain_id, self.executors


# --- public reads ---------------------------------------------------------------------------


def health() -> Op[Health]:
    def parse(d: Any) -> Health:
        return Health(status=d["status"], height=d["height"], chain_id=d["chain_id"])

    result: Health = yield Call("GET", "/health", parse)
    return result


def _chain_info(d: Any) -> ChainInfo:
    height = d["height"]
    if not isinstance(height, int):
        raise TypeError("height is not an integer")
    return ChainInfo(from_json(d, ChainConfig), height)


def chain(session: Session) -> Op[ChainInfo]:
    info: ChainInfo = yield Call("GET", "/v1/chain", _chain_info)
    session.learn(info)
    return info


def ensure_chain(session: Session, executors_needed: bool) -> Op[None]:
    """Learn the chain id (and the executor keys, if needed) unless already known."""
    if session.chain_id is not None and (session.executors is not None or not executors_needed):
        return
    yield from chain(session)


def header(session: Session, height: int | None) -> Op[HeaderInfo | None]:
    """A checked header; ``None`` height for the head."""
    yield from ensure_chain(session, executors_needed=True)
    chain_id, executors = session.trust()
    where = "head" if height is None else str(height)
    found: HeaderInfo | None = yield Call(
        "GET",
        f"/v1/headers/{where}",
        lambda d: header_from_json(d, chain_id, executors),
        missing_ok=True,
    )
    if found is not None and height is not None and found.height != height:
        raise ProofError(f"asked for header {height}, got {found.height}")
    return found


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list route: its items, the cursor of the next page, and the height the
    page was read at (for routes that state one)."""

    items: list[T]
    next: Any
    height: int | None = None


def _limit(page_size: int) -> str:
    if not 1 <= page_size <= PAGE_SIZE_MAX:
        raise ValueError(f"page_size: 1 to {PAGE_SIZE_MAX}")
    return str(page_size)


def headers_page(session: Session, start: int, page_size: int) -> Op[Page[HeaderInfo]]:
    yield from ensure_chain(session, executors_needed=True)
    chain_id, executors = session.trust()

    def parse(d: Any) -> Page[HeaderInfo]:
        return Page([header_from_json(h, chain_id, executors) for h in d["items"]], d["next"])

    page: Page[HeaderInfo] = yield Call(
        "GET", "/v1/headers", parse, params=(("from", str(start)), ("limit", _limit(page_size)))
    )
    return page


def stream_headers(after: int | None) -> dict[str, str]:
    """The request headers of the header stream; ``Last-Event-ID`` resumes after a height."""
    headers = {"Accept": "text/event-stream"}
    if after is not None:
        if after < 0:
            raise ValueError("after: a height")
        headers["Last-Event-ID"] = str(after)
    return headers


def check_link(previous: HeaderInfo | None, current: HeaderInfo) -> None:
    """Raise ProofError unless ``current`` follows ``previous`` (when it is the next height)."""
    if previous is None or current.height != previous.height + 1:
        return
    if current.header.prev_hash != previous.hash:
        raise ProofError(f"header {current.height} does not link to header {previous.height}")


def instruments_page(after: str | None, page_size: int) -> Op[Page[Instrument]]:
    def parse(d: Any) -> Page[Instrument]:
        return Page([from_json(i, Instrument) for i in d["items"]], d["next"])

    params = [("limit", _limit(page_size))]
    if after is not None:
        params.insert(0, ("after", after))
    page: Page[Instrument] = yield Call("GET", "/v1/instruments", parse, params=tuple(params))
    return page


def instrument(code: str) -> Op[Instrument | None]:
    found: Instrument | None = yield Call(
        "GET",
        f"/v1/instruments/{_segment(code)}",
        lambda d: from_json(d, Instrument),
        missing_ok=True,
    )
    return found


def schedule(code: str) -> Op[Schedule | None]:
    found: Schedule | None = yield Call(
        "GET", f"/v1/instruments/{_segment(code)}/schedule", _schedule, missing_ok=True
    )
    return found


def _schedule(data: Any) -> Schedule:
    certification = data["certification"]
    return Schedule(
        instrument=data["instrument"],
        payment_kind=data["payment_kind"],
        terms=from_json(data["terms"], BondTerms),
        state=from_json(data["state"], BondState),
        certification=None if certification is None else from_json(certification, Certification),
        periods=tuple(
            SchedulePeriod(
                p["index"], p["start"], p["end"], p["payment_date"], p["record_date"], p["paid"]
            )
            for p in data["periods"]
        ),
        redemption_date=data["redemption"]["date"],
        redemption_price_bp=data["redemption"]["price_bp"],
    )


def record_date(code: str, name: str) -> Op[RecordDate | None]:
    found: RecordDate | None = yield Call(
        "GET",
        f"/v1/instruments/{_segment(code)}/records/{_segment(name)}",
        lambda d: from_json(d, RecordDate),
        missing_ok=True,
    )
    return found


def ballot(code: str, ballot_id: str) -> Op[Ballot | None]:
    found: Ballot | None = yield Call(
        "GET",
        f"/v1/instruments/{_segment(code)}/ballots/{_segment(ballot_id)}",
        lambda d: from_json(d, Ballot),
        missing_ok=True,
    )
    return found


def distribution(distribution_id: str | bytes) -> Op[Distribution | None]:
    hex_id = distribution_id.hex() if isinstance(distribution_id, bytes) else distribution_id
    found: Distribution | None = yield Call(
        "GET",
        f"/v1/distributions/{_segment(hex_id)}",
        lambda d: from_json(d, Distribution),
        missing_ok=True,
    )
    return found


# --- signed reads ---------------------------------------------------------------------------


def party(session: Session, party_id: str) -> Op[Party | None]:
    yield from ensure_chain(session, executors_needed=False)
    found: Party | None = yield Call(
        "GET",
        f"/v1/parties/{_segment(party_id)}",
        lambda d: from_json(d, Party),
        auth=session.auth(),
        missing_ok=True,
    )
    return found


def next_nonce(session: Session, party_id: str, signer: PartyKey | None) -> Op[int]:
    """The party's next nonce in committed state (``GET /v1/parties/{id}/nonce``)."""
    yield from ensure_chain(session, executors_needed=False)
    if signer is None or session.chain_id is None:
        auth = session.auth()
    else:
        auth = ReadAuth(signer, session.chain_id)

    def parse(d: Any) -> int:
        nonce = d["nonce"]
        if d["party"] != party_id or not isinstance(nonce, int) or nonce < 0:
            raise ValueError(f"not the nonce of {party_id!r}: {d!r}")
        return nonce

    nonce: int = yield Call("GET", f"/v1/parties/{_segment(party_id)}/nonce", parse, auth=auth)
    return nonce


def balance(session: Session, account: str, instrument: str, height: int | None) -> Op[Balance]:
    yield from ensure_chain(session, executors_needed=True)
    chain_id, executors = session.trust()
    params = () if height is None else (("height", str(height)),)
    result: Balance = yield Call(
        "GET",
        f"/v1/balances/{_segment(account)}/{_segment(instrument)}",
        lambda d: balance_from_json(d, account, instrument, height, chain_id, executors),
        params=params,
        auth=session.auth(),
    )
    return result


def balances(session: Session, account: str) -> Op[Balances]:
    """Every page of ``GET /v1/accounts/{account}/balances``, merged.

    Pages are read at the head as they come; ``Balances.height`` is the last page's. An
    account rarely holds more than one page (a thousand instruments).
    """
    yield from ensure_chain(session, executors_needed=False)

    def parse(d: Any) -> Page[tuple[str, int]]:
        items = [(i["instrument"], i["amount"]) for i in d["items"]]
        if d["account"] != account or not all(isinstance(a, int) for _, a in items):
            raise ValueError("not the balances asked for")
        return Page(items, d["next"], d["height"])

    amounts: dict[str, int] = {}
    after: str | None = None
    while True:
        params = [("limit", str(PAGE_SIZE_MAX))]
        if after is not None:
            params.insert(0, ("after", after))
        page: Page[tuple[str, int]] = yield Call(
            "GET",
            f"/v1/accounts/{_segment(account)}/balances",
            parse,
            params=tuple(params),
            auth=session.auth(),
        )
        amounts.update(page.items)
        if page.next is None:
            return Balances(account, page.height or 0, amounts)
        after = page.next


def holders_page(
    session: Session,
    code: str,
    after: str | None,
    height: int | None,
    page_size: int,
    proven: bool = False,
) -> Op[Page[Holding]]:
    """A page of the register; ``proven``: every row checked against the page's header."""
    yield from ensure_chain(session, executors_needed=proven)

    def parse(d: Any) -> Page[Holding]:
        if proven:
            items, _ = holdings_from_json(d, code, height, *session.trust())
        else:
            items = [Holding(h["account"], h["amount"]) for h in d["items"]]
        return Page(items, d["next"], d["height"])

    params = [("limit", _limit(page_size))]
    if proven:
        params.append(("proofs", "true"))
    if after is not None:
        params.insert(0, ("after", after))
    if height is not None:
        params.append(("height", str(height)))
    page: Page[Holding] = yield Call(
        "GET",
        f"/v1/instruments/{_segment(code)}/holders",
        parse,
        params=tuple(params),
        auth=session.auth(),
    )
    return page


def transaction(session: Session, tx_id: bytes) -> Op[Transaction | None]:
    yield from ensure_chain(session, executors_needed=True)
    chain_id, executors = session.trust()
    found: Transaction | None = yield Call(
        "GET",
        f"/v1/transactions/{tx_id.hex()}",
        lambda d: transaction_from_json(d, tx_id, chain_id, executors),
        auth=session.auth(),
        missing_ok=True,
    )
    return found


def receipt(session: Session, tx_id: bytes) -> Op[Receipt | None]:
    found = yield from transaction(session, tx_id)
    return None if found is None else found.receipt


def wait(
    session: Session, tx_ids: Sequence[bytes], timeout_s: float, poll_s: float = WAIT_POLL_S
) -> Op[dict[bytes, Transaction]]:
    """Poll until every id is committed or ``timeout_s`` passes; return those committed."""
    deadline = time.monotonic() + timeout_s
    found: dict[bytes, Transaction] = {}
    missing = list(dict.fromkeys(tx_ids))
    while True:
        still = []
        for tx_id in missing:
            tx = yield from transaction(session, tx_id)
            if tx is None:
                still.append(tx_id)
            else:
                found[tx_id] = tx
        missing = still
        remaining_s = deadline - time.monotonic()
        if not missing or remaining_s <= 0:
            return found
        yield Sleep(min(poll_s, remaining_s))


# --- settlement instructions and ISO 20022 -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Settlement:
    """A settlement instruction as ``GET /v1/settlements/{id}`` shows it: ``state`` as read at
    the head's block time (``expired`` included); ``failed_leg`` and ``failed_code`` when it
    failed; ``settled_height`` once settled (single reads only, None in listings)."""

    id: str
    proposer: str
    legs: tuple[Leg, ...]
    deadline_ms: int
    cycle: str
    state: str
    affirmers: tuple[str, ...]
    affirmed_by: tuple[str, ...]
    failed_leg: int | None
    failed_code: str | None
    proposed_height: int
    settled_height: int | None = None


def _settlement_from_json(d: Any) -> Settlement:
    legs = tuple(from_json(leg, Leg) for leg in d["legs"])
    found = Settlement(
        d["id"],
        d["proposer"],
        legs,
        d["deadline_ms"],
        d["cycle"],
        d["state"],
        tuple(d["affirmers"]),
        tuple(d["affirmed_by"]),
        d["failed_leg"],
        d["failed_code"],
        d["proposed_height"],
        d.get("settled_height"),
    )
    if not isinstance(found.deadline_ms, int) or not all(
        isinstance(p, str) for p in found.affirmers
    ):
        raise ValueError("not a settlement instruction")
    return found


def settlement(session: Session, instruction: str) -> Op[Settlement | None]:
    yield from ensure_chain(session, executors_needed=False)
    found: Settlement | None = yield Call(
        "GET",
        f"/v1/settlements/{_segment(instruction)}",
        _settlement_from_json,
        auth=session.auth(),
        missing_ok=True,
    )
    if found is not None and found.id != instruction:
        raise UnexpectedResponse(f"asked for instruction {instruction}, got {found.id}")
    return found


def settlements_page(
    session: Session, party: str | None, state: str | None, after: str | None, page_size: int
) -> Op[Page[Settlement]]:
    yield from ensure_chain(session, executors_needed=False)

    def parse(d: Any) -> Page[Settlement]:
        return Page([_settlement_from_json(i) for i in d["items"]], d["next"], d["height"])

    params = [("limit", _limit(page_size))]
    for name, value in (("party", party), ("state", state), ("after", after)):
        if value is not None:
            params.append((name, value))
    page: Page[Settlement] = yield Call(
        "GET", "/v1/settlements", parse, params=tuple(params), auth=session.auth()
    )
    return page


def _mapping_params(mapping: IsoMapping | None) -> tuple[tuple[str, str], ...]:
    """An ``IsoMapping``'s pairs as the query parameters of the ISO 20022 routes."""
    if mapping is None:
        return ()
    params: list[tuple[str, str]] = []
    for name, pairs in (
        ("instrument", mapping.instruments),
        ("currency", mapping.currencies),
        ("account", mapping.accounts),
    ):
        params.extend((name, f"{outside}:{inside}") for outside, inside in sorted(pairs.items()))
    return tuple(params)


def iso_export(
    session: Session, instruction: str, message: str, mapping: IsoMapping | None, side: str | None
) -> Op[bytes]:
    """The XML of ``GET /v1/settlements/{id}/<message>`` (``sese.025`` or ``pacs.009``)."""
    yield from ensure_chain(session, executors_needed=False)
    params = (() if side is None else (("side", side),)) + _mapping_params(mapping)

    def parse(content: Any) -> bytes:
        if not isinstance(content, bytes) or not content.startswith(b"<?xml"):
            raise ValueError("not an XML document")
        return content

    xml: bytes = yield Call(
        "GET",
        f"/v1/settlements/{_segment(instruction)}/{message}",
        parse,
        params=params,
        auth=session.auth(),
        raw=True,
    )
    return xml


# --- writes -----------------------------------------------------------------------------------


def _submission(raw: bytes, d: Any) -> Submission:
    tx_id = None if d["tx_id"] is None else hex_bytes(d["tx_id"])
    if tx_id is not None and tx_id != sha256(raw):
        raise ValueError(f"tx_id {tx_id.hex()} is not the hash of the envelope sent")
    receipt = None if d.get("receipt") is None else from_json(d["receipt"], Receipt)
    if receipt is not None and receipt.tx_id != tx_id:
        raise ValueError("a receipt for another transaction")
    return Submission(raw, tx_id, d["code"], d.get("message", ""), d.get("height"), receipt)


def _submit_call(raws: Sequence[bytes], wait: bool, timeout_s: float, session: Session) -> Call:
    def parse(d: Any) -> list[Submission]:
        results = d["results"]
        if len(results) != len(raws):
            raise ValueError(f"{len(results)} results for {len(raws)} envelopes")
        return [_submission(raw, r) for raw, r in zip(raws, results, strict=True)]

    params: tuple[tuple[str, str], ...] = (("wait", "true" if wait else "false"),)
    if wait:
        params += (("timeout_ms", str(round(timeout_s * 1000))),)
    return Call(
        "POST",
        "/v1/transactions",
        parse,
        params=params,
        body=msgspec.json.encode({"envelopes": [r.hex() for r in raws]}),
        timeout_s=session.timeout_s + (timeout_s if wait else 0),
    )


def _chunks(raws: Sequence[bytes]) -> list[range]:
    """Split into requests within the API's bounds on envelopes and body bytes."""
    chunks: list[range] = []
    start, body_bytes = 0, 0
    for i, raw in enumerate(raws):
        size = 2 * len(raw) + 3  # hex, quotes and a comma
        if i > start and (
            i - start >= SUBMIT_ENVELOPES_MAX or body_bytes + size > SUBMIT_BODY_BYTES_MAX
        ):
            chunks.append(range(start, i))
            start, body_bytes = i, 0
        body_bytes += size
    if start < len(raws):
        chunks.append(range(start, len(raws)))
    return chunks


def signs(items: Sequence[TxBody | bytes], signer: PartyKey | None) -> str | None:
    """The party a submit signs as, if it signs anything (and so takes nonces)."""
    if signer is None or all(isinstance(item, bytes) for item in items):
        return None
    return signer.party


def submit(
    session: Session,
    items: Iterable[TxBody | bytes],
    *,
    wait: bool,
    timeout_s: float,
    signer: PartyKey | None,
) -> Op[list[Submission]]:
    """Sign the bodies as ``signer`` with consecutive nonces, send them with any ready-made
    envelopes in the given order, and account for nonces the node did not take."""
    work: list[TxBody | bytes] = [i if isinstance(i, bytes) else check_body(i) for i in items]
    nonces: list[int | None] = [None] * len(work)
    body_count = sum(1 for item in work if not isinstance(item, bytes))
    end = 0
    if body_count:
        if signer is None:
            raise ValueError("signing needs a key: Client(url, party=..., key=...) or signer=")
        yield from ensure_chain(session, executors_needed=False)
        chain_id = session.chain_id
        if chain_id is None:
            raise RuntimeError("ensure_chain did not set the chain id")
        fetched = None
        if not session.nonces.known(signer.party):
            fetched = yield from next_nonce(session, signer.party, signer)
        nonce = session.nonces.take(signer.party, body_count, fetched)
        end = nonce + body_count
        for i, item in enumerate(work):
            if not isinstance(item, bytes):
                nonces[i] = nonce
                work[i] = build_envelope(chain_id, signer.party, nonce, signer.key, item)
                nonce += 1
    raws = [item for item in work if isinstance(item, bytes)]
    results: list[Submission] = []
    for chunk in _chunks(raws):
        try:
            got: list[Submission] = yield _submit_call(
                raws[chunk.start : chunk.stop], wait, timeout_s, session
            )
        except ApiError:  # refused as a whole: nothing from this chunk on was admitted
            unsent = [n for n in nonces[chunk.start :] if n is not None]
            if signer is not None and unsent:
                session.nonces.give_back(signer.party, min(unsent), end)
            raise
        except (TransportError, UnexpectedResponse):  # admitted or not: unknown
            if signer is not None and body_count:
                session.nonces.forget(signer.party)
            raise
        results.extend(got)
    if signer is not None and body_count:
        _settle_nonces(session, signer.party, nonces, results, end)
    return results


def _settle_nonces(
    session: Session, party: str, nonces: list[int | None], results: list[Submission], end: int
) -> None:
    ours = [(n, r) for n, r in zip(nonces, results, strict=True) if n is not None]
    stale = any(
        r.code == codes.BAD_NONCE or (r.receipt is not None and r.receipt.code == codes.BAD_NONCE)
        for _, r in ours
    )
    refused = [n for n, r in ours if not r.admitted]
    if stale:  # the count here and the node's disagree: ask the node next time
        session.nonces.forget(party)
    elif refused:  # the first refused nonce was never used; later ones get bad_nonce receipts
        session.nonces.give_back(party, min(refused), end)
