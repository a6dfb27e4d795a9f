"""Signed reads: parties, balances with proofs, holders, stats, transactions, blocks, the
access log. Each route authenticates the reader (``rantai.api.auth``), asks one function of
``rantai.api.policy``, and reads through the node's ``Reader``.

Order of answers, the same on every route: 401 (authentication, before anything else),
400 (path and query), 404 for what is public anyway (an unknown instrument, a height above
the head), 403 (``forbidden``), then 404 for private things (a party, an account, a
transaction), so that a reader cannot learn that a private thing exists from a 404.

Threads: routes that only look at in-memory state are ``async`` and run on the event loop;
routes that read the store or take the node's block lock (which a block holds while it
executes) are plain functions, which FastAPI runs in its thread pool.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi import Header as HttpHeader
from starlette.responses import Response

from rantai.api.access import mark_agency, request_target
from rantai.api.auth import SignedHeaders
from rantai.api.context import ApiContext, context_of
from rantai.api.errors import FORBIDDEN, NOT_FOUND, ApiError, JsonResponse
from rantai.api.policy import (
    Who,
    may_list_parties,
    may_list_positions,
    may_read_access_log,
    may_read_balance,
    may_read_block,
    may_read_holders,
    may_read_party,
    may_read_stats,
    may_read_tx,
    position_visible,
    tx_subjects,
)
from rantai.api.public import LIMIT_DEFAULT, HeightParam, Limit, resolve_height
from rantai.api.schemas import (
    AccessLogPage,
    BalanceInfo,
    BlockInfo,
    HolderPage,
    InstrumentStats,
    NonceInfo,
    PartyInfo,
    PartyPage,
    PositionPage,
    TxInfo,
    error_responses,
)
from rantai.api.views import stored_header_info
from rantai.core.block import BlockSignature, Header, Receipt
from rantai.core.encoding import decode
from rantai.core.errors import InvariantError
from rantai.core.ids import ACCOUNT_ID_PATTERN, INSTRUMENT_CODE_PATTERN, PARTY_ID_PATTERN
from rantai.core.jsonform import to_json
from rantai.core.records import (
    Instrument,
    account_key,
    balance_key,
    instrument_key,
    nonce_key,
    party_key,
)
from rantai.core.tx import decode_envelope
from rantai.crypto.hashing import ZERO_DIGEST
from rantai.node.reads import Page
from rantai.store.base import INT64_MAX

__all__ = ["router"]

FORBIDDEN_MESSAGE: Final = "outside the reader's scope"

PartyParam = Annotated[str, Path(pattern=PARTY_ID_PATTERN)]
AccountParam = Annotated[str, Path(pattern=ACCOUNT_ID_PATTERN)]
CodeParam = Annotated[str, Path(pattern=INSTRUMENT_CODE_PATTERN)]
PastHeight = Annotated[int | None, Query(ge=0, le=INT64_MAX, description="default: head")]
Ctx = Annotated[ApiContext, Depends(context_of)]


async def signed_headers(
    party: Annotated[str, HttpHeader(alias="Rantai-Party", description="the reader's party id")],
    key: Annotated[str, HttpHeader(alias="Rantai-Key", description="public key, hex")],
    timestamp: Annotated[str, HttpHeader(alias="Rantai-Timestamp", description="ms, decimal")],
    nonce: Annotated[str, HttpHeader(alias="Rantai-Nonce", description="16 bytes, hex")],
    signature: Annotated[str, HttpHeader(alias="Rantai-Signature", description="hex")],
) -> SignedHeaders:
    """The five ``Rantai-*`` headers (declared, so that the OpenAPI schema lists them)."""
    return SignedHeaders(party, key, timestamp, nonce, signature)


async def authenticate(
    request: Request, ctx: Ctx, headers: Annotated[SignedHeaders, Depends(signed_headers)]
) -> Who:
    """The authenticated reader; an agency's request is marked for the access log.

    On the event loop: no I/O, and one Ed25519 verification (~70 us) costs less than a hop
    through the thread pool (measured: each hop about doubled a signed read's latency)."""
    path, query = request_target(request.scope)
    # A signed POST (a dry run) covers its body; Starlette keeps it for the route to parse.
    body = b"" if request.method == "GET" else await request.body()
    who = ctx.auth.authenticate(request.method, path, query, headers, body)
    if who.agency:
        mark_agency(request.scope, who.party)
    return who


SignedReader = Annotated[Who, Depends(authenticate)]
router = APIRouter(tags=["signed reads"])


def _doc(model: type, *statuses: int) -> dict[int | str, dict[str, Any]]:
    return {200: {"model": model}, **error_responses(400, 401, *statuses, 503)}


def require(allowed: bool) -> None:
    """Refuse with 403 unless ``allowed``."""
    if not allowed:
        raise ApiError(FORBIDDEN, FORBIDDEN_MESSAGE)


def instrument_or_404(ctx: ApiContext, code: str) -> Instrument:
    """The instrument ``code``, or 404."""
    record: Instrument | None = ctx.node.ledger.values.get(instrument_key(code))
    if record is None:
        raise ApiError(NOT_FOUND, f"no instrument {code}")
    return record


def _require_account(ctx: ApiContext, account: str) -> None:
    if account_key(account) not in ctx.node.ledger.values:
        raise ApiError(NOT_FOUND, f"no account {account}")


@router.get("/v1/parties/{party_id}", response_model=None, responses=_doc(PartyInfo, 403, 404))
async def party(who: SignedReader, ctx: Ctx, party_id: PartyParam) -> Response:
    """A party's record: the party itself, registrars, agencies."""
    require(may_read_party(who, party_id))
    record = ctx.node.ledger.values.get(party_key(party_id))
    if record is None:
        raise ApiError(NOT_FOUND, f"no party {party_id}")
    return JsonResponse(to_json(record))


@router.get(
    "/v1/parties/{party_id}/nonce", response_model=None, responses=_doc(NonceInfo, 403, 404)
)
async def party_nonce(who: SignedReader, ctx: Ctx, party_id: PartyParam) -> Response:
    """The party's next nonce in committed state (what its next transaction must carry):
    the party itself, registrars, agencies. Transactions still pending are not counted."""
    require(may_read_party(who, party_id))
    values = ctx.node.ledger.values
    if party_key(party_id) not in values:
        raise ApiError(NOT_FOUND, f"no party {party_id}")
    nonce: int = values.get(nonce_key(party_id), 0)
    return JsonResponse({"party": party_id, "nonce": nonce, "height": ctx.head_height()})


@router.get("/v1/parties", response_model=None, responses=_doc(PartyPage, 403))
def parties(
    who: SignedReader,
    ctx: Ctx,
    after: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = LIMIT_DEFAULT,
) -> Response:
    """Parties in id order: registrars, agencies."""
    require(may_list_parties(who))
    page = ctx.reader.parties(after, limit)
    return JsonResponse({"items": to_json(page.items), "next": page.next, "height": page.height})


@router.get(
    "/v1/accounts/{account}/balances",
    response_model=None,
    responses=_doc(PositionPage, 403, 404),
)
def positions(
    who: SignedReader,
    ctx: Ctx,
    account: AccountParam,
    after: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = LIMIT_DEFAULT,
) -> Response:
    """An account's balances: all for the owner; those of its scope for an agency, of its
    own instruments for an issuer (the others are left out)."""
    require(may_list_positions(who, account))
    _require_account(ctx, account)
    values = ctx.node.ledger.values

    def visible(code: str) -> bool:
        record: Instrument | None = values.get(instrument_key(code))
        return record is not None and position_visible(who, account, record)

    page = ctx.reader.positions(account, after, limit, visible)
    items = [{"instrument": code, "amount": amount} for code, amount in page.items]
    return JsonResponse(
        {"account": account, "items": items, "next": page.next, "height": page.height}
    )


@router.get(
    "/v1/balances/{account}/{instrument}",
    response_model=None,
    responses=_doc(BalanceInfo, 403, 404),
)
def balance(
    who: SignedReader,
    ctx: Ctx,
    account: AccountParam,
    instrument: CodeParam,
    height: PastHeight = None,
) -> Response:
    """A balance at the head or a past height, with its state proof and header."""
    record = instrument_or_404(ctx, instrument)
    if height is not None:
        resolve_height(ctx, str(height))
    require(may_read_balance(who, account, record))
    _require_account(ctx, account)
    answer = ctx.reader.state(balance_key(account, instrument), height)
    if answer is None:
        raise ApiError(NOT_FOUND, f"no block at height {height}")
    return JsonResponse(
        {
            "account": account,
            "instrument": instrument,
            "height": answer.height,
            "amount": 0 if answer.value is None else decode(answer.value, int),
            "value": None if answer.value is None else answer.value.hex(),
            "header": _header_at(ctx, answer.height),
            "proof": to_json(answer.proof),
        }
    )


def holders_page(
    ctx: ApiContext, who: Who, code: str, after: str | None, limit: int, height: int | None
) -> Page[tuple[str, int]]:
    """A page of ``code``'s register at the head or ``height``, if ``who`` may read it.

    Answers: not_found (no instrument, or no block at ``height``), forbidden.
    """
    record = instrument_or_404(ctx, code)
    if height is not None:
        resolve_height(ctx, str(height))
    require(may_read_holders(who, record))
    page = ctx.reader.holders(code, after, limit, height)
    if page is None:
        raise ApiError(NOT_FOUND, f"no block at height {height}")
    return page


@router.get(
    "/v1/instruments/{code}/holders",
    response_model=None,
    responses=_doc(HolderPage, 403, 404),
)
def holders(
    who: SignedReader,
    ctx: Ctx,
    code: CodeParam,
    after: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = LIMIT_DEFAULT,
    height: PastHeight = None,
    proofs: Annotated[bool, Query(description="each row with its state proof")] = False,
) -> Response:
    """Holders of an instrument in account order, at the head or a past height; with
    ``proofs``, each row carries the proof of its balance against the page's header, so the
    register can be checked row by row (a record date's, say)."""
    page = holders_page(ctx, who, code, after, limit, height)
    items: list[dict[str, Any]] = [
        {"account": account, "amount": amount} for account, amount in page.items
    ]
    answer: dict[str, Any] = {
        "instrument": code,
        "items": items,
        "next": page.next,
        "height": page.height,
    }
    if proofs:
        for item in items:
            # The page's height, not the head: a block may have landed since the page was read.
            state = ctx.reader.state(balance_key(item["account"], code), page.height)
            if state is None:
                raise InvariantError(f"no state at height {page.height}")
            item["value"] = None if state.value is None else state.value.hex()
            item["proof"] = to_json(state.proof)
        answer["header"] = _header_at(ctx, page.height)
    return JsonResponse(answer)


@router.get(
    "/v1/instruments/{code}/stats",
    response_model=None,
    responses=_doc(InstrumentStats, 403, 404),
)
def stats(who: SignedReader, ctx: Ctx, code: CodeParam) -> Response:
    """Supply and holder count: every agency (the ministry's aggregate view)."""
    record = instrument_or_404(ctx, code)
    require(may_read_stats(who))
    count, height = ctx.reader.holder_count(code)
    return JsonResponse(
        {
            "instrument": code,
            "kind": record.kind,
            "supply": record.supply,
            "holders": count,
            "height": height,
        }
    )


@router.get("/v1/transactions/{tx_id}", response_model=None, responses=_doc(TxInfo, 403, 404))
def transaction(
    who: SignedReader, ctx: Ctx, tx_id: Annotated[str, Path(pattern="^[0-9a-fA-F]{64}$")]
) -> Response:
    """A committed transaction, its receipt, and both inclusion proofs with the header."""
    answer = ctx.reader.tx(bytes.fromhex(tx_id))
    if answer is None:
        raise ApiError(NOT_FOUND, f"no committed transaction {tx_id.lower()}")
    envelope, body = decode_envelope(answer.envelope)
    receipt = decode(answer.receipt, Receipt)
    values = ctx.node.ledger.values
    subjects = tx_subjects(envelope.sender, body, receipt, lambda c: values.get(instrument_key(c)))
    require(may_read_tx(who, subjects))
    return JsonResponse(
        {
            "tx_id": answer.tx_id.hex(),
            "height": answer.height,
            "index": answer.index,
            "sender": envelope.sender,
            "nonce": envelope.nonce,
            "envelope": answer.envelope.hex(),
            "body": to_json(body),
            "receipt": to_json(receipt),
            "header": _header_at(ctx, answer.height),
            "tx_proof": to_json(answer.tx_path),
            "receipt_proof": to_json(answer.receipt_path),
        }
    )


@router.get("/v1/blocks/{height}", response_model=None, responses=_doc(BlockInfo, 403, 404))
def block(who: SignedReader, ctx: Ctx, height: HeightParam) -> Response:
    """A block's header, certificate, transaction ids and receipt codes."""
    require(may_read_block(who))
    wanted = resolve_height(ctx, height)
    record = ctx.node.store.get_block(wanted)
    if record is None:
        raise InvariantError(f"no stored block at {wanted}, below the head")
    return JsonResponse(
        {
            "height": wanted,
            "hash": record.header_hash.hex(),
            "header": to_json(decode(record.header, Header)),
            "certificate": to_json(decode(record.certificate, tuple[BlockSignature, ...])),
            "txs": [
                {"tx_id": t.tx_id.hex(), "code": decode(t.receipt, Receipt).code}
                for t in record.txs
            ],
        }
    )


@router.get("/v1/access-log", response_model=None, responses=_doc(AccessLogPage, 403))
def access_log(
    who: SignedReader,
    ctx: Ctx,
    after: Annotated[int, Query(ge=0, le=INT64_MAX - 1)] = 0,
    limit: Limit = LIMIT_DEFAULT,
) -> Response:
    """The hash-chained log of agency reads, entries after seq ``after``; each item carries
    the previous entry's hash, so a page can be checked on its own."""
    require(may_read_access_log(who))
    ctx.access_log.flush()  # an agency sees every read recorded so far
    rows = list(ctx.node.store.iter_access_log(max(after - 1, 0), limit + 2))
    prev_hash = ZERO_DIGEST
    if after > 0:
        if not rows or rows[0].seq != after:
            return JsonResponse({"items": [], "next": None})
        prev_hash = rows.pop(0).hash
    page, more = rows[:limit], len(rows) > limit
    items = []
    for row in page:
        items.append(
            {
                "seq": row.seq,
                "at_ms": row.at_ms,
                "party": row.party,
                "method": row.method,
                "path": row.path,
                "query": row.query,
                "status": row.status,
                "prev_hash": prev_hash.hex(),
                "hash": row.hash.hex(),
            }
        )
        prev_hash = row.hash
    return JsonResponse({"items": items, "next": page[-1].seq if more else None})


def _header_at(ctx: ApiContext, height: int) -> Any:
    info = stored_header_info(ctx.node.store, height)
    if info is None:
        raise InvariantError(f"no stored header at {height}")
    return info
