"""Enforcement state: freezes, sanctions blocks, suspensions and circuit breakers.

| key | value |
|---|---|
| ``ctl/<party>`` | ``PartyControls``: freezes on the party and its accounts; sanctions blocks |
| ``breaker/<instrument kind>`` | ``Breaker``: a market-wide halt of one asset class |

An instrument's own suspension lives in its policy (``rantai.core.rules.Policy``), so a
movement reads one record per instrument, one per party and one per asset class.

A ``Freeze`` is whole (``amount == 0``: nothing moves out of or into what it covers) or
partial (``amount > 0`` units of one instrument in one account stay put: a debit may only
take the balance less the frozen amount). It covers the whole party (``account == ""``) or
one account, and every instrument (``instrument == ""``) or one. A freeze with
``valid_until_ms`` stops applying once block time reaches it, with no transaction needed;
lapsed freezes are pruned the next time the record is written.
"""

from __future__ import annotations

import msgspec

from rantai.core import codes, limits
from rantai.core.errors import Rejection
from rantai.core.state import StateView, register_namespace

__all__ = [
    "GOVERNANCE",
    "Breaker",
    "Freeze",
    "PartyControls",
    "Suspension",
    "add_freeze",
    "breaker_key",
    "ctl_key",
    "frozen_amount",
    "in_force",
    "put_controls",
    "remove_freezes",
    "set_sanctions_hit",
    "whole_freeze",
]

GOVERNANCE = "governance"  # the authority of a freeze that agencies ordered


class Freeze(msgspec.Struct, frozen=True, array_like=True):
    """A freeze in force on a party, one of its accounts, or an amount in one account."""

    id: str  # the proposal id (governance) or the issuing transaction id (issuer)
    authority: str  # "governance", or the issuer whose instrument it covers
    actor: str  # the party that sent the transaction which made it take effect
    account: str  # "" for every account of the party
    instrument: str  # "" for every instrument
    amount: int  # 0 for a whole freeze; else units that stay in the account
    valid_until_ms: int  # 0 until lifted; else it lapses at this block time


class PartyControls(msgspec.Struct, frozen=True, array_like=True):
    """Everything that blocks one party's movements."""

    sanctions_hits: tuple[str, ...]  # screeners that revoked the party's screening, sorted
    freezes: tuple[Freeze, ...]


class Suspension(msgspec.Struct, frozen=True, array_like=True):
    """A governance suspension of one instrument."""

    proposal: str
    valid_until_ms: int


class Breaker(msgspec.Struct, frozen=True, array_like=True):
    """A governance halt of every instrument of one kind."""

    kind: str
    proposal: str
    valid_until_ms: int


def ctl_key(party: str) -> str:
    return f"ctl/{party}"


def breaker_key(kind: str) -> str:
    return f"breaker/{kind}"


def in_force(valid_until_ms: int, timestamp_ms: int) -> bool:
    """Whether a time-limited measure still applies at ``timestamp_ms`` (0: no limit)."""
    return valid_until_ms == 0 or timestamp_ms < valid_until_ms


def _covers(freeze: Freeze, account: str, instrument: str, timestamp_ms: int) -> bool:
    return (
        freeze.account in ("", account)
        and freeze.instrument in ("", instrument)
        and in_force(freeze.valid_until_ms, timestamp_ms)
    )


def whole_freeze(
    controls: PartyControls, account: str, instrument: str, timestamp_ms: int
) -> Freeze | None:
    """The first whole freeze in force on ``account`` for ``instrument``, if any."""
    for freeze in controls.freezes:
        if freeze.amount == 0 and _covers(freeze, account, instrument, timestamp_ms):
            return freeze
    return None


def frozen_amount(controls: PartyControls, account: str, instrument: str, timestamp_ms: int) -> int:
    """Units of ``instrument`` in ``account`` held by partial freezes in force."""
    return sum(
        f.amount
        for f in controls.freezes
        if f.amount and _covers(f, account, instrument, timestamp_ms)
    )


def put_controls(view: StateView, party: str, controls: PartyControls) -> None:
    """Write ``controls``, or delete the key when nothing is left in it."""
    if controls.sanctions_hits or controls.freezes:
        view.put(ctl_key(party), controls)
    else:
        view.delete(ctl_key(party))


def add_freeze(view: StateView, party: str, freeze: Freeze, timestamp_ms: int) -> None:
    """Add ``freeze`` to ``party``'s controls, pruning lapsed ones. Rejects: too_many_items."""
    controls: PartyControls | None = view.get(ctl_key(party))
    hits = () if controls is None else controls.sanctions_hits
    kept = (
        []
        if controls is None
        else [f for f in controls.freezes if in_force(f.valid_until_ms, timestamp_ms)]
    )
    if len(kept) >= limits.FREEZES_PER_PARTY_MAX:
        raise Rejection(codes.TOO_MANY_ITEMS, f"{party!r} has {len(kept)} freezes in force")
    put_controls(view, party, PartyControls(hits, (*kept, freeze)))


register_namespace("ctl", PartyControls)
register_namespace("breaker", Breaker)


def set_sanctions_hit(
    view: StateView, party: str, screener: str, trusted: tuple[str, ...], *, hit: bool
) -> None:
    """Record (``hit``) or lift ``screener``'s sanctions hit on ``party``.

    Hits of screeners no longer in ``trusted`` count for nothing and are dropped on the way,
    so a record holds at most ``TRUSTED_ISSUERS_MAX`` hits.
    """
    controls: PartyControls | None = view.get(ctl_key(party))
    if controls is None and not hit:
        return
    current = PartyControls((), ()) if controls is None else controls
    hits = {h for h in current.sanctions_hits if h in trusted and h != screener}
    if hit:
        hits.add(screener)
    put_controls(view, party, PartyControls(tuple(sorted(hits)), current.freezes))


def remove_freezes(
    view: StateView,
    party: str,
    ids: set[str] | None = None,
    *,
    authority: str = "",
    account: str = "",
    instrument: str = "",
) -> int:
    """Remove ``party``'s freezes with an id in ``ids`` (or, with ``ids`` None, every freeze
    of ``authority`` on ``account`` and ``instrument``); return how many went."""
    controls: PartyControls | None = view.get(ctl_key(party))
    if controls is None:
        return 0

    def goes(f: Freeze) -> bool:
        if ids is not None:
            return f.id in ids
        return (f.authority, f.account, f.instrument) == (authority, account, instrument)

    kept = tuple(f for f in controls.freezes if not goes(f))
    put_controls(view, party, PartyControls(controls.sanctions_hits, kept))
    return len(controls.freezes) - len(kept)
