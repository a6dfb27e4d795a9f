"""Bonds and sukuk through their life: terms, Shariah certification, rate fixings, periodic
payments, partial redemption, calls and puts, and redemption or dissolution
(``rantai.core.bonds``)."""

from __future__ import annotations

from fractions import Fraction

from msgspec.structs import replace

from rantai.core import codes, limits
from rantai.core.access import balance as balance_of
from rantai.core.access import (
    debit,
    has_role,
    is_tracked,
    require_account,
    require_instrument,
    require_issuer_or_agent,
    require_owned_account,
    require_party,
)
from rantai.core.bonds import (
    ACTIVE,
    BP,
    REDEEMED,
    BondState,
    BondTerms,
    Certification,
    OptionDate,
    bond_key,
    bond_state_key,
    certification_key,
    distribution_kind,
    fixing_key,
    income_per_unit,
    late_charge,
    late_days,
    periods_paid,
    profit_key,
    put_key,
    put_prefix,
    redemption,
    require_bond,
    schedule,
)
from rantai.core.dates import check_date, day_of, parse_date
from rantai.core.distributions import (
    Payout,
    pay_holders,
    pay_one,
    per_unit_amounts,
    pro_rata_amounts,
)
from rantai.core.errors import Malformed, Rejection
from rantai.core.ids import (
    check_account_id,
    check_amount,
    check_instrument_code,
    check_slug,
    check_text,
)
from rantai.core.kinds.lifecycle import close_record, require_final_record
from rantai.core.record_dates import holders_at
from rantai.core.records import Account, Instrument, instrument_key
from rantai.core.schedule import Period
from rantai.core.tx import TxBody, TxContext

__all__ = [
    "CallBond",
    "CertifyShariah",
    "DeclareProfit",
    "ExercisePut",
    "PartialRedeem",
    "PayPeriod",
    "PublishFixing",
    "RedeemBond",
    "SetBondTerms",
    "SettlePuts",
]


def _per_minor_unit(per_unit: Fraction, instrument: Instrument) -> Fraction:
    """An amount per whole unit as an amount per minor unit of the instrument."""
    return per_unit / Fraction(10**instrument.decimals)


def _payer(ctx: TxContext, terms: BondTerms) -> tuple[Instrument, Account]:
    return require_instrument(ctx.view, terms.cash), require_account(ctx.view, terms.payer)


class SetBondTerms(TxBody, frozen=True, tag="set_bond_terms"):
    """Give a bond or sukuk its terms, once, before its first unit. Sender: its issuer.

    Rejects, in order: unknown_instrument, not_authorized, wrong_instrument_kind (a bond
    with a sukuk structure or a sukuk without one), terms_locked (terms set, or units
    exist), unknown_instrument (cash), not_cash, unknown_account (payer, residue, charity),
    not_authorized (the payer account is not the issuer's).
    """

    instrument: str
    terms: BondTerms

    def check_form(self) -> None:
        check_instrument_code(self.instrument)
        self.terms.check_form()

    def apply(self, ctx: TxContext) -> None:
        view = ctx.view
        instrument = require_instrument(view, self.instrument)
        if instrument.issuer != ctx.sender:
            raise Rejection(codes.NOT_AUTHORIZED, "only the issuer sets the terms")
        expected = "sukuk" if self.terms.structure else "bond"
        if instrument.kind != expected:
            raise Rejection(
                codes.WRONG_INSTRUMENT_KIND, f"{self.instrument} is a {instrument.kind}"
            )
        if instrument.supply or view.get(bond_key(self.instrument)) is not None:
            raise Rejection(codes.TERMS_LOCKED, "terms are set once, before the first unit")
        cash = require_instrument(view, self.terms.cash)
        if cash.kind != "cash":
            raise Rejection(codes.NOT_CASH, f"{self.terms.cash} is a {cash.kind} instrument")
        payer = require_account(view, self.terms.payer)
        require_account(view, self.terms.residue_account)
        if self.terms.structure:
            require_account(view, self.terms.charity_account)
        if payer.owner != instrument.issuer:
            raise Rejection(codes.NOT_AUTHORIZED, f"{payer.id} is not the issuer's")
        view.put(bond_key(self.instrument), self.terms)
        view.put(
            bond_state_key(self.instrument),
            BondState(self.terms.face, 1, "", 0, ACTIVE),
        )
        ctx.emit(
            "bond_terms",
            instrument=self.instrument,
            structure=self.terms.structure,
            income=self.terms.income.kind,
            maturity=self.terms.maturity_date,
            periods=len(schedule(self.terms)),
        )


