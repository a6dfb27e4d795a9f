"""Dry runs and what-ifs: pure questions about committed state, answered without a transaction.

* ``explain`` — "would this movement pass?": every reason it would be refused, in the order
  execution checks them (a kind's own checks, then ``rantai.core.compliance.findings``),
  rather than the first only. An empty answer means it would pass against this state at
  this block time; a later block may still differ.
* ``what_if`` — "if these rules took effect, which current holders would not comply?":
  each rule's ``check_holder`` for every holder, and ``check_register`` for the instrument.

Both read a mapping of committed state (``Ledger.values``) through a fresh ``StateView`` and
write nothing. The block time is the caller's: the head block's timestamp, or the time the
next block is expected. The API exposes them as read-only routes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import msgspec

from rantai.core import codes
from rantai.core.access import require_issuer_or_agent
from rantai.core.compliance import Finding, findings
from rantai.core.errors import Malformed, Rejection
from rantai.core.ids import account_owner
from rantai.core.kinds.instruments import Burn, Mint
from rantai.core.kinds.transfers import BatchTransfer, Movement, Transfer, TravelTransfer
from rantai.core.records import Account, Instrument, account_key, instrument_key
from rantai.core.rules import AnyRule, Holder, Move, Policy, Terms, new_policy, policy_key
from rantai.core.state import StateView
from rantai.core.travel import TravelData, check_travel
from rantai.core.tx import TxBody

__all__ = ["HolderFinding", "explain", "holdings_of", "what_if"]


class HolderFinding(msgspec.Struct, frozen=True, array_like=True):
    """One current holder (or, with ``party`` empty, the instrument) failing one rule."""

    party: str
    check: str  # the rule's tag
    code: str
    reason: str


def explain(
    state: Mapping[str, Any], timestamp_ms: int, sender: str, body: TxBody
) -> tuple[Finding, ...]:
    """Every reason ``body`` (transfer, travel_transfer, batch_transfer, mint, burn) sent by
    ``sender`` would be refused at ``timestamp_ms``; empty if it would pass.

    A batch's movements are each checked against the same state, not one after another.
    Raises ValueError for other kinds, which have no dry run.
    """
    view = StateView(state)
    try:
        body.check_form()
    except Malformed as exc:
        return (Finding("form", exc.code, exc.message),)
    if isinstance(body, Transfer | TravelTransfer):
        travel = body.travel if isinstance(body, TravelTransfer) else None
        return tuple(_transfer(view, timestamp_ms, sender, body.movement(), travel))
    if isinstance(body, BatchTransfer):
        out: list[Finding] = []
        for movement in body.movements:
            out.extend(_transfer(view, timestamp_ms, sender, movement, None))
        return tuple(out)
    if isinstance(body, Mint):
        return tuple(_mint(view, timestamp_ms, sender, body))
    if isinstance(body, Burn):
        return tuple(_burn(view, timestamp_ms, sender, body))
    raise ValueError(f"no dry run for {body.__struct_config__.tag!r}")


def _transfer(
    view: StateView, ts: int, sender: str, movement: Movement, travel: TravelData | None
) -> Iterator[Finding]:
    instrument: Instrument | None = view.get(instrument_key(movement.instrument))
    source: Account | None = view.get(account_key(movement.source))
    destination: Account | None = view.get(account_key(movement.destination))
    if instrument is None:
        yield Finding("transfer", codes.UNKNOWN_INSTRUMENT, movement.instrument)
    if source is None:
        yield Finding("transfer", codes.UNKNOWN_ACCOUNT, movement.source)
    elif source.owner != sender:
        yield Finding("transfer", codes.NOT_AUTHORIZED, f"{sender} does not own {source.id}")
    if destination is None:
        yield Finding("transfer", codes.UNKNOWN_ACCOUNT, movement.destination)
    if movement.source == movement.destination:
        yield Finding("transfer", codes.SELF_TRANSFER, movement.source)
    if instrument is None or source is None or destination is None:
        return
    move = Move(
        "transfer",
        instrument,
        source.id,
        source.owner,
        destination.id,
        destination.owner,
        movement.amount,
        ts,
        travel is not None,
    )
    yield from findings(view, move, view.get(policy_key(instrument.code)), every=True)
    if travel is not None:
        try:
            check_travel(view, travel, source.owner, destination.owner)
        except Rejection as exc:
            yield Finding("travel", exc.code, exc.message)


def _mint(view: StateView, ts: int, sender: str, body: Mint) -> Iterator[Finding]:
    instrument: Instrument | None = view.get(instrument_key(body.instrument))
    account: Account | None = view.get(account_key(body.to))
    if instrument is None:
        yield Finding("mint", codes.UNKNOWN_INSTRUMENT, body.instrument)
    else:
        try:
            require_issuer_or_agent(view, body.instrument, sender)
        except Rejection as exc:
            yield Finding("mint", exc.code, exc.message)
    if account is None:
        yield Finding("mint", codes.UNKNOWN_ACCOUNT, body.to)
    if instrument is None or account is None:
        return
    if instrument.supply + body.amount > instrument.supply_cap:
        yield Finding("mint", codes.SUPPLY_CAP_EXCEEDED, f"cap {instrument.supply_cap}")
    move = Move("mint", instrument, "", "", account.id, account.owner, body.amount, ts)
    yield from findings(view, move, view.get(policy_key(instrument.code)), every=True)


def _burn(view: StateView, ts: int, sender: str, body: Burn) -> Iterator[Finding]:
    instrument: Instrument | None = view.get(instrument_key(body.instrument))
    account: Account | None = view.get(account_key(body.account))
    if instrument is None:
        yield Finding("burn", codes.UNKNOWN_INSTRUMENT, body.instrument)
    if account is None:
        yield Finding("burn", codes.UNKNOWN_ACCOUNT, body.account)
    elif account.owner != sender:
        yield Finding("burn", codes.NOT_AUTHORIZED, f"{sender} does not own {account.id}")
    if instrument is None or account is None:
        return
    move = Move("burn", instrument, account.id, account.owner, "", "", body.amount, ts)
    yield from findings(view, move, view.get(policy_key(instrument.code)), every=True)


def holdings_of(state: Mapping[str, Any], instrument: str) -> list[tuple[str, int]]:
    """Every ``(account, units)`` of ``instrument``, by scanning all of ``state``.

    Linear in the state: for tests and small chains. A node passes its holder index instead.
    """
    suffix = f"/{instrument}"
    return sorted(
        (key[len("bal/") : -len(suffix)], value)
        for key, value in state.items()
        if key.startswith("bal/") and key.endswith(suffix)
    )


def what_if(
    state: Mapping[str, Any],
    timestamp_ms: int,
    instrument: str,
    rules: tuple[AnyRule, ...],
    terms: Terms,
    holdings: Iterable[tuple[str, int]],
) -> tuple[HolderFinding, ...]:
    """Which current holders of ``instrument`` would fail ``rules`` under ``terms``.

    ``holdings`` lists ``(account, units)``; accounts are summed per owner. Findings come
    by party id, then in rule order; instrument-wide ones (``party`` "") first. Raises
    KeyError for an unknown instrument.
    """
    view = StateView(state)
    record: Instrument | None = view.get(instrument_key(instrument))
    if record is None:
        raise KeyError(instrument)
    policy: Policy = view.get(policy_key(instrument)) or new_policy(record)
    out: list[HolderFinding] = []
    if not policy.tracked and any(r.needs_tracking for r in rules):
        out.append(HolderFinding("", "change_rules", codes.NEEDS_TRACKING, "not tracked"))
    per_party: dict[str, int] = defaultdict(int)
    for account, units in holdings:
        if units > 0:
            per_party[account_owner(account)] += units
    for rule in rules:
        reason = rule.check_register(record, len(per_party))
        if reason is not None:
            out.append(HolderFinding("", _tag(rule), rule.code, reason))
    for party in sorted(per_party):
        holder = Holder(party, per_party[party], record, timestamp_ms)
        for rule in rules:
            reason = rule.check_holder(view, holder, terms)
            if reason is not None:
                out.append(HolderFinding(party, _tag(rule), rule.code, reason))
    return tuple(out)


def _tag(rule: AnyRule) -> str:
    return str(rule.__struct_config__.tag)
