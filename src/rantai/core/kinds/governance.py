"""Governance transactions: an agency proposes an action, agencies approve it, and the
approval that meets the action class's threshold executes it in the same transaction.

Who must approve what, and who may veto, is in ``rantai.core.governance``; the actions in
``rantai.core.actions``. The proposer's own proposal counts as its approval. If executing
fails (the account emptied meanwhile, say), the approving transaction is rejected with the
action's code and its approval is not recorded: the proposal stays open, and a later
approval may execute it once the action is possible again.
"""

from __future__ import annotations

from msgspec.structs import replace

from rantai.core import codes, limits
from rantai.core.actions import EXECUTED, OPEN, VETOED, AnyAction, Proposal
from rantai.core.errors import Malformed, Rejection
from rantai.core.governance import (
    LegalBasis,
    proposal_key,
    require_agency,
    threshold_of,
    vetoers_of,
)
from rantai.core.ids import check_text, check_tx_id
from rantai.core.tx import TxBody, TxContext

__all__ = ["Approve", "Propose", "Veto"]


def _check_note(note: str) -> None:
    check_text(note, "note", limits.NOTE_CHARS_MAX, empty_ok=True)


class Propose(TxBody, frozen=True, tag="propose"):
    """Propose ``action`` on ``basis``; approvals are taken until ``expires_ms``.

    ``valid_until_ms`` (0: none) limits a time-limited action (freezes, suspensions, market
    halts). Sender: an agency. Rejects, in order: not_authorized, bad_time (expiry not in
    the future or beyond ``PROPOSAL_TTL_MS_MAX``; validity not in the future), the action's
    own checks; then, if the proposer alone meets the threshold, the action's execution.
    """

    action: AnyAction
    basis: LegalBasis
    note: str
    expires_ms: int
    valid_until_ms: int

    def check_form(self) -> None:
        self.action.check_form()
        self.basis.check_form()
        _check_note(self.note)
        if not 0 < self.expires_ms <= limits.TIMESTAMP_MS_MAX:
            raise Malformed(codes.BAD_FIELD, "expires_ms: a positive block time")
        if not 0 <= self.valid_until_ms <= limits.TIMESTAMP_MS_MAX:
            raise Malformed(codes.BAD_FIELD, "valid_until_ms: 0 or a block time")
        if self.valid_until_ms and not self.action.time_limited:
            raise Malformed(codes.BAD_FIELD, "valid_until_ms: only for time-limited actions")

    def apply(self, ctx: TxContext) -> None:
        require_agency(ctx.view, ctx.sender)
        now = ctx.timestamp_ms
        if not now < self.expires_ms <= now + limits.PROPOSAL_TTL_MS_MAX:
            raise Rejection(codes.BAD_TIME, "expires_ms: after now, within the longest TTL")
        if self.valid_until_ms and self.valid_until_ms <= now:
            raise Rejection(codes.BAD_TIME, "valid_until_ms is past")
        self.action.validate(ctx.view, now)
        proposal = Proposal(
            id=ctx.tx_id.hex(),
            action=self.action,
            basis=self.basis,
            note=self.note,
            proposer=ctx.sender,
            created_ms=now,
            expires_ms=self.expires_ms,
            valid_until_ms=self.valid_until_ms,
            approvals=(ctx.sender,),
            status=OPEN,
            closed_by="",
            executed_ms=0,
        )
        ctx.emit(
            "proposal_created",
            proposal=proposal.id,
            action=str(self.action.__struct_config__.tag),
            action_class=self.action.action_class,
            basis=self.basis.code,
            reference=self.basis.reference,
            document_hash=self.basis.document_hash.hex(),
            by=ctx.sender,
        )
        _record(ctx, proposal)


def _record(ctx: TxContext, proposal: Proposal) -> None:
    """Store ``proposal``, executing it first if its approvals meet the threshold."""
    if len(proposal.approvals) >= threshold_of(ctx.view, proposal.action.action_class):
        proposal.action.validate(ctx.view, ctx.timestamp_ms)
        proposal.action.execute(ctx, proposal)
        proposal = replace(proposal, status=EXECUTED, executed_ms=ctx.timestamp_ms)
        ctx.emit("proposal_executed", proposal=proposal.id, approvals=len(proposal.approvals))
    ctx.view.put(proposal_key(proposal.id), proposal)


def _require_open(ctx: TxContext, proposal_id: str) -> Proposal:
    require_agency(ctx.view, ctx.sender)
    proposal: Proposal | None = ctx.view.get(proposal_key(proposal_id))
    if proposal is None:
        raise Rejection(codes.UNKNOWN_PROPOSAL, f"no proposal {proposal_id[:80]!r}")
    if proposal.status != OPEN:
        raise Rejection(codes.PROPOSAL_CLOSED, f"proposal is {proposal.status}")
    if ctx.timestamp_ms >= proposal.expires_ms:
        raise Rejection(codes.PROPOSAL_EXPIRED, f"expired at {proposal.expires_ms}")
    return proposal


def _check_proposal_form(proposal: str, note: str) -> None:
    check_tx_id(proposal, "proposal")
    _check_note(note)


class Approve(TxBody, frozen=True, tag="approve"):
    """Approve an open proposal; the approval that meets the threshold executes it.

    Sender: an agency. Rejects, in order: not_authorized, unknown_proposal,
    proposal_closed, proposal_expired, already_approved, then the action's own checks.
    """

    proposal: str
    note: str

    def check_form(self) -> None:
        _check_proposal_form(self.proposal, self.note)

    def apply(self, ctx: TxContext) -> None:
        proposal = _require_open(ctx, self.proposal)
        if ctx.sender in proposal.approvals:
            raise Rejection(codes.ALREADY_APPROVED, f"{ctx.sender!r} approved already")
        proposal = replace(proposal, approvals=(*proposal.approvals, ctx.sender))
        ctx.emit("proposal_approved", proposal=proposal.id, by=ctx.sender, note=self.note)
        _record(ctx, proposal)


class Veto(TxBody, frozen=True, tag="veto"):
    """Veto an open proposal, where governance gave the sender a veto on its class.

    Sender: an agency. Rejects, in order: not_authorized, unknown_proposal,
    proposal_closed, proposal_expired, not_authorized (no veto on the class).
    """

    proposal: str
    note: str

    def check_form(self) -> None:
        _check_proposal_form(self.proposal, self.note)

    def apply(self, ctx: TxContext) -> None:
        proposal = _require_open(ctx, self.proposal)
        if ctx.sender not in vetoers_of(ctx.view, proposal.action.action_class):
            raise Rejection(codes.NOT_AUTHORIZED, f"no veto on {proposal.action.action_class}")
        ctx.view.put(
            proposal_key(proposal.id), replace(proposal, status=VETOED, closed_by=ctx.sender)
        )
        ctx.emit("proposal_vetoed", proposal=proposal.id, by=ctx.sender, note=self.note)
