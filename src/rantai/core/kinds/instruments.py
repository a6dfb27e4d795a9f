"""Instruments: creation, minting (issuance) and burning (redemption).

An instrument's ``supply`` is kept equal to the sum of its balances: every mint credits one
balance and raises supply by the same amount; every burn does the reverse. A mint is a
movement into an account and a burn one out of it: both pass the compliance checks
(``rantai.core.compliance``) as a transfer does.
"""

from __future__ import annotations

from msgspec.structs import replace

from rantai.core import codes, limits
from rantai.core.access import (
    credit,
    debit,
    has_role,
    require_account,
    require_instrument,
    require_issuer_or_agent,
    require_owned_account,
    require_party,
)
from rantai.core.bonds import check_certified
from rantai.core.cash import check_payout_reference, use_deposit_reference
from rantai.core.compliance import check_movement, record_movement
from rantai.core.errors import Malformed, Rejection
from rantai.core.ids import check_account_id, check_amount, check_instrument_code, check_text
from rantai.core.records import INSTRUMENT_KINDS, Instrument, instrument_key
from rantai.core.rules import Move
from rantai.core.tx import TxBody, TxContext

__all__ = ["Burn", "CreateInstrument", "Mint"]


class CreateInstrument(TxBody, frozen=True, tag="create_instrument"):
    """Create an instrument issued by the sender: a cash issuer for cash, an issuer otherwise."""

    code: str
    kind: str
    name: str
    decimals: int
    supply_cap: int

    def check_form(self) -> None:
        check_amount(self.supply_cap, "supply_cap")
        check_instrument_code(self.code, "code")
        check_text(self.name, "name", limits.NAME_CHARS_MAX)
        if self.kind not in INSTRUMENT_KINDS:
            raise Malformed(codes.BAD_FIELD, f"kind: one of {INSTRUMENT_KINDS}")
        if not 0 <= self.decimals <= limits.DECIMALS_MAX:
            raise Malformed(codes.BAD_FIELD, f"decimals: 0 to {limits.DECIMALS_MAX}")

    def apply(self, ctx: TxContext) -> None:
        sender = require_party(ctx.view, ctx.sender)
        role = "cash_issuer" if self.kind == "cash" else "issuer"
        if not has_role(sender, role):
            raise Rejection(codes.NOT_AUTHORIZED, f"creating a {self.kind} instrument needs {role}")
        if ctx.view.get(instrument_key(self.code)) is not None:
            raise Rejection(codes.ALREADY_EXISTS, f"instrument {self.code!r} exists")
        instrument = Instrument(
            code=self.code,
            kind=self.kind,
            name=self.name,
            decimals=self.decimals,
            issuer=sender.id,
            supply_cap=self.supply_cap,
            supply=0,
            created_height=ctx.height,
        )
        ctx.view.put(instrument_key(self.code), instrument)
        ctx.emit("instrument_created", instrument=self.code, kind=self.kind, issuer=sender.id)


class Mint(TxBody, frozen=True, tag="mint"):
    """Issue ``amount`` new units into ``to``. Sender: the issuer or one of its agents.

    Rejects, in order: unknown_instrument, not_authorized, unknown_account,
    reference_required, reference_used (cash with terms, ``rantai.core.cash``),
    not_certified (a sukuk without a Shariah certification in force),
    supply_cap_exceeded, the compliance checks, balance_overflow.
    """

    instrument: str
    to: str
    amount: int
    reference: str

    def check_form(self) -> None:
        check_amount(self.amount)
        check_instrument_code(self.instrument)
        check_account_id(self.to, "to")
        check_text(self.reference, "reference", limits.REFERENCE_CHARS_MAX, empty_ok=True)

    def apply(self, ctx: TxContext) -> None:
        instrument = require_issuer_or_agent(ctx.view, self.instrument, ctx.sender)
        account = require_account(ctx.view, self.to)
        use_deposit_reference(ctx.view, instrument, self.reference, ctx.height)
        if instrument.kind == "sukuk":
            check_certified(ctx.view, instrument.code, ctx.timestamp_ms)
        if instrument.supply + self.amount > instrument.supply_cap:
            raise Rejection(
                codes.SUPPLY_CAP_EXCEEDED,
                f"supply {instrument.supply} + {self.amount} > cap {instrument.supply_cap}",
            )
        move = Move(
            "mint", instrument, "", "", account.id, account.owner, self.amount, ctx.timestamp_ms
        )
        policy = check_movement(ctx.view, move)
        tracked = policy is not None and policy.tracked
        credit(ctx.view, self.to, self.instrument, self.amount, tracked=tracked)
        ctx.view.put(
            instrument_key(self.instrument),
            replace(instrument, supply=instrument.supply + self.amount),
        )
        record_movement(ctx.view, move, policy)
        ctx.emit(
            "mint",
            instrument=self.instrument,
            to=self.to,
            amount=self.amount,
            reference=self.reference,
        )


class Burn(TxBody, frozen=True, tag="burn"):
    """Destroy ``amount`` units held in ``account``. Sender: the account's owner.

    Rejects, in order: unknown_instrument, unknown_account, not_authorized,
    reference_required (cash with terms), the compliance checks (whose last is
    insufficient_balance).
    """

    instrument: str
    account: str
    amount: int
    reference: str

    def check_form(self) -> None:
        check_amount(self.amount)
        check_instrument_code(self.instrument)
        check_account_id(self.account)
        check_text(self.reference, "reference", limits.REFERENCE_CHARS_MAX, empty_ok=True)

    def apply(self, ctx: TxContext) -> None:
        instrument = require_instrument(ctx.view, self.instrument)
        account = require_owned_account(ctx.view, self.account, ctx.sender)
        check_payout_reference(ctx.view, instrument, self.reference)
        move = Move(
            "burn", instrument, account.id, account.owner, "", "", self.amount, ctx.timestamp_ms
        )
        policy = check_movement(ctx.view, move)
        debit(
            ctx.view,
            self.account,
            self.instrument,
            self.amount,
            tracked=policy is not None and policy.tracked,
        )
        ctx.view.put(
            instrument_key(self.instrument),
            replace(instrument, supply=instrument.supply - self.amount),
        )
        record_movement(ctx.view, move, policy)
        ctx.emit(
            "burn",
            instrument=self.instrument,
            account=self.account,
            amount=self.amount,
            reference=self.reference,
        )