class CertifyShariah(TxBody, frozen=True, tag="certify_shariah"):
    """Record a Shariah adviser's pronouncement on a sukuk, valid until ``valid_until_ms``.

    A sukuk cannot be minted without one in force; governance may revoke it
    (``revoke_certification``). Sender: a party with the ``shariah_adviser`` role.
    Rejects, in order: unknown_instrument, wrong_instrument_kind, not_authorized, bad_time.
    """

    instrument: str
    document_hash: bytes
    valid_until_ms: int

    def check_form(self) -> None:
        check_instrument_code(self.instrument)
        if len(self.document_hash) != 32:
            raise Malformed(codes.BAD_FIELD, "document_hash: 32 bytes (SHA-256)")
        if not 0 < self.valid_until_ms <= limits.TIMESTAMP_MS_MAX:
            raise Malformed(codes.BAD_FIELD, "valid_until_ms: a time in milliseconds")

    def apply(self, ctx: TxContext) -> None:
        instrument = require_instrument(ctx.view, self.instrument)
        if instrument.kind != "sukuk":
            raise Rejection(codes.WRONG_INSTRUMENT_KIND, f"{self.instrument} is not a sukuk")
        if not has_role(require_party(ctx.view, ctx.sender), "shariah_adviser"):
            raise Rejection(codes.NOT_AUTHORIZED, "certifying needs the shariah_adviser role")
        if self.valid_until_ms <= ctx.timestamp_ms:
            raise Rejection(codes.BAD_TIME, "valid_until_ms already past")
        record = Certification(
            ctx.sender, self.document_hash, ctx.timestamp_ms, self.valid_until_ms, 0, ""
        )
        ctx.view.put(certification_key(self.instrument), record)
        ctx.emit(
            "shariah_certified",
            instrument=self.instrument,
            adviser=ctx.sender,
            document_hash=self.document_hash.hex(),
            valid_until_ms=self.valid_until_ms,
        )


class PublishFixing(TxBody, frozen=True, tag="publish_fixing"):
    """Publish an index's rate observation for a date. Sender: a party with the ``oracle``
    role; a floating instrument counts only its named oracle's fixings.

    Rejects, in order: not_authorized, already_exists (a fixing is never revised; a
    correction is a new index name, on the record).
    """

    index: str
    date: str
    rate_bp: int

    def check_form(self) -> None:
        check_text(self.index, "index", limits.NAME_CHARS_MAX)
        if "/" in self.index:
            raise Malformed(codes.BAD_FIELD, "index: no '/'")
        check_date(self.date, "date")
        if not -BP < self.rate_bp <= 10 * BP:
            raise Malformed(codes.BAD_FIELD, "rate_bp: -9999 to 100000")

    def apply(self, ctx: TxContext) -> None:
        if not has_role(require_party(ctx.view, ctx.sender), "oracle"):
            raise Rejection(codes.NOT_AUTHORIZED, "publishing fixings needs the oracle role")
        key = fixing_key(ctx.sender, self.index, self.date)
        if ctx.view.get(key) is not None:
            raise Rejection(codes.ALREADY_EXISTS, f"{self.index} fixing for {self.date} exists")
        ctx.view.put(key, self.rate_bp)
        ctx.emit(
            "fixing", oracle=ctx.sender, index=self.index, date=self.date, rate_bp=self.rate_bp
        )


