"""The read pages: overview, portfolio, instruments, explorer, issuer console.

Each page asks the API's policy (``rantai.api.policy``) about the logged-in party exactly as
the signed route for the same data does, and reads through the same node ``Reader``. The JSON
a page's script verifies (a balance with its state proof, a transaction with its inclusion
proofs) comes from the signed routes' own functions, called with the session's reader, so the
browser checks byte for byte what an SDK client would.

Routes are plain functions: they take the node's block lock or read the store, so FastAPI
runs them in its thread pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from rantai.api import reports, signed
from rantai.api.policy import (
    may_read_block,
    may_read_holders,
    may_read_stats,
    may_read_tx,
    position_visible,
    tx_subjects,
)
from rantai.api.views import bond_schedule
from rantai.core.block import Header, Receipt
from rantai.core.encoding import decode
from rantai.core.ids import ACCOUNT_ID_PATTERN, INSTRUMENT_CODE_PATTERN
from rantai.core.jsonform import to_json
from rantai.core.records import Instrument, account_key, instrument_key
from rantai.core.rules import policy_key
from rantai.core.tx import decode_envelope
from rantai.web.context import LoggedIn, PageError, Web, WebContext
from rantai.web.format import bar_chart, format_units
from rantai.web.history import DISTRIBUTION_EVENT

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

RECENT_BLOCKS: Final = 10
RATE_WINDOW_BLOCKS: Final = 50
BLOCKS_PER_PAGE: Final = 25
INSTRUMENTS_MAX: Final = 1_000
REGISTER_ROWS_MAX: Final = 1_000

Code = Annotated[str, Path(pattern=INSTRUMENT_CODE_PATTERN)]
Account = Annotated[str, Path(pattern=ACCOUNT_ID_PATTERN)]
TxId = Annotated[str, Path(pattern="^[0-9a-fA-F]{64}$")]


def _instruments(web: WebContext) -> list[Instrument]:
    return web.api.reader.instruments(None, INSTRUMENTS_MAX).items


def _instrument(web: WebContext, code: str) -> Instrument:
    record: Instrument | None = web.api.node.ledger.values.get(instrument_key(code))
    if record is None:
        raise PageError(404, "error.not_found")
    return record


def _headers(web: WebContext, first: int, last: int) -> list[tuple[str, Header]]:
    """``(hash hex, header)`` of heights ``last`` down to ``first``."""
    found = []
    for height in range(last, first - 1, -1):
        stored = web.api.node.store.get_header(height)
        if stored is not None:
            found.append((stored[0].hex(), decode(stored[1], Header)))
    return found


def _tx_rate_milli(headers: list[tuple[str, Header]]) -> int:
    """Transactions per second over ``headers`` (newest first), times 1,000 (no floats)."""
    if len(headers) < 2:
        return 0
    span_ms = headers[0][1].timestamp_ms - headers[-1][1].timestamp_ms
    txs = sum(h.tx_count for _, h in headers[:-1])  # the oldest block opens the window
    return 0 if span_ms <= 0 else txs * 1_000_000 // span_ms


@router.get("/")
def overview(web: Web, request: Request, viewer: LoggedIn) -> Response:
    """Height, blocks, tx/s, the live block feed, supply per instrument."""
    height = web.api.head_height()
    recent = _headers(web, max(0, height - RATE_WINDOW_BLOCKS + 1), height)
    rate = _tx_rate_milli(recent)
    instruments = _instruments(web)
    chart = bar_chart([(i.code, i.supply, format_units(i.supply, i.decimals)) for i in instruments])
    return web.render(
        request,
        "overview.html",
        viewer,
        height=height,
        blocks=height + 1,
        tx_rate=f"{rate // 1000}.{rate % 1000:03d}",
        recent=recent[:RECENT_BLOCKS],
        instruments=instruments,
        chart=chart,
    )


def _own_accounts(web: WebContext, party: str) -> list[str]:
    """The party's accounts, in order (the ledger's ordered index of account keys)."""
    node = web.api.node
    prefix = account_key(f"{party}:")
    with node.block_lock:
        return [key[len("account/") :] for key in node.ledger.index.keys_with_prefix(prefix)]


@router.get("/portfolio")
def portfolio(web: Web, request: Request, viewer: LoggedIn) -> Response:
    """The party's own holdings (never another's), history and distributions received."""
    values = web.api.node.ledger.values
    holdings = []
    for account in _own_accounts(web, viewer.party.id):
        page = web.api.reader.positions(account, None, INSTRUMENTS_MAX, lambda _: True)
        for code, amount in page.items:
            record: Instrument | None = values.get(instrument_key(code))
            if record is not None and position_visible(viewer.who, account, record):
                holdings.append((account, record, amount))
    history = web.history.of_party(viewer.party.id)
    received = [e for e in history if e.event == DISTRIBUTION_EVENT]
    return web.render(
        request,
        "portfolio.html",
        viewer,
        holdings=holdings,
        history=history,
        distributions=received,
        decimals={i.code: i.decimals for i in _instruments(web)},
        executors=[k.hex() for k in web.chain.executors],
    )


@router.get("/web/proofs/balance/{account}/{instrument}")
def balance_proof(web: Web, viewer: LoggedIn, account: Account, instrument: Code) -> Response:
    """The balance with its state proof and header: the signed route's answer, as JSON."""
    return signed.balance(viewer.who, web.api, account, instrument, None)


