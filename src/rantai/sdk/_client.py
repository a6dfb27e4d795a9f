"""``Client``: the blocking client, over ``httpx.Client``. ``AsyncClient`` mirrors it."""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Generator, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from types import TracebackType
from typing import Any, Self, overload

import httpx
import msgspec

from rantai.core.ballots import Ballot
from rantai.core.block import Receipt
from rantai.core.distributions import Distribution
from rantai.core.record_dates import RecordDate
from rantai.core.records import Instrument, Party
from rantai.core.tx import TxBody
from rantai.crypto.keys import SigningKey
from rantai.iso20022 import IsoMapping
from rantai.sdk import _ops
from rantai.sdk._errors import RantaiError, TransportError, UnexpectedResponse
from rantai.sdk._keys import PartyKey
from rantai.sdk._models import (
    Balance,
    Balances,
    ChainInfo,
    HeaderInfo,
    Health,
    Holding,
    Schedule,
    Submission,
    Transaction,
)
from rantai.sdk._ops import Call, Effect, Op, Session, Settlement, Sleep
from rantai.sdk._verify import header_from_json
from rantai.sdk._wire import SseParser, read_headers

__all__ = ["TIMEOUT_S_DEFAULT", "WAIT_TIMEOUT_S_DEFAULT", "Client", "build_request", "session_for"]

TIMEOUT_S_DEFAULT = 10.0
WAIT_TIMEOUT_S_DEFAULT = 10.0


def session_for(
    party: str | None,
    key: SigningKey | None,
    chain_id: str | None,
    executors: Collection[bytes] | None,
    timeout_s: float,
) -> Session:
    """The state of a new client; checks the arguments both clients share."""
    if (party is None) != (key is None):
        raise ValueError("give both party and key, or neither")
    signer = PartyKey(party, key) if party is not None and key is not None else None
    trusted = None if executors is None else frozenset(executors)
    if trusted is not None and not trusted:
        raise ValueError("executors: at least one trusted executor key")
    return Session(signer, chain_id, trusted, timeout_s)


def build_request(http: httpx.Client | httpx.AsyncClient, call: Call) -> httpx.Request:
    """The request for ``call``, with the read signature over exactly what will be sent."""
    headers = {"Accept": "application/xml" if call.raw else "application/json"}
    if call.body is not None:
        headers["Content-Type"] = "application/json"
    request = http.build_request(
        call.method,
        call.path,
        params=call.params,
        content=call.body,
        headers=headers,
        timeout=httpx.USE_CLIENT_DEFAULT if call.timeout_s is None else call.timeout_s,
    )
    if call.auth is not None:
        path = request.url.raw_path.split(b"?", 1)[0].decode("ascii")
        request.headers.update(
            read_headers(
                call.auth.signer,
                call.auth.chain_id,
                call.method,
                path,
                request.url.query.decode("ascii"),
                call.body or b"",
            )
        )
    return request


def header_events(
    parser: SseParser, line: str, session: Session, previous: HeaderInfo | None
) -> HeaderInfo | None:
    """The checked header a line of the header stream completes, if it completes one."""
    event = parser.feed(line)
    if event is None or event.event != "header":
        return None
    chain_id, executors = session.trust()
    try:
        info = header_from_json(msgspec.json.decode(event.data), chain_id, executors)
    except (KeyError, TypeError, ValueError, msgspec.ValidationError) as exc:
        raise UnexpectedResponse(f"header stream: {exc.__class__.__name__}: {exc}") from None
    _ops.check_link(previous, info)
    return info


