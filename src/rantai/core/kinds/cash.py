"""Cash tokens: create one with its terms, declare the terms of one created before, and the
central bank's limits on it. The records and the checks on movements are in
``rantai.core.cash`` (docs/decisions/cash-tokens.md).
"""

from __future__ import annotations

from rantai.core import codes, limits
from rantai.core.access import has_role, require_instrument, require_party
from rantai.core.cash import (
    WHOLESALE,
    CashLimits,
    CashTerms,
    cash_limits_key,
    cash_terms_key,
    check_cash_terms_form,
    check_country_form,
    check_limit_amounts,
    has_cash_scope,
)
from rantai.core.errors import Malformed, Rejection
from rantai.core.ids import check_amount, check_instrument_code, check_text
from rantai.core.records import Instrument, instrument_key
from rantai.core.tx import TxBody, TxContext

__all__ = ["CreateCash", "SetCashLimits", "SetCashTerms"]


def _may_issue(ctx: TxContext, money: str) -> None:
    """Wholesale central-bank money: only an agency with cash in scope; a tokenized
    deposit: only a licensed bank (the cash_issuer role). Rejects: not_authorized."""
    if money == WHOLESALE:
        if not has_cash_scope(ctx.view, ctx.sender):
            raise Rejection(codes.NOT_AUTHORIZED, "wholesale money: the central bank only")
    elif not has_role(require_party(ctx.view, ctx.sender), "cash_issuer"):
        raise Rejection(codes.NOT_AUTHORIZED, "a tokenized deposit needs the cash_issuer role")


def _declare(ctx: TxContext, code: str, currency: str, money: str) -> None:
    ctx.view.put(cash_terms_key(code), CashTerms(currency, money, ctx.height))
    ctx.emit("cash_terms", instrument=code, currency=currency, money=money)


class CreateCash(TxBody, frozen=True, tag="create_cash"):
    """Create a cash instrument issued by the sender, with its terms: ``currency`` (ISO
    4217) and ``money`` (``deposit``: a licensed bank's tokenized deposit; ``wholesale``:
    central-bank money, issued by an agency with cash in its scope).

    Rejects, in order: not_authorized, already_exists.
    """

    code: str
    name: str
    decimals: int
    supply_cap: int
    currency: str
    money: str

    def check_form(self) -> None:
        check_amount(self.supply_cap, "supply_cap")
        check_instrument_code(self.code, "code")
        check_text(self.name, "name", limits.NAME_CHARS_MAX)
        if not 0 <= self.decimals <= limits.DECIMALS_MAX:
            raise Malformed(codes.BAD_FIELD, f"decimals: 0 to {limits.DECIMALS_MAX}")
        check_cash_terms_form(self.currency, self.money)

    def apply(self, ctx: TxContext) -> None:
        _may_issue(ctx, self.money)
        if ctx.view.get(instrument_key(self.code)) is not None:
            raise Rejection(codes.ALREADY_EXISTS, f"instrument {self.code!r} exists")
        instrument = Instrument(
            code=self.code,
            kind="cash",
            name=self.name,
            decimals=self.decimals,
            issuer=ctx.sender,
            supply_cap=self.supply_cap,
            supply=0,
            created_height=ctx.height,
        )
        ctx.view.put(instrument_key(self.code), instrument)
        ctx.emit("instrument_created", instrument=self.code, kind="cash", issuer=ctx.sender)
        _declare(ctx, self.code, self.currency, self.money)


class SetCashTerms(TxBody, frozen=True, tag="set_cash_terms"):
    """Declare the terms of a cash instrument made by ``create_instrument``, once and before
    its first mint. Sender: its issuer.

    Rejects, in order: unknown_instrument, not_authorized (not the issuer), not_cash,
    already_exists (terms declared), terms_locked (units minted), not_authorized (wholesale
    money by other than the central bank).
    """

    instrument: str
    currency: str
    money: str

    def check_form(self) -> None:
        check_instrument_code(self.instrument)
        check_cash_terms_form(self.currency, self.money)

    def apply(self, ctx: TxContext) -> None:
        instrument = require_instrument(ctx.view, self.instrument)
        if instrument.issuer != ctx.sender:
            raise Rejection(codes.NOT_AUTHORIZED, f"{ctx.sender!r} does not issue it")
        if instrument.kind != "cash":
            raise Rejection(codes.NOT_CASH, f"{self.instrument} is a {instrument.kind}")
        if ctx.view.get(cash_terms_key(self.instrument)) is not None:
            raise Rejection(codes.ALREADY_EXISTS, "cash terms are declared once")
        if instrument.supply:
            raise Rejection(codes.TERMS_LOCKED, "cash terms come before the first mint")
        _may_issue(ctx, self.money)
        _declare(ctx, self.instrument, self.currency, self.money)


class SetCashLimits(TxBody, frozen=True, tag="set_cash_limits"):
    """Set (or replace) the central bank's limits on a cash instrument, in its minor units,
    0 for none: per holder, per movement, and for non-residents of ``home_country`` per
    movement and per rolling day. Sender: an agency with cash in its scope.

    Rejects, in order: not_authorized, unknown_instrument, not_cash.
    """

    instrument: str
    holder_max: int
    tx_max: int
    non_resident_tx_max: int
    non_resident_day_max: int
    home_country: str

    def check_form(self) -> None:
        check_limit_amounts(
            self.holder_max, self.tx_max, self.non_resident_tx_max, self.non_resident_day_max
        )
        check_instrument_code(self.instrument)
        check_country_form(self.home_country)

    def apply(self, ctx: TxContext) -> None:
        if not has_cash_scope(ctx.view, ctx.sender):
            raise Rejection(codes.NOT_AUTHORIZED, "cash limits: an agency with cash in scope")
        instrument = require_instrument(ctx.view, self.instrument)
        if instrument.kind != "cash":
            raise Rejection(codes.NOT_CASH, f"{self.instrument} is a {instrument.kind}")
        record = CashLimits(
            self.holder_max,
            self.tx_max,
            self.non_resident_tx_max,
            self.non_resident_day_max,
            self.home_country,
            ctx.sender,
            ctx.height,
        )
        ctx.view.put(cash_limits_key(self.instrument), record)
        ctx.emit(
            "cash_limits",
            instrument=self.instrument,
            holder_max=self.holder_max,
            tx_max=self.tx_max,
            non_resident_tx_max=self.non_resident_tx_max,
            non_resident_day_max=self.non_resident_day_max,
            home_country=self.home_country,
            agency=ctx.sender,
        )