@router.get("/web/proofs/tx/{tx_id}")
def tx_proof(web: Web, viewer: LoggedIn, tx_id: TxId) -> Response:
    """A transaction with its inclusion proofs and header: the signed route's answer."""
    return signed.transaction(viewer.who, web.api, tx_id)


@router.get("/instruments")
def instruments(web: Web, request: Request, viewer: LoggedIn) -> Response:
    """Every instrument's terms and supply (public), with links to what the viewer may read."""
    listed = _instruments(web)
    return web.render(request, "instruments.html", viewer, instruments=listed)


def _holders(web: WebContext, code: str) -> list[tuple[str, int]]:
    page = web.api.reader.holders(code, None, REGISTER_ROWS_MAX)
    return [] if page is None else page.items


@router.get("/instruments/{code}")
def instrument(web: Web, request: Request, viewer: LoggedIn, code: Code) -> Response:
    """Terms, rules, holder count, supply chart; the register for the issuer and agencies
    in scope."""
    record = _instrument(web, code)
    values = web.api.node.ledger.values
    sees_register = may_read_holders(viewer.who, record)
    holders_count = None
    top: list[tuple[str, int]] = []
    if sees_register or may_read_stats(viewer.who):
        holders_count, _ = web.api.reader.holder_count(code)
    if sees_register:
        top = sorted(_holders(web, code), key=lambda row: (-row[1], row[0]))[:10]
    chart = bar_chart(
        [(a, amount, format_units(amount, record.decimals)) for a, amount in top]
        if top
        else [(record.code, record.supply, format_units(record.supply, record.decimals))]
    )
    volume = None
    if sees_register or may_read_stats(viewer.who):  # aggregates: the issuer, every agency
        volume = bar_chart(
            [
                (day, units, format_units(units, record.decimals))
                for day, units, _ in web.history.volume_of(code)
            ]
        )
    return web.render(
        request,
        "instrument.html",
        viewer,
        calendar=_calendar(values, code),
        instrument=record,
        policy=to_json(values.get(policy_key(code))),
        holders_count=holders_count,
        sees_register=sees_register,
        top=top,
        chart=chart,
        volume=volume,
    )


def _calendar(values: Mapping[str, Any], code: str) -> dict[str, Any] | None:
    """A bond's or sukuk's schedule (the API's ScheduleInfo), with what the page shows."""
    schedule = bond_schedule(values, code)
    if schedule is None:
        return None
    price_bp = schedule["redemption"]["price_bp"]
    return {
        **schedule,
        "structure": schedule["terms"]["structure"],
        "asset": schedule["terms"]["asset"],
        "maturity": schedule["redemption"]["date"],
        "price": f"{price_bp // 100}.{price_bp % 100:02d}%",
    }


