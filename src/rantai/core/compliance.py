"""The one place a movement is checked against enforcement and the instrument's rules.

Every movement — a transfer's, a mint's, a burn's — goes through ``findings``, in this order
(the order of ``codes``):

1. ``market_halted``: a circuit breaker in force on the instrument's kind;
2. ``instrument_suspended``: a governance suspension in force;
3. ``paused``: the issuer paused the instrument (transfers only);
4. ``sanctioned``: the source's, then the destination's owner is blocked by a sanctions hit
   from a currently trusted screener;
5. ``frozen``: a whole freeze in force on the source (its owner, or it), then the destination;
6. the instrument's rules that apply to the movement's kind, in list order (``rule:*``),
   then for a cash instrument the central bank's limits (``cash_tx_cap``,
   ``cash_holder_cap``, ``non_resident_limit``; ``rantai.core.cash``);
7. ``insufficient_balance``, then ``frozen_amount`` (the balance less partial freezes), then
   ``earmarked`` (the balance less partial freezes and the earmarks of affirmed settlement
   instructions in force, ``rantai.core.settlement``).

``check_movement`` (execution) raises the first; ``findings(..., every=True)`` (a dry run)
lists them all. A movement on an instrument without a policy, between parties without
controls, reads five keys more than before this module: the policy, the breaker of its
kind, each owner's controls, and the source's earmarks (settlement, one read). A movement
of cash always runs ``findings``, which reads its limits (one key more).
"""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from rantai.core import codes
from rantai.core.access import balance
from rantai.core.cash import limit_findings, record_limited
from rantai.core.claims import trusted_issuers
from rantai.core.controls import (
    Breaker,
    PartyControls,
    breaker_key,
    ctl_key,
    frozen_amount,
    in_force,
    whole_freeze,
)
from rantai.core.errors import Rejection
from rantai.core.rules import TRANSFER, Move, Policy, policy_key
from rantai.core.settlement import earmark_key, earmarked
from rantai.core.state import StateView

__all__ = ["Finding", "check_movement", "findings", "record_movement"]


class Finding(msgspec.Struct, frozen=True, array_like=True):
    """One reason a movement would be refused: what checked it, its code, and why."""

    check: str  # "enforcement", "balance", a rule's tag, or a kind's own check
    code: str
    reason: str


def findings(
    view: StateView, move: Move, policy: Policy | None, *, every: bool = False
) -> Iterator[Finding]:
    """Yield each reason ``move`` fails, in the documented order.

    With ``every`` false the balance is checked only where a partial freeze needs it (the
    debit that follows checks it anyway), so execution reads nothing it does not need.
    """
    now = move.timestamp_ms
    breaker: Breaker | None = view.get(breaker_key(move.instrument.kind))
    if breaker is not None and in_force(breaker.valid_until_ms, now):
        yield Finding("enforcement", codes.MARKET_HALTED, f"{breaker.kind} halted")
    if policy is not None:
        suspension = policy.suspension
        if suspension is not None and in_force(suspension.valid_until_ms, now):
            yield Finding("enforcement", codes.INSTRUMENT_SUSPENDED, move.instrument.code)
        if policy.paused and move.kind == TRANSFER:
            yield Finding("enforcement", codes.PAUSED, f"{move.instrument.code} paused")
    source_ctl: PartyControls | None = view.get(ctl_key(move.source_party)) if move.source else None
    dest_ctl: PartyControls | None = (
        view.get(ctl_key(move.destination_party)) if move.destination else None
    )
    if source_ctl is not None or dest_ctl is not None:
        yield from _controls(view, move, source_ctl, dest_ctl)
    if policy is not None:
        terms = policy.terms
        for rule in policy.rules:
            if move.kind in rule.applies_to:
                reason = rule.check(view, move, terms)
                if reason is not None:
                    yield Finding(str(rule.__struct_config__.tag), rule.code, reason)
    if move.instrument.kind == "cash":
        for code, reason in limit_findings(view, move):
            yield Finding("cash_limits", code, reason)
    if move.source and (
        every
        or source_ctl is not None
        or view.get(earmark_key(move.source, move.instrument.code)) is not None
    ):
        yield from _available(view, move, source_ctl)


def _controls(
    view: StateView, move: Move, source: PartyControls | None, dest: PartyControls | None
) -> Iterator[Finding]:
    sides = (
        (move.source_party, move.source, source),
        (move.destination_party, move.destination, dest),
    )
    for party, _, controls in sides:
        if controls is not None and controls.sanctions_hits:
            screeners = trusted_issuers(view, "sanctions_screened")
            hits = [h for h in controls.sanctions_hits if h in screeners]
            if hits:
                yield Finding(
                    "enforcement", codes.SANCTIONED, f"{party}: screening revoked by {hits[0]}"
                )
    for _, account, controls in sides:
        if controls is None:
            continue
        freeze = whole_freeze(controls, account, move.instrument.code, move.timestamp_ms)
        if freeze is not None:
            yield Finding(
                "enforcement", codes.FROZEN, f"{account} frozen by {freeze.authority} ({freeze.id})"
            )


def _available(view: StateView, move: Move, controls: PartyControls | None) -> Iterator[Finding]:
    held = balance(view, move.source, move.instrument.code)
    if held < move.amount:
        yield Finding("balance", codes.INSUFFICIENT_BALANCE, f"{move.source} holds {held}")
        return
    frozen = 0
    if controls is not None:
        frozen = frozen_amount(controls, move.source, move.instrument.code, move.timestamp_ms)
        if frozen and move.amount > held - frozen:
            yield Finding(
                "enforcement",
                codes.FROZEN_AMOUNT,
                f"{move.source} holds {held} of which {frozen} frozen",
            )
            return
    marked = earmarked(view, move.source, move.instrument.code, move.timestamp_ms)
    if marked and move.amount > held - frozen - marked:
        yield Finding(
            "settlement",
            codes.EARMARKED,
            f"{move.source} holds {held} of which {frozen} frozen and {marked} earmarked",
        )


def check_movement(view: StateView, move: Move) -> Policy | None:
    """Check ``move`` for execution; return the instrument's policy (None: it has none).

    Rejects with the first finding's code (see the module docstring for the order). When
    there is nothing to check — no policy, no breaker, no controls on either owner, no
    earmarks on the source — it returns after those five reads, without starting
    ``findings``.
    """
    policy: Policy | None = view.get(policy_key(move.instrument.code))
    if (
        policy is None
        and move.instrument.kind != "cash"
        and view.get(breaker_key(move.instrument.kind)) is None
        and (not move.source or view.get(ctl_key(move.source_party)) is None)
        and (not move.destination or view.get(ctl_key(move.destination_party)) is None)
        and (not move.source or view.get(earmark_key(move.source, move.instrument.code)) is None)
    ):
        return None
    for finding in findings(view, move, policy):
        raise Rejection(finding.code, finding.reason)
    return policy


def record_movement(view: StateView, move: Move, policy: Policy | None) -> None:
    """After ``move`` succeeded, let each applying rule update its own state."""
    if move.instrument.kind == "cash":
        record_limited(view, move)
    if policy is None:
        return
    for rule in policy.rules:
        if move.kind in rule.applies_to:
            rule.record(view, move, policy.terms)