class Client:
    """A blocking client of one node's HTTP API (docs/api.md).

    ``party`` and ``key`` sign transactions and reads; without them the client reads public
    routes only. ``chain_id`` and ``executors`` (the executor public keys whose signatures
    certify headers) are fetched from ``/v1/chain`` on first need when not given; give them to
    trust nothing the server says about itself. ``transport`` replaces the network, e.g.
    ``httpx.MockTransport`` in tests. Close the client (or use it in a ``with`` block).

    Thread-safe: one client may submit from many threads. Submissions by one sender are
    serialized (nonces are taken and admitted in order; with ``wait`` until the receipts are
    in), so for throughput send many bodies per ``submit`` rather than one per thread.
    """

    def __init__(
        self,
        url: str,
        *,
        party: str | None = None,
        key: SigningKey | None = None,
        chain_id: str | None = None,
        executors: Collection[bytes] | None = None,
        timeout_s: float = TIMEOUT_S_DEFAULT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._session = session_for(party, key, chain_id, executors, timeout_s)
        self._sender_locks = _ops.SenderLocks(threading.Lock)
        self._http = httpx.Client(base_url=url, timeout=timeout_s, transport=transport)

    # --- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- performing operations -------------------------------------------------------------

    def _perform(self, effect: Effect) -> object:
        if isinstance(effect, Sleep):
            time.sleep(effect.seconds)
            return None
        request = build_request(self._http, effect)
        try:
            response = self._http.send(request)
        except httpx.RequestError as exc:
            raise TransportError(f"{effect.method} {effect.path}: {exc}") from exc
        return _ops.finish(effect, response.status_code, response.content)

    def _drive(self, op: Op[Any]) -> Any:
        result: object = None
        error: RantaiError | None = None
        while True:
            try:
                effect = op.send(result) if error is None else op.throw(error)
            except StopIteration as stop:
                return stop.value
            result, error = None, None
            try:
                result = self._perform(effect)
            except RantaiError as exc:
                error = exc

    # --- public reads ------------------------------------------------------------------------

    def health(self) -> Health:
        """The node's status, head height and chain id (``GET /health``)."""
        result: Health = self._drive(_ops.health())
        return result

    def chain(self) -> ChainInfo:
        """What genesis fixed, and the head height (``GET /v1/chain``)."""
        result: ChainInfo = self._drive(_ops.chain(self._session))
        return result

    def header(self, height: int | None = None) -> HeaderInfo | None:
        """The checked header at ``height`` (default: the head), or None past the head."""
        result: HeaderInfo | None = self._drive(_ops.header(self._session, height))
        return result

    def headers(
        self, start: int = 0, *, page_size: int = _ops.PAGE_SIZE_DEFAULT
    ) -> Iterator[HeaderInfo]:
        """Checked headers from ``start`` to the head, each checked to link to the one before."""
        cursor: int | None = start
        previous: HeaderInfo | None = None
        while cursor is not None:
            page: _ops.Page[HeaderInfo] = self._drive(
                _ops.headers_page(self._session, cursor, page_size)
            )
            for info in page.items:
                _ops.check_link(previous, info)
                previous = info
                yield info
            cursor = page.next

    @contextmanager
    def stream_headers(self, after: int | None = None) -> Iterator[Iterator[HeaderInfo]]:
        """Headers as blocks commit (``GET /v1/stream/headers``), each checked:

        ``with client.stream_headers() as headers: for info in headers: ...``

        With ``after`` (a height) the headers after it come first, then live ones: pass the
        last height seen to resume after a broken stream.
        """
        self._drive(_ops.ensure_chain(self._session, executors_needed=True))
        request = self._http.build_request(
            "GET",
            "/v1/stream/headers",
            headers=_ops.stream_headers(after),
            timeout=httpx.Timeout(self._session.timeout_s, read=None),  # idle between blocks
        )
        try:
            response = self._http.send(request, stream=True)
        except httpx.RequestError as exc:
            raise TransportError(f"header stream: {exc}") from exc
        events = self._header_events(response)
        try:
            if response.status_code >= 300:
                _ops.finish(
                    Call("GET", request.url.path, lambda d: d),
                    response.status_code,
                    response.read(),
                )
            yield events
        finally:
            events.close()  # the consumer may have stopped part way
            response.close()

    def _header_events(self, response: httpx.Response) -> Generator[HeaderInfo, None, None]:
        parser = SseParser()
        previous: HeaderInfo | None = None
        try:
            for line in response.iter_lines():
                info = header_events(parser, line, self._session, previous)
                if info is not None:
                    previous = info
                    yield info
        except httpx.RequestError as exc:
            raise TransportError(f"header stream: {exc}") from exc

    def instruments(self, *, page_size: int = _ops.PAGE_SIZE_DEFAULT) -> Iterator[Instrument]:
        """Every instrument, by code."""
        cursor: str | None = None
        while True:
            page: _ops.Page[Instrument] = self._drive(_ops.instruments_page(cursor, page_size))
            yield from page.items
            if page.next is None:
                return
            cursor = page.next

    def instrument(self, code: str) -> Instrument | None:
        """An instrument's terms and supply, or None."""
        result: Instrument | None = self._drive(_ops.instrument(code))
        return result

    def schedule(self, code: str) -> Schedule | None:
        """A bond's or sukuk's terms, state, certification and payment schedule, or None."""
        result: Schedule | None = self._drive(_ops.schedule(code))
        return result

    def record_date(self, code: str, name: str) -> RecordDate | None:
        """A record date of ``code``, or None."""
        result: RecordDate | None = self._drive(_ops.record_date(code, name))
        return result

    def ballot(self, code: str, ballot: str) -> Ballot | None:
        """A ballot on ``code`` and its tally so far, or None."""
        result: Ballot | None = self._drive(_ops.ballot(code, ballot))
        return result

    def distribution(self, distribution: str | bytes) -> Distribution | None:
        """A distribution's totals (by its paying transaction's id), or None."""
        result: Distribution | None = self._drive(_ops.distribution(distribution))
        return result

    # --- signed reads ------------------------------------------------------------------------

    def party(self, party_id: str) -> Party | None:
        """A party's record (its keys, roles), or None."""
        result: Party | None = self._drive(_ops.party(self._session, party_id))
        return result

    def nonce(self, party_id: str | None = None) -> int:
        """The next nonce of ``party_id`` (default: the client's party) in committed state."""
        party_id = party_id or self._own_party()
        result: int = self._drive(_ops.next_nonce(self._session, party_id, None))
        return result

    def balance(self, account: str, instrument: str, height: int | None = None) -> Balance:
        """A balance at ``height`` (default: the head), verified against the header's state
        root: raises ProofError rather than return an unproven amount."""
        result: Balance = self._drive(_ops.balance(self._session, account, instrument, height))
        return result

    def balances(self, account: str) -> Balances:
        """Every balance of ``account`` the client's party may see (not proven)."""
        result: Balances = self._drive(_ops.balances(self._session, account))
        return result

    def holders(
        self,
        instrument: str,
        *,
        height: int | None = None,
        page_size: int = _ops.PAGE_SIZE_DEFAULT,
        proven: bool = False,
    ) -> Iterator[Holding]:
        """An instrument's register at ``height`` (default: the head when the first page is
        read; later pages are read at that same height). ``proven``: every row's balance is
        checked against the page's header and state root (``ProofError`` otherwise)."""
        cursor: str | None = None
        while True:
            page: _ops.Page[Holding] = self._drive(
                _ops.holders_page(self._session, instrument, cursor, height, page_size, proven)
            )
            yield from page.items
            if page.next is None:
                return
            cursor, height = page.next, page.height

    def transaction(self, tx_id: bytes) -> Transaction | None:
        """A committed transaction with its receipt, both proven to be in its block; None if
        not committed (yet)."""
        result: Transaction | None = self._drive(_ops.transaction(self._session, tx_id))
        return result

    def receipt(self, tx_id: bytes) -> Receipt | None:
        """A committed transaction's proven receipt, or None."""
        result: Receipt | None = self._drive(_ops.receipt(self._session, tx_id))
        return result

    def wait(
        self, tx_ids: Iterable[bytes], timeout_s: float = WAIT_TIMEOUT_S_DEFAULT
    ) -> dict[bytes, Transaction]:
        """Wait until every transaction is committed or ``timeout_s`` passes; return the
        committed ones, proven, by id."""
        result: dict[bytes, Transaction] = self._drive(
            _ops.wait(self._session, list(tx_ids), timeout_s)
        )
        return result

    # --- settlement instructions and ISO 20022 --------------------------------------------------

    def settlement(self, instruction: str) -> Settlement | None:
        """A settlement instruction (id: the proposing transaction's id, hex), or None. Its
        parties, mediators and agencies in scope of its instruments may read it."""
        result: Settlement | None = self._drive(_ops.settlement(self._session, instruction))
        return result

    def settlements(
        self,
        *,
        party: str | None = None,
        state: str | None = None,
        page_size: int = _ops.PAGE_SIZE_DEFAULT,
    ) -> Iterator[Settlement]:
        """Every instruction the client's party may see, by id; ``party`` keeps those that
        party is on, ``state`` those in that state (``expired`` included)."""
        cursor: str | None = None
        while True:
            page: _ops.Page[Settlement] = self._drive(
                _ops.settlements_page(self._session, party, state, cursor, page_size)
            )
            yield from page.items
            if page.next is None:
                return
            cursor = page.next

    def sese025(
        self, instruction: str, *, side: str = "DELI", mapping: IsoMapping | None = None
    ) -> bytes:
        """The sese.025 confirmation (XML) of a settled DvP instruction, for the deliverer
        (``DELI``) or the receiver (``RECE``); ``mapping`` names ISINs, currencies and
        accounts as the other side knows them (a currency for the cash leg is needed)."""
        result: bytes = self._drive(
            _ops.iso_export(self._session, instruction, "sese.025", mapping, side)
        )
        return result

    def pacs009(self, instruction: str, *, mapping: IsoMapping | None = None) -> bytes:
        """The cash leg of a settled DvP instruction as a pacs.009 credit transfer (XML)."""
        result: bytes = self._drive(
            _ops.iso_export(self._session, instruction, "pacs.009", mapping, None)
        )
        return result

    # --- writes ---------------------------------------------------------------------------------

    @overload
    def submit(
        self,
        items: TxBody | bytes,
        wait: bool = False,
        *,
        timeout_s: float = WAIT_TIMEOUT_S_DEFAULT,
        signer: PartyKey | None = None,
    ) -> Submission: ...

    @overload
    def submit(
        self,
        items: Iterable[TxBody | bytes],
        wait: bool = False,
        *,
        timeout_s: float = WAIT_TIMEOUT_S_DEFAULT,
        signer: PartyKey | None = None,
    ) -> list[Submission]: ...

    def submit(
        self,
        items: TxBody | bytes | Iterable[TxBody | bytes],
        wait: bool = False,
        *,
        timeout_s: float = WAIT_TIMEOUT_S_DEFAULT,
        signer: PartyKey | None = None,
    ) -> Submission | list[Submission]:
        """Sign bodies (as ``signer``, default the client's party) and submit them with any
        ready-made envelopes, in order. One item gives one ``Submission``, several a list.

        With ``wait`` the call returns once every admitted transaction has a receipt, or
        ``timeout_s`` passed. Refusals are data (``Submission.code``); raises
        InvalidTransaction before sending a body that fails the stateless checks, an
        ApiError when the request as a whole is refused, TransportError when it is lost.
        """
        single = isinstance(items, TxBody | bytes)
        batch: list[TxBody | bytes] = [items] if isinstance(items, TxBody | bytes) else list(items)
        signer = signer or self._session.signer
        op = _ops.submit(self._session, batch, wait=wait, timeout_s=timeout_s, signer=signer)
        party = _ops.signs(batch, signer)
        with nullcontext() if party is None else self._sender_locks(party):
            results: list[Submission] = self._drive(op)
        return results[0] if single else results

    def submit_envelopes(
        self,
        raws: Iterable[bytes],
        wait: bool = False,
        *,
        timeout_s: float = WAIT_TIMEOUT_S_DEFAULT,
    ) -> list[Submission]:
        """Submit envelopes signed elsewhere, as they are."""
        return self.submit(list(raws), wait, timeout_s=timeout_s)

    def _own_party(self) -> str:
        if self._session.signer is None:
            raise ValueError("this client has no party: give party_id")
        return self._session.signer.party
