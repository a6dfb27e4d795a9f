"""Cash tokens: what a cash instrument is, the central bank's limits on it, and the deposit
references its mints have used (docs/decisions/cash-tokens.md).

A cash instrument (kind ``cash``) may declare its *cash terms* once, before its first mint:
its ISO 4217 currency and whether it is a commercial bank's tokenized ``deposit`` or
``wholesale`` central-bank money. Only an agency with ``cash`` in its genesis scope (the
central bank) may issue wholesale money. A cash instrument with terms needs a deposit
reference on every mint, used once, and a payout reference on every burn; one without terms
(created before this module) keeps the old behaviour.

The central bank alone sets *limits* on a cash instrument: a per-holder balance cap, a
per-transaction cap and, for movements where a party is not resident in the home country,
a per-transaction cap and a cap per rolling day. ``rantai.core.compliance`` runs
``limit_findings`` on every movement of a cash instrument (mint, transfer, burn, settlement
legs, distributions, fund dealing) after the instrument's rules and before the balance, and
``record_limited`` after it, so no path moves cash around them. A limit of 0 is no limit.

Residency is read from claims as the rules read it (``rantai.core.claims.find_claim``): a
party is resident when its counting ``residency`` claim names the home country; a party
without one is treated as non-resident, since it cannot show otherwise. The instrument's
issuer (the licensed bank, or the central bank) is exempt from the holder cap and the
non-resident limits: its own units are not a deposit it holds.

| key | value |
|---|---|
| ``cash/<instrument>`` | ``CashTerms`` |
| ``cashlimit/<instrument>`` | ``CashLimits`` |
| ``cashref/<instrument>/<sha256(reference) hex>`` | int: the height of the mint that used it |
| ``nrflow/<instrument>/<party>`` | ``Window``: a non-resident party's movements, by day |
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

import msgspec

from rantai.core import codes, limits
from rantai.core.claims import find_claim
from rantai.core.errors import Malformed, Rejection
from rantai.core.holdings import holding
from rantai.core.records import CHAIN_KEY, ChainConfig, Instrument, balance_key
from rantai.core.rules import Move, policy_key
from rantai.core.state import StateView, register_namespace
from rantai.core.windows import Window, add_to_window, window_sum
from rantai.crypto.hashing import sha256

__all__ = [
    "DEPOSIT",
    "MONEY_KINDS",
    "WHOLESALE",
    "CashLimits",
    "CashTerms",
    "cash_limits_key",
    "cash_terms_key",
    "check_cash_terms_form",
    "check_country_form",
    "check_limit_amounts",
    "check_payout_reference",
    "has_cash_scope",
    "limit_findings",
    "non_resident_flow_key",
    "record_limited",
    "reference_key",
    "use_deposit_reference",
]

DEPOSIT, WHOLESALE = "deposit", "wholesale"
MONEY_KINDS: Final = (DEPOSIT, WHOLESALE)
NON_RESIDENT_PERIOD_DAYS: Final = 1  # "per rolling day": the current UTC day of block time
_CURRENCY: Final = re.compile(r"[A-Z]{3}")
_COUNTRY: Final = re.compile(r"[A-Z]{2}")


class CashTerms(msgspec.Struct, frozen=True, array_like=True):
    """What a cash instrument is: its currency and its kind of money, declared once."""

    currency: str  # ISO 4217 alphabetic code, e.g. MYR
    money: str  # deposit | wholesale
    declared_height: int


class CashLimits(msgspec.Struct, frozen=True, array_like=True):
    """The central bank's limits on one cash instrument, in its minor units (0: none)."""

    holder_max: int  # the most one holder may hold
    tx_max: int  # the most one movement may move
    non_resident_tx_max: int  # the most one movement with a non-resident party may move
    non_resident_day_max: int  # the most a non-resident party may move per rolling day
    home_country: str  # ISO 3166-1 alpha-2: residents hold a residency claim naming it
    set_by: str  # the agency that set them
    set_height: int


def cash_terms_key(instrument: str) -> str:
    return f"cash/{instrument}"


def cash_limits_key(instrument: str) -> str:
    return f"cashlimit/{instrument}"


def reference_key(instrument: str, reference: str) -> str:
    """Where a used deposit reference is kept: keyed by its hash, so any text fits a key."""
    return f"cashref/{instrument}/{sha256(reference.encode()).hex()}"


def non_resident_flow_key(instrument: str, party: str) -> str:
    return f"nrflow/{instrument}/{party}"


def check_cash_terms_form(currency: str, money: str) -> None:
    """Raise Malformed(bad_field) unless ``currency`` has the ISO 4217 form and ``money`` is
    one of ``MONEY_KINDS``."""
    if _CURRENCY.fullmatch(currency) is None:
        raise Malformed(codes.BAD_FIELD, "currency: an ISO 4217 code, three capital letters")
    if money not in MONEY_KINDS:
        raise Malformed(codes.BAD_FIELD, f"money: one of {MONEY_KINDS}")


def check_country_form(country: str) -> None:
    """Raise Malformed(bad_field) unless ``country`` has the ISO 3166-1 alpha-2 form."""
    if _COUNTRY.fullmatch(country) is None:
        raise Malformed(codes.BAD_FIELD, "home_country: ISO 3166-1 alpha-2, two capitals")