class DeclareProfit(TxBody, frozen=True, tag="declare_profit"):
    """Declare the actual profit of a musharakah or mudarabah period (0: none was made).

    Sender: the issuer or its agent. Rejects, in order: unknown_instrument, not_authorized,
    no_bond_terms, bond_redeemed, wrong_instrument_kind (not a declared-profit sukuk),
    wrong_period (not the next unpaid period), already_exists.
    """

    instrument: str
    period: int
    amount: int

    def check_form(self) -> None:
        check_instrument_code(self.instrument)
        _check_period(self.period)
        if not 0 <= self.amount <= limits.AMOUNT_MAX:
            raise Malformed(codes.BAD_AMOUNT, "amount: 0 to AMOUNT_MAX")

    def apply(self, ctx: TxContext) -> None:
        require_issuer_or_agent(ctx.view, self.instrument, ctx.sender)
        terms, state = require_bond(ctx.view, self.instrument)
        if terms.income.kind != "declared":
            raise Rejection(codes.WRONG_INSTRUMENT_KIND, "only partnership sukuk declare profit")
        if self.period != state.next_period:
            raise Rejection(codes.WRONG_PERIOD, f"the next period is {state.next_period}")
        key = profit_key(self.instrument, self.period)
        if ctx.view.get(key) is not None:
            raise Rejection(codes.ALREADY_EXISTS, f"profit for period {self.period} declared")
        ctx.view.put(key, self.amount)
        ctx.emit(
            "profit_declared", instrument=self.instrument, period=self.period, amount=self.amount
        )


class PayPeriod(TxBody, frozen=True, tag="pay_period"):
    """Pay period ``period``'s coupon, rental or profit to the holders at record date
    ``record``, on or after its payment date.

    A sukuk paid late adds ta'widh for the holders and pays gharamah to the charity account
    (``rantai.core.bonds``). Sender: the issuer or its agent. Rejects, in order:
    unknown_instrument, not_authorized, no_bond_terms, bond_redeemed, no_income,
    wrong_period, not_due, unknown_record, record_closed, record_not_final,
    record_too_early, no_fixing, profit_not_declared, no_holders, the payment's own
    (insufficient_balance; the residue's and gharamah's checks).
    """

    instrument: str
    period: int
    record: str

    def check_form(self) -> None:
        check_instrument_code(self.instrument)
        _check_period(self.period)
        check_slug(self.record, "record")

    def apply(self, ctx: TxContext) -> None:
        view = ctx.view
        instrument = require_issuer_or_agent(view, self.instrument, ctx.sender)
        terms, state = require_bond(view, self.instrument)
        if terms.income.kind == "zero":
            raise Rejection(codes.NO_INCOME, f"{self.instrument} pays only at maturity")
        periods = schedule(terms)
        if self.period != state.next_period or self.period > len(periods):
            raise Rejection(codes.WRONG_PERIOD, f"the next period is {state.next_period}")
        period = periods[self.period - 1]
        today = day_of(ctx.timestamp_ms)
        if today < parse_date(period.payment_date, "payment_date"):
            raise Rejection(codes.NOT_DUE, f"period {self.period} is due {period.payment_date}")
        record = require_final_record(ctx, self.instrument, self.record)
        if day_of(record.timestamp_ms) < parse_date(period.record_date, "record_date"):
            raise Rejection(
                codes.RECORD_TOO_EARLY,
                f"period {self.period}'s record date is {period.record_date}",
            )
        holders = holders_at(view, record)
        days_late = late_days(period, today) if terms.structure and terms.late_charge_bp else 0
        payouts, due, base = _period_payouts(
            ctx, instrument, terms, state, period, holders, days_late
        )
        if not holders:
            raise Rejection(codes.NO_HOLDERS, f"nobody held {self.instrument} at {self.record}")
        cash, payer = _payer(ctx, terms)
        kind = distribution_kind(terms)
        if due:
            pay_holders(
                ctx,
                instrument=instrument,
                record=record.name,
                kind=kind,
                pay_instrument=cash,
                source=payer,
                payouts=payouts,
                due=due,
                residue_account=terms.residue_account,
            )
        gharamah = int(late_charge(base, terms.late_charge_bp - terms.tawidh_bp, days_late))
        if gharamah:
            outcome = pay_one(ctx, cash, payer, terms.charity_account, gharamah)
            if outcome != codes.OK:
                raise Rejection(outcome, f"gharamah of {gharamah} to {terms.charity_account}")
        view.put(bond_state_key(self.instrument), replace(state, next_period=self.period + 1))
        if record.open_ballots == 0:
            close_record(ctx, record)
        ctx.emit(
            "period_paid",
            instrument=self.instrument,
            period=self.period,
            kind=kind,
            payment_date=period.payment_date,
            days_late=days_late,
            due=due,
            gharamah=gharamah,
        )