@router.get("/instruments/{code}/register")
def register(web: Web, request: Request, viewer: LoggedIn, code: Code) -> Response:
    """The holder register as a printable page: the issuer and agencies in scope."""
    record = _instrument(web, code)
    if not may_read_holders(viewer.who, record):
        raise PageError(403, "error.forbidden")
    rows = _holders(web, code)
    return web.render(
        request,
        "register.html",
        viewer,
        instrument=record,
        rows=rows,
        height=web.api.head_height(),
    )


@router.get("/instruments/{code}/register.csv")
def register_csv(web: Web, viewer: LoggedIn, code: Code) -> Response:
    """The register as CSV: the signed route's answer, under the same rules."""
    return reports.register_route(viewer.who, web.api, code, None)


@router.get("/explorer")
def explorer(
    web: Web,
    request: Request,
    viewer: LoggedIn,
    before: Annotated[int | None, Query(ge=0)] = None,
    tx: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """Recent blocks (agencies and the operator), and a transaction search for everyone."""
    if tx:
        if len(tx) == 64 and all(c in "0123456789abcdefABCDEF" for c in tx):
            return RedirectResponse(f"/explorer/tx/{tx.lower()}", status_code=303)
        raise PageError(400, "error.bad_tx_id")
    blocks: list[tuple[str, Header]] = []
    older = None
    if may_read_block(viewer.who):
        head = web.api.head_height()
        last = head if before is None else min(before - 1, head)
        first = max(0, last - BLOCKS_PER_PAGE + 1)
        blocks = _headers(web, first, last) if last >= 0 else []
        older = first if first > 0 else None
    return web.render(request, "explorer.html", viewer, blocks=blocks, older=older)


@router.get("/explorer/blocks/{height}")
def block(
    web: Web, request: Request, viewer: LoggedIn, height: Annotated[int, Path(ge=0)]
) -> Response:
    """One block's header and its transactions with their outcomes."""
    if not may_read_block(viewer.who):
        raise PageError(403, "error.forbidden")
    record = web.api.node.store.get_block(height)
    if record is None:
        raise PageError(404, "error.not_found")
    txs = [(t.tx_id.hex(), decode(t.receipt, Receipt).code) for t in record.txs]
    return web.render(
        request,
        "block.html",
        viewer,
        height=height,
        hash=record.header_hash.hex(),
        header=decode(record.header, Header),
        txs=txs,
    )


@router.get("/explorer/tx/{tx_id}")
def transaction(web: Web, request: Request, viewer: LoggedIn, tx_id: TxId) -> Response:
    """A transaction, its receipt, and the in-page check of its inclusion proofs."""
    answer = web.api.reader.tx(bytes.fromhex(tx_id))
    if answer is None:
        raise PageError(404, "error.not_found")
    envelope, body = decode_envelope(answer.envelope)
    receipt = decode(answer.receipt, Receipt)
    values = web.api.node.ledger.values
    subjects = tx_subjects(envelope.sender, body, receipt, lambda c: values.get(instrument_key(c)))
    if not may_read_tx(viewer.who, subjects):
        raise PageError(404, "error.not_found")  # as the API: a 404 never says it exists
    return web.render(
        request,
        "tx.html",
        viewer,
        tx_id=tx_id.lower(),
        height=answer.height,
        index=answer.index,
        sender=envelope.sender,
        nonce=envelope.nonce,
        body=to_json(body),
        receipt=to_json(receipt),
        executors=[k.hex() for k in web.chain.executors],
    )


@router.get("/issuer")
def issuer_console(web: Web, request: Request, viewer: LoggedIn) -> Response:
    """The issuer's own instruments, their registers, and their distributions."""
    if not viewer.issuer:
        raise PageError(403, "error.forbidden")
    own = [i for i in _instruments(web) if i.issuer == viewer.party.id]
    rows: list[dict[str, Any]] = []
    for record in own:
        count, _ = web.api.reader.holder_count(record.code)
        rows.append(
            {
                "instrument": record,
                "holders": count,
                "distributions": web.history.distributions_of(record.code),
            }
        )
    decimals = {i.code: i.decimals for i in _instruments(web)}
    return web.render(request, "issuer.html", viewer, rows=rows, decimals=decimals)
