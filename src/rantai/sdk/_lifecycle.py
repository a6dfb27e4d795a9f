"""Builders for the lifecycle kinds: record dates, distributions, ballots, and bonds and sukuk
(docs/lifecycle.md). Same contract as ``_builders``: the kind's fields by name and in order,
the node's stateless checks run here, ``InvalidTransaction`` on failure."""

from __future__ import annotations

from collections.abc import Iterable

from rantai.core.bonds import BondTerms, Income, OptionDate
from rantai.core.calendars import Calendar
from rantai.core.kinds.bonds import (
    CallBond,
    CertifyShariah,
    DeclareProfit,
    ExercisePut,
    PartialRedeem,
    PayPeriod,
    PublishFixing,
    RedeemBond,
    SetBondTerms,
    SettlePuts,
)
from rantai.core.kinds.lifecycle import (
    CastVote,
    ClaimDistribution,
    CloseBallot,
    CloseRecord,
    Distribute,
    OpenBallot,
    TakeRecord,
)
from rantai.sdk._builders import check_body
from rantai.sdk._checks import check_record

__all__ = [
    "bond_terms",
    "calendar",
    "call_bond",
    "cast_vote",
    "certify_shariah",
    "claim_distribution",
    "close_ballot",
    "close_record",
    "declare_profit",
    "distribute",
    "exercise_put",
    "income",
    "open_ballot",
    "option_date",
    "partial_redeem",
    "pay_period",
    "publish_fixing",
    "redeem_bond",
    "set_bond_terms",
    "settle_puts",
    "take_record",
]


def _hex_id(value: str | bytes) -> str:
    return value.hex() if isinstance(value, bytes) else value


# --- record dates, distributions, ballots -----------------------------------------------


def take_record(instrument: str, name: str, purpose: str = "") -> TakeRecord:
    return check_body(TakeRecord(instrument, name, purpose))


def close_record(instrument: str, name: str) -> CloseRecord:
    return check_body(CloseRecord(instrument, name))


def distribute(
    instrument: str,
    record: str,
    kind: str,
    pay_instrument: str,
    source: str,
    total: int = 0,
    rate_numerator: int = 0,
    rate_denominator: int = 0,
    *,
    residue_account: str,
    reference: str = "",
) -> Distribute:
    """Pay ``total`` pro rata, or ``rate_numerator / rate_denominator`` cash minor units per
    minor unit held, to every holder at ``record``."""
    return check_body(
        Distribute(
            instrument,
            record,
            kind,
            pay_instrument,
            source,
            total,
            rate_numerator,
            rate_denominator,
            residue_account,
            reference,
        )
    )


def claim_distribution(distribution: str | bytes, account: str) -> ClaimDistribution:
    return check_body(ClaimDistribution(_hex_id(distribution), account))


def open_ballot(
    instrument: str,
    ballot: str,
    record: str,
    question: str,
    options: Iterable[str],
    closes_ms: int,
) -> OpenBallot:
    return check_body(OpenBallot(instrument, ballot, record, question, tuple(options), closes_ms))


def cast_vote(instrument: str, ballot: str, account: str, option: int) -> CastVote:
    return check_body(CastVote(instrument, ballot, account, option))


def close_ballot(instrument: str, ballot: str) -> CloseBallot:
    return check_body(CloseBallot(instrument, ballot))


# --- bonds and sukuk ------------------------------------------------------------------


def calendar(name: str, weekend: Iterable[int] = (6, 7), holidays: Iterable[str] = ()) -> Calendar:
    """A business-day calendar: ISO weekdays off (6, 7: Saturday, Sunday) and holidays."""
    return Calendar(name, tuple(weekend), tuple(sorted(set(holidays))))


def income(
    kind: str,
    rate_bp: int = 0,
    *,
    index: str = "",
    oracle: str = "",
    fixing_days: int = 0,
    floor_bp: int = 0,
    instalments: Iterable[int] = (),
) -> Income:
    """How each period's amount is set: fixed, floating, zero, instalments or declared."""
    return Income(kind, rate_bp, index, oracle, fixing_days, floor_bp, tuple(instalments))


def option_date(date: str, price_bp: int = 10_000) -> OptionDate:
    return OptionDate(date, price_bp)


def bond_terms(
    *,
    cash: str,
    payer: str,
    residue_account: str,
    face: int,
    issue_date: str,
    maturity_date: str,
    months_per_period: int,
    income: Income,
    calendar: Calendar,
    day_count: str = "act/365f",
    adjustment: str = "modified_following",
    record_days: int = 1,
    redemption_bp: int = 10_000,
    calls: Iterable[OptionDate] = (),
    puts: Iterable[OptionDate] = (),
    structure: str = "",
    asset: str = "",
    asset_hash: bytes = b"",
    charity_account: str = "",
    late_charge_bp: int = 0,
    tawidh_bp: int = 0,
) -> BondTerms:
    """A bond's or sukuk's terms (``rantai.core.bonds``); checked as the node checks them."""
    terms = BondTerms(
        cash=cash,
        payer=payer,
        residue_account=residue_account,
        face=face,
        issue_date=issue_date,
        maturity_date=maturity_date,
        months_per_period=months_per_period,
        day_count=day_count,
        calendar=calendar,
        adjustment=adjustment,
        record_days=record_days,
        income=income,
        redemption_bp=redemption_bp,
        calls=tuple(calls),
        puts=tuple(puts),
        structure=structure,
        asset=asset,
        asset_hash=asset_hash,
        charity_account=charity_account,
        late_charge_bp=late_charge_bp,
        tawidh_bp=tawidh_bp,
    )
    return check_record(terms)


def set_bond_terms(instrument: str, terms: BondTerms) -> SetBondTerms:
    return check_body(SetBondTerms(instrument, terms))


def certify_shariah(instrument: str, document_hash: bytes, valid_until_ms: int) -> CertifyShariah:
    return check_body(CertifyShariah(instrument, document_hash, valid_until_ms))


def publish_fixing(index: str, date: str, rate_bp: int) -> PublishFixing:
    return check_body(PublishFixing(index, date, rate_bp))


def declare_profit(instrument: str, period: int, amount: int) -> DeclareProfit:
    return check_body(DeclareProfit(instrument, period, amount))


def pay_period(instrument: str, period: int, record: str) -> PayPeriod:
    return check_body(PayPeriod(instrument, period, record))


def partial_redeem(instrument: str, face_amount: int) -> PartialRedeem:
    return check_body(PartialRedeem(instrument, face_amount))


def call_bond(instrument: str, date: str) -> CallBond:
    return check_body(CallBond(instrument, date))


def redeem_bond(instrument: str) -> RedeemBond:
    return check_body(RedeemBond(instrument))


def exercise_put(instrument: str, account: str, units: int, date: str) -> ExercisePut:
    return check_body(ExercisePut(instrument, account, units, date))


def settle_puts(instrument: str, date: str) -> SettlePuts:
    return check_body(SettlePuts(instrument, date))
