"""``AsyncClient``: ``Client``'s methods for asyncio, over ``httpx.AsyncClient``.

Both clients run the same operations (``_ops``); only how an effect is performed differs.
The method docs are ``Client``'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Collection, Iterable
from contextlib import asynccontextmanager, nullcontext
from types import TracebackType
from typing import Any, Self, overload

import httpx

from rantai.core.ballots import Ballot
from rantai.core.block import Receipt
from rantai.core.distributions import Distribution
from rantai.core.record_dates import RecordDate
from rantai.core.records import Instrument, Party
from rantai.core.tx import TxBody
from rantai.crypto.keys import SigningKey
from rantai.iso20022 import IsoMapping
from rantai.sdk import _ops
from rantai.sdk._client import (
    TIMEOUT_S_DEFAULT,
    WAIT_TIMEOUT_S_DEFAULT,
    build_request,
    header_events,
    session_for,
)
from rantai.sdk._errors import RantaiError, TransportError
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
from rantai.sdk._ops import Call, Effect, Op, Settlement, Sleep
from rantai.sdk._wire import SseParser

__all__ = ["AsyncClient"]


class AsyncClient:
    """An asyncio client of one node's HTTP API (docs/api.md): ``Client``'s methods, awaited.

    Use it in an ``async with`` block, or ``await client.aclose()``. Tasks submitting as one
    sender take turns, as threads do with ``Client``. Iterating methods
    (``headers``, ``holders``, ``instruments``) are async iterators; ``stream_headers`` is an
    async context manager.
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
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._session = session_for(party, key, chain_id, executors, timeout_s)
        self._sender_locks = _ops.SenderLocks(asyncio.Lock)
        self._http = httpx.AsyncClient(base_url=url, timeout=timeout_s, transport=transport)

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _perform(self, effect: Effect) -> object:
        if isinstance(effect, Sleep):
            await asyncio.sleep(effect.seconds)
            return None
        request = build_request(self._http, effect)
        try:
            response = await self._http.send(request)
        except httpx.RequestError as exc:
            raise TransportError(f"{effect.method} {effect.path}: {exc}") from exc
        return _ops.finish(effect, response.status_code, response.content)

    async def _drive(self, op: Op[Any]) -> Any:
        result: object = None
        error: RantaiError | None = None
        while True:
            try:
                effect = op.send(result) if error is None else op.throw(error)
            except StopIteration as stop:
                return stop.value
            result, error = None, None
            try:
                result = await self._perform(effect)
            except RantaiError as exc:
                error = exc

    # --- public reads ------------------------------------------------------------------------

    async def health(self) -> Health:
        result: Health = await self._drive(_ops.health())
        return result

    async def chain(self) -> ChainInfo:
        result: ChainInfo = await self._drive(_ops.chain(self._session))
        return result

    async def header(self, height: int | None = None) -> HeaderInfo | None:
        result: HeaderInfo | None = await self._drive(_ops.header(self._session, height))
        return result

    async def headers(
        self, start: int = 0, *, page_size: int = _ops.PAGE_SIZE_DEFAULT
    ) -> AsyncIterator[HeaderInfo]:
        cursor: int | None = start
        previous: HeaderInfo | None = None
        while cursor is not None:
            page: _ops.Page[HeaderInfo] = await self._drive(
                _ops.headers_page(self._session, cursor, page_size)
            )
            for info in page.items:
                _ops.check_link(previous, info)
                previous = info
                yield info
            cursor = page.next

    @asynccontextmanager
    async def stream_headers(
        self, after: int | None = None
    ) -> AsyncIterator[AsyncIterator[HeaderInfo]]:
        """``async with client.stream_headers() as headers: async for info in headers: ...``"""
        await self._drive(_ops.ensure_chain(self._session, executors_needed=True))
        request = self._http.build_request(
            "GET",
            "/v1/stream/headers",
            headers=_ops.stream_headers(after),
            timeout=httpx.Timeout(self._session.timeout_s, read=None),  # idle between blocks
        )
        try:
            response = await self._http.send(request, stream=True)
        except httpx.RequestError as exc:
            raise TransportError(f"header stream: {exc}") from exc
        events = self._header_events(response)
        try:
            if response.status_code >= 300:
                content = await response.aread()
                _ops.finish(
                    Call("GET", request.url.path, lambda d: d), response.status_code, content
                )
            yield events
        finally:
            await events.aclose()  # the consumer may have stopped part way
            await response.aclose()

    async def _header_events(self, response: httpx.Response) -> AsyncGenerator[HeaderInfo, None]:
        parser = SseParser()
        previous: HeaderInfo | None = None
        try:
            async for line in response.aiter_lines():
                info = header_events(parser, line, self._session, previous)
                if info is not None:
                    previous = info
                    yield info
        except httpx.RequestError as exc:
            raise TransportError(f"header stream: {exc}") from exc

    async def instruments(
        self, *, page_size: int = _ops.PAGE_SIZE_DEFAULT
    ) -> AsyncIterator[Instrument]:
        cursor: str | None = None
        while True:
            page: _ops.Page[Instrument] = await self._drive(
                _ops.instruments_page(cursor, page_size)
            )
            for item in page.items:
                yield item
            if page.next is None:
                return
            cursor = page.next

    async def instrument(self, code: str) -> Instrument | None:
        result: Instrument | None = await self._drive(_ops.instrument(code))
        return result

    async def schedule(self, code: str) -> Schedule | None:
        """A bond's or sukuk's terms, state, certification and payment schedule, or None."""
        result: Schedule | None = await self._drive(_ops.schedule(code))
        return result

    async def record_date(self, code: str, name: str) -> RecordDate | None:
        """A record date of ``code``, or None."""
        result: RecordDate | None = await self._drive(_ops.record_date(code, name))
        return result

    async def ballot(self, code: str, ballot: str) -> Ballot | None:
        """A ballot on ``code`` and its tally so far, or None."""
        result: Ballot | None = await self._drive(_ops.ballot(code, ballot))
        return result

    async def distribution(self, distribution: str | bytes) -> Distribution | None:
        """A distribution's totals (by its paying transaction's id), or None."""
        result: Distribution | None = await self._drive(_ops.distribution(distribution))
        return result

    # --- signed reads ------------------------------------------------------------------------

    async def party(self, party_id: str) -> Party | None:
        result: Party | None = await self._drive(_ops.party(self._session, party_id))
        return result

    async def nonce(self, party_id: str | None = None) -> int:
        if party_id is None:
            if self._session.signer is None:
                raise ValueError("this client has no party: give party_id")
            party_id = self._session.signer.party
        result: int = await self._drive(_ops.next_nonce(self._session, party_id, None))
        return result

    async def balance(self, account: str, instrument: str, height: int | None = None) -> Balance:
        result: Balance = await self._drive(
            _ops.balance(self._session, account, instrument, height)
        )
        return result

    async def balances(self, account: str) -> Balances:
        result: Balances = await self._drive(_ops.balances(self._session, account))
        return result

    async def holders(
        self,
        instrument: str,
        *,
        height: int | None = None,
        page_size: int = _ops.PAGE_SIZE_DEFAULT,
        proven: bool = False,
    ) -> AsyncIterator[Holding]:
        cursor: str | None = None
        while True:
            page: _ops.Page[Holding] = await self._drive(
                _ops.holders_page(self._session, instrument, cursor, height, page_size, proven)
            )
            for item in page.items:
                yield item
            if page.next is None:
                return
            cursor, height = page.next, page.height

    async def transaction(self, tx_id: bytes) -> Transaction | None:
        result: Transaction | None = await self._drive(_ops.transaction(self._session, tx_id))
        return result

    async def receipt(self, tx_id: bytes) -> Receipt | None:
        result: Receipt | None = await self._drive(_ops.receipt(self._session, tx_id))
        return result

    async def wait(
        self, tx_ids: Iterable[bytes], timeout_s: float = WAIT_TIMEOUT_S_DEFAULT
    ) -> dict[bytes, Transaction]:
        result: dict[bytes, Transaction] = await self._drive(
            _ops.wait(self._session, list(tx_ids), timeout_s)
        )
        return result

    async def settlement(self, instruction: str) -> Settlement | None:
        result: Settlement | None = await self._drive(_ops.settlement(self._session, instruction))
        return result

    async def settlements(
        self,
        *,
        party: str | None = None,
        state: str | None = None,
        page_size: int = _ops.PAGE_SIZE_DEFAULT,
    ) -> AsyncIterator[Settlement]:
        cursor: str | None = None
        while True:
            page: _ops.Page[Settlement] = await self._drive(
                _ops.settlements_page(self._session, party, state, cursor, page_size)
            )
            for item in page.items:
                yield item
            if page.next is None:
                return
            cursor = page.next

    async def sese025(
        self, instruction: str, *, side: str = "DELI", mapping: IsoMapping | None = None
    ) -> bytes:
        result: bytes = await self._drive(
            _ops.iso_export(self._session, instruction, "sese.025", mapping, side)
        )
        return result

    async def pacs009(self, instruction: str, *, mapping: IsoMapping | None = None) -> bytes:
        result: bytes = await self._drive(
            _ops.iso_export(self._session, instruction, "pacs.009", mapping, None)
        )
        return result

    # --- writes ---------------------------------------------------------------------------------

    @overload
    async def submit(
        self,
        items: TxBody | bytes,
        wait: bool = False,
        *,
        timeout_s: float = WAIT_TIMEOUT_S_DEFAULT,
        signer: PartyKey | None = None,
    ) -> Submission: ...

    @overload
    async def submit(
        self,
        items: Iterable[TxBody | bytes],
        wait: bool = False,
        *,
        timeout_s: float = WAIT_TIMEOUT_S_DEFAULT,
        signer: PartyKey | None = None,
    ) -> list[Submission]: ...

    async def submit(
        self,
        items: TxBody | bytes | Iterable[TxBody | bytes],
        wait: bool = False,
        *,
        timeout_s: float = WAIT_TIMEOUT_S_DEFAULT,
        signer: PartyKey | None = None,
    ) -> Submission | list[Submission]:
        single = isinstance(items, TxBody | bytes)
        batch: list[TxBody | bytes] = [items] if isinstance(items, TxBody | bytes) else list(items)
        signer = signer or self._session.signer
        op = _ops.submit(self._session, batch, wait=wait, timeout_s=timeout_s, signer=signer)
        party = _ops.signs(batch, signer)
        async with nullcontext() if party is None else self._sender_locks(party):
            results: list[Submission] = await self._drive(op)
        return results[0] if single else results

    async def submit_envelopes(
        self,
        raws: Iterable[bytes],
        wait: bool = False,
        *,
        timeout_s: float = WAIT_TIMEOUT_S_DEFAULT,
    ) -> list[Submission]:
        return await self.submit(list(raws), wait, timeout_s=timeout_s)