def _period_payouts(
    ctx: TxContext,
    instrument: Instrument,
    terms: BondTerms,
    state: BondState,
    period: Period,
    holders: list[tuple[str, int]],
    days_late: int,
) -> tuple[list[Payout], int, Fraction]:
    """Each holder's amount for ``period``, the total due, and the base that gharamah is
    charged on (the amount due before ta'widh). Rejects: no_fixing, profit_not_declared."""
    view = ctx.view
    per_unit = income_per_unit(view, terms, state, period)
    # Ta'widh scales what each holder is due; gharamah is on the amount due without it.
    with_tawidh = 1 + late_charge(Fraction(1), terms.tawidh_bp, days_late)
    if per_unit is None:
        declared: int | None = view.get(profit_key(instrument.code, period.index))
        if declared is None:
            raise Rejection(codes.PROFIT_NOT_DECLARED, f"declare period {period.index} first")
        total = int(declared * with_tawidh)
        if not total or not holders:
            return [], 0, Fraction(declared)
        payouts, due = pro_rata_amounts(holders, total)
        return payouts, due, Fraction(declared)
    rate = _per_minor_unit(per_unit, instrument)
    base = rate * sum(units for _, units in holders)
    rate *= with_tawidh
    payouts, due = per_unit_amounts(holders, rate.numerator, rate.denominator)
    return payouts, due, base


def _pay_and_burn(
    ctx: TxContext,
    instrument: Instrument,
    terms: BondTerms,
    holders: list[tuple[str, int]],
    per_unit: Fraction,
    *,
    burn: bool,
) -> int:
    """Pay ``per_unit`` (per whole unit) for each holder's units from the payer, as capital;
    then, if ``burn``, take the units out of existence. Returns the cash due."""
    view = ctx.view
    cash, payer = _payer(ctx, terms)
    rate = _per_minor_unit(per_unit, instrument)
    payouts, due = per_unit_amounts(holders, rate.numerator, rate.denominator)
    if due:
        pay_holders(
            ctx,
            instrument=instrument,
            record="",
            kind="capital",
            pay_instrument=cash,
            source=payer,
            payouts=payouts,
            due=due,
            residue_account=terms.residue_account,
        )
    if burn:
        tracked = is_tracked(view, instrument.code)
        burned = 0
        for account, units in holders:
            debit(view, account, instrument.code, units, tracked=tracked)
            burned += units
        current: Instrument = view.get(instrument_key(instrument.code))
        view.put(instrument_key(instrument.code), replace(current, supply=current.supply - burned))
    return due


def _live_holders(ctx: TxContext, instrument: str) -> list[tuple[str, int]]:
    return [(a, balance_of(ctx.view, a, instrument)) for a in ctx.view.accounts_holding(instrument)]


def _option(options: tuple[OptionDate, ...], on: str) -> OptionDate:
    for option in options:
        if option.date == on:
            return option
    raise Rejection(codes.NOT_AN_OPTION_DATE, f"no such option on {on}")


