"""Typed reads and the balance moves every kind shares.

Each ``require_*`` returns the record or raises the ``unknown_*`` rejection, so kinds read
like their specification. ``credit`` and ``debit`` are the only writers of balances: they
keep zero balances out of state (absent means zero) and never let one go negative or past
``AMOUNT_MAX``. On an instrument with a tracked policy they also keep the owner's holding
across its accounts and the holder count (``rantai.core.holdings``), and while a record date
of the instrument is open they save the balance it replaces (``rantai.core.record_dates``),
so no writer of balances can forget them.
"""

from __future__ import annotations

from rantai.core import codes, limits
from rantai.core.agents import is_agent
from rantai.core.errors import Rejection, invariant
from rantai.core.holdings import balance, track_holding
from rantai.core.ids import account_owner
from rantai.core.record_dates import snapshot_before_change
from rantai.core.records import (
    Account,
    Instrument,
    Party,
    account_key,
    balance_key,
    instrument_key,
    party_key,
)
from rantai.core.rules import policy_key
from rantai.core.state import StateView

__all__ = [
    "balance",
    "credit",
    "debit",
    "has_role",
    "is_tracked",
    "require_account",
    "require_instrument",
    "require_owned_account",
    "require_issuer_or_agent",
    "require_party",
]


def require_party(view: StateView, party: str) -> Party:
    """Return party ``party``. Rejects: unknown_party."""
    record: Party | None = view.get(party_key(party))
    if record is None:
        raise Rejection(codes.UNKNOWN_PARTY, f"no party {party!r}")
    return record


def require_account(view: StateView, account: str) -> Account:
    """Return account ``account``. Rejects: unknown_account."""
    record: Account | None = view.get(account_key(account))
    if record is None:
        raise Rejection(codes.UNKNOWN_ACCOUNT, f"no account {account!r}")
    return record


def require_owned_account(view: StateView, account: str, owner: str) -> Account:
    """Return ``account`` if ``owner`` owns it. Rejects: unknown_account, not_authorized."""
    record = require_account(view, account)
    if record.owner != owner:
        raise Rejection(codes.NOT_AUTHORIZED, f"{owner!r} does not own {account!r}")
    return record


def require_instrument(view: StateView, code: str) -> Instrument:
    """Return instrument ``code``. Rejects: unknown_instrument."""
    record: Instrument | None = view.get(instrument_key(code))
    if record is None:
        raise Rejection(codes.UNKNOWN_INSTRUMENT, f"no instrument {code!r}")
    return record


def require_issuer_or_agent(view: StateView, code: str, sender: str) -> Instrument:
    """Return instrument ``code`` if ``sender`` is its issuer, or one of the issuer's agents
    that still holds the ``issuer_agent`` role.

    Rejects: unknown_instrument, not_authorized.
    """
    instrument = require_instrument(view, code)
    if instrument.issuer == sender:
        return instrument
    agent: Party | None = view.get(party_key(sender))
    if (
        agent is None
        or not has_role(agent, "issuer_agent")
        or not is_agent(view, instrument.issuer, sender)
    ):
        raise Rejection(
            codes.NOT_AUTHORIZED, f"{sender!r} neither issues {code!r} nor is its agent"
        )
    return instrument


def has_role(party: Party, role: str) -> bool:
    """Return whether ``party`` holds ``role``."""
    return role in party.roles


def is_tracked(view: StateView, instrument: str) -> bool:
    """Whether ``instrument``'s holdings and holder count are kept (``rantai.core.rules``)."""
    policy = view.get(policy_key(instrument))
    return policy is not None and bool(policy.tracked)


def credit(
    view: StateView, account: str, instrument: str, amount: int, *, tracked: bool | None = None
) -> None:
    """Add ``amount`` to a balance. Rejects: balance_overflow.

    ``tracked`` says whether the instrument is tracked, when the caller knows already;
    ``None`` looks it up.
    """
    invariant(amount > 0, "credit of a non-positive amount")
    key = balance_key(account, instrument)
    current: int = view.get(key) or 0
    if current + amount > limits.AMOUNT_MAX:
        raise Rejection(codes.BALANCE_OVERFLOW, f"{account!r} would exceed {limits.AMOUNT_MAX}")
    snapshot_before_change(view, account, instrument, current)
    view.put(key, current + amount)
    if tracked is None:
        tracked = is_tracked(view, instrument)
    if tracked:
        track_holding(view, instrument, account_owner(account), account, current, current + amount)


def debit(
    view: StateView, account: str, instrument: str, amount: int, *, tracked: bool | None = None
) -> None:
    """Subtract ``amount`` from a balance. Rejects: insufficient_balance.

    ``tracked`` as for ``credit``.
    """
    invariant(amount > 0, "debit of a non-positive amount")
    key = balance_key(account, instrument)
    current: int = view.get(key) or 0
    if current < amount:
        raise Rejection(
            codes.INSUFFICIENT_BALANCE,
            f"{account!r} holds {current} of {instrument!r}, not {amount}",
        )
    snapshot_before_change(view, account, instrument, current)
    if current == amount:
        view.delete(key)
    else:
        view.put(key, current - amount)
    if tracked is None:
        tracked = is_tracked(view, instrument)
    if tracked:
        track_holding(view, instrument, account_owner(account), account, current, current - amount)