def has_cash_scope(view: StateView, party: str) -> bool:
    """Whether ``party`` is an agency whose genesis scope includes cash (the central bank)."""
    chain: ChainConfig | None = view.get(CHAIN_KEY)
    if chain is None:
        return False
    return any(a.party == party and "cash" in a.scope for a in chain.agencies)


def use_deposit_reference(
    view: StateView, instrument: Instrument, reference: str, height: int
) -> None:
    """For a mint of a cash instrument with terms: require a deposit reference not used
    before on this instrument, and mark it used.

    Rejects, in order: reference_required, reference_used.
    """
    if view.get(cash_terms_key(instrument.code)) is None:
        return
    if not reference:
        raise Rejection(codes.REFERENCE_REQUIRED, "a mint of cash needs its deposit reference")
    key = reference_key(instrument.code, reference)
    if view.get(key) is not None:
        raise Rejection(codes.REFERENCE_USED, f"deposit reference used at height {view.get(key)}")
    view.put(key, height)


def check_payout_reference(view: StateView, instrument: Instrument, reference: str) -> None:
    """For a burn of a cash instrument with terms: require a payout reference.

    Rejects: reference_required.
    """
    if not reference and view.get(cash_terms_key(instrument.code)) is not None:
        raise Rejection(codes.REFERENCE_REQUIRED, "a burn of cash needs its payout reference")


def limit_findings(view: StateView, move: Move) -> Iterator[tuple[str, str]]:
    """Yield ``(code, reason)`` for each limit ``move`` breaks, in this order: cash_tx_cap,
    cash_holder_cap (the destination), non_resident_limit (per movement, then per day: the
    source's side, then the destination's). Nothing for an instrument without limits."""
    found: CashLimits | None = view.get(cash_limits_key(move.instrument.code))
    if found is None:
        return
    lim, amount = found, move.amount
    if lim.tx_max and amount > lim.tx_max:
        yield codes.CASH_TX_CAP, f"{amount} above the per-transaction cap {lim.tx_max}"
    issuer = move.instrument.issuer
    if lim.holder_max and move.destination and move.destination_party != issuer:
        after = _held_after(view, move)
        if after is not None and after > lim.holder_max:
            yield codes.CASH_HOLDER_CAP, f"{move.destination_party} would hold {after}"
    if not (lim.non_resident_tx_max or lim.non_resident_day_max):
        return
    outsiders = _non_residents(view, move, lim)
    if outsiders and lim.non_resident_tx_max and amount > lim.non_resident_tx_max:
        yield (
            codes.NON_RESIDENT_LIMIT,
            f"{outsiders[0]} non-resident: {amount} above {lim.non_resident_tx_max}",
        )
        return
    if lim.non_resident_day_max:
        for party in outsiders:
            key = non_resident_flow_key(move.instrument.code, party)
            moved = window_sum(view, key, move.timestamp_ms, NON_RESIDENT_PERIOD_DAYS)
            if moved + amount > lim.non_resident_day_max:
                yield (
                    codes.NON_RESIDENT_LIMIT,
                    f"{party} non-resident: moved {moved} today; {amount} more exceeds "
                    f"{lim.non_resident_day_max}",
                )
                return


def record_limited(view: StateView, move: Move) -> None:
    """After ``move`` succeeded, count it in each non-resident party's daily window."""
    found: CashLimits | None = view.get(cash_limits_key(move.instrument.code))
    if found is None or not found.non_resident_day_max:
        return
    for party in _non_residents(view, move, found):
        key = non_resident_flow_key(move.instrument.code, party)
        add_to_window(view, key, move.timestamp_ms, move.amount)


def _held_after(view: StateView, move: Move) -> int | None:
    """What the destination would hold after ``move``: across its accounts when the
    instrument keeps holdings (a tracked policy), else in the destination account. None
    when the move changes nothing the holder holds (between its own accounts, tracked)."""
    code = move.instrument.code
    policy = view.get(policy_key(code))
    if policy is not None and policy.tracked:
        if move.internal:
            return None
        return holding(view, code, move.destination_party) + move.amount
    value: int | None = view.get(balance_key(move.destination, code))
    return (0 if value is None else value) + move.amount


def _non_residents(view: StateView, move: Move, lim: CashLimits) -> tuple[str, ...]:
    """The movement's parties (source first) that are not residents, the issuer exempt."""
    out: list[str] = []
    for party in (move.source_party, move.destination_party):
        if not party or party == move.instrument.issuer or party in out:
            continue
        claim = find_claim(view, party, "residency", move.timestamp_ms)
        if isinstance(claim, str) or claim.value != lim.home_country:
            out.append(party)
    return tuple(out)


def check_limit_amounts(*amounts: int) -> None:
    """Raise Malformed(bad_amount) unless every limit is 0 (none) to AMOUNT_MAX."""
    if any(not 0 <= a <= limits.AMOUNT_MAX for a in amounts):
        raise Malformed(codes.BAD_AMOUNT, f"limits: 0 (none) to {limits.AMOUNT_MAX}")


register_namespace("cash", CashTerms)
register_namespace("cashlimit", CashLimits)
register_namespace("cashref", int)
register_namespace("nrflow", Window)