def _require_date(ctx: TxContext, text: str) -> None:
    if day_of(ctx.timestamp_ms) < parse_date(text, "date"):
        raise Rejection(codes.NOT_DUE, f"due {text}")


class PartialRedeem(TxBody, frozen=True, tag="partial_redeem"):
    """Return ``face_amount`` of each whole unit's face to the holders now; the outstanding
    face (and so every later coupon and the final redemption) falls by as much: the pool
    factor. Pay it on a payment date, with the instrument paused from its record date, as for
    a redemption.

    Sender: the issuer or its agent. Rejects, in order: unknown_instrument, not_authorized,
    no_bond_terms, bond_redeemed, partial_too_large (it would leave no face: redeem
    instead), no_holders, the payment's own.
    """

    instrument: str
    face_amount: int

    def check_form(self) -> None:
        check_instrument_code(self.instrument)
        check_amount(self.face_amount, "face_amount")

    def apply(self, ctx: TxContext) -> None:
        instrument = require_issuer_or_agent(ctx.view, self.instrument, ctx.sender)
        terms, state = require_bond(ctx.view, self.instrument)
        if self.face_amount >= state.face:
            raise Rejection(codes.PARTIAL_TOO_LARGE, f"outstanding face is {state.face}")
        holders = _live_holders(ctx, self.instrument)
        if not holders:
            raise Rejection(codes.NO_HOLDERS, f"nobody holds {self.instrument}")
        due = _pay_and_burn(ctx, instrument, terms, holders, Fraction(self.face_amount), burn=False)
        face = state.face - self.face_amount
        ctx.view.put(bond_state_key(self.instrument), replace(state, face=face))
        ctx.emit(
            "partial_redemption",
            instrument=self.instrument,
            face_amount=self.face_amount,
            face=face,
            pool_factor=f"{face}/{terms.face}",
            due=due,
        )


class CallBond(TxBody, frozen=True, tag="call_bond"):
    """Call the instrument for early redemption on call date ``date`` of its terms.

    Sender: the issuer or its agent. Rejects, in order: unknown_instrument, not_authorized,
    no_bond_terms, bond_redeemed, not_an_option_date, bad_time (the date has passed),
    already_exists (called already).
    """

    instrument: str
    date: str

    def check_form(self) -> None:
        check_instrument_code(self.instrument)
        check_date(self.date, "date")

    def apply(self, ctx: TxContext) -> None:
        require_issuer_or_agent(ctx.view, self.instrument, ctx.sender)
        terms, state = require_bond(ctx.view, self.instrument)
        option = _option(terms.calls, self.date)
        if day_of(ctx.timestamp_ms) >= parse_date(self.date, "date"):
            raise Rejection(codes.BAD_TIME, f"call date {self.date} has passed")
        if state.call_date:
            raise Rejection(codes.ALREADY_EXISTS, f"called for {state.call_date}")
        ctx.view.put(
            bond_state_key(self.instrument),
            replace(state, call_date=option.date, call_price_bp=option.price_bp),
        )
        ctx.emit("called", instrument=self.instrument, date=option.date, price_bp=option.price_bp)


class RedeemBond(TxBody, frozen=True, tag="redeem_bond"):
    """Redeem every unit at maturity, or on the call date if called, at the terms' price of
    the outstanding face; for a sukuk this is its dissolution: the obligor buys the assets
    back under its purchase undertaking at that price.

    The holders paid are those of this block: the issuer's agent pauses transfers from the
    record date. Sender: the issuer or its agent. Rejects, in order: unknown_instrument,
    not_authorized, no_bond_terms, bond_redeemed, not_due, periods_unpaid, the payment's own.
    """

    instrument: str

    def check_form(self) -> None:
        check_instrument_code(self.instrument)

    def apply(self, ctx: TxContext) -> None:
        instrument = require_issuer_or_agent(ctx.view, self.instrument, ctx.sender)
        terms, state = require_bond(ctx.view, self.instrument)
        on, price = redemption(terms, state)
        _require_date(ctx, on)
        unpaid = [p for p, paid in periods_paid(terms, state) if not paid and p.payment_date <= on]
        if unpaid and terms.income.kind != "zero":
            raise Rejection(codes.PERIODS_UNPAID, f"period {unpaid[0].index} is unpaid")
        holders = _live_holders(ctx, self.instrument)
        due = _pay_and_burn(
            ctx, instrument, terms, holders, Fraction(state.face * price, BP), burn=True
        )
        ctx.view.put(bond_state_key(self.instrument), replace(state, status=REDEEMED))
        ctx.emit(
            "dissolved" if terms.structure else "redeemed",
            instrument=self.instrument,
            date=on,
            price_bp=price,
            holders=len(holders),
            due=due,
        )


class ExercisePut(TxBody, frozen=True, tag="exercise_put"):
    """Put ``units`` of ``account`` back to the issuer on put date ``date`` of the terms
    (replacing an earlier notice for that date).

    Sender: the account's owner. Rejects, in order: unknown_account, not_authorized,
    no_bond_terms, bond_redeemed, not_an_option_date, bad_time (the date has passed),
    insufficient_balance.
    """

    instrument: str
    account: str
    units: int
    date: str

    def check_form(self) -> None:
        check_instrument_code(self.instrument)
        check_account_id(self.account)
        check_amount(self.units, "units")
        check_date(self.date, "date")

    def apply(self, ctx: TxContext) -> None:
        require_owned_account(ctx.view, self.account, ctx.sender)
        terms, _ = require_bond(ctx.view, self.instrument)
        _option(terms.puts, self.date)
        if day_of(ctx.timestamp_ms) >= parse_date(self.date, "date"):
            raise Rejection(codes.BAD_TIME, f"put date {self.date} has passed")
        held = balance_of(ctx.view, self.account, self.instrument)
        if held < self.units:
            raise Rejection(codes.INSUFFICIENT_BALANCE, f"{self.account} holds {held}")
        ctx.view.put(put_key(self.instrument, self.date, self.account), self.units)
        ctx.emit(
            "put_exercised",
            instrument=self.instrument,
            account=self.account,
            units=self.units,
            date=self.date,
        )


class SettlePuts(TxBody, frozen=True, tag="settle_puts"):
    """On a put date, buy back the units put for it, at the put price of the outstanding
    face, and cancel them (a holder who sold some since is paid for what it still holds).

    Sender: the issuer or its agent. Rejects, in order: unknown_instrument, not_authorized,
    no_bond_terms, bond_redeemed, not_an_option_date, not_due, no_holders (no puts), the
    payment's own.
    """

    instrument: str
    date: str

    def check_form(self) -> None:
        check_instrument_code(self.instrument)
        check_date(self.date, "date")

    def apply(self, ctx: TxContext) -> None:
        view = ctx.view
        instrument = require_issuer_or_agent(view, self.instrument, ctx.sender)
        terms, state = require_bond(view, self.instrument)
        option = _option(terms.puts, self.date)
        _require_date(ctx, self.date)
        prefix = put_prefix(self.instrument, self.date)
        holders = []
        for key in view.keys_with_prefix(prefix):
            account = key[len(prefix) :]
            units = min(view.get(key), balance_of(view, account, self.instrument))
            view.delete(key)
            if units:
                holders.append((account, units))
        if not holders:
            raise Rejection(codes.NO_HOLDERS, f"no puts for {self.date}")
        due = _pay_and_burn(
            ctx, instrument, terms, holders, Fraction(state.face * option.price_bp, BP), burn=True
        )
        ctx.emit(
            "puts_settled",
            instrument=self.instrument,
            date=self.date,
            holders=len(holders),
            units=sum(u for _, u in holders),
            due=due,
        )


def _check_period(period: int) -> None:
    if not 1 <= period <= limits.SCHEDULE_PERIODS_MAX:
        raise Malformed(codes.BAD_FIELD, "period: 1-based")
