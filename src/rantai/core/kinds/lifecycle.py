"""Record dates, distributions and ballots (``rantai.core.record_dates``,
``rantai.core.distributions``, ``rantai.core.ballots``)."""

from __future__ import annotations

from msgspec.structs import replace

from rantai.core import codes, limits
from rantai.core.access import (
    require_account,
    require_instrument,
    require_issuer_or_agent,
    require_owned_account,
    require_party,
)
from rantai.core.ballots import BALLOT_CLOSED, BALLOT_OPEN, Ballot, ballot_key, vote_key
from rantai.core.distributions import (
    DISTRIBUTION_KINDS,
    KINDS_BY_INSTRUMENT,
    Distribution,
    Payout,
    announce_payment,
    distribution_key,
    owed_key,
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
    check_tx_id,
)
from rantai.core.record_dates import (
    CLOSED,
    OPEN,
    OpenRecord,
    OpenRecords,
    RecordDate,
    balance_at,
    holders_at,
    open_records_key,
    record_key,
    snapshot_prefix,
)
from rantai.core.records import Account, Instrument
from rantai.core.state import StateView
from rantai.core.tx import TxBody, TxContext

__all__ = [
    "CastVote",
    "ClaimDistribution",
    "CloseBallot",
    "CloseRecord",
    "Distribute",
    "OpenBallot",
    "TakeRecord",
    "require_final_record",
]


def require_record(view: StateView, instrument: str, name: str) -> RecordDate:
    """Return the record date. Rejects: unknown_record."""
    record: RecordDate | None = view.get(record_key(instrument, name))
    if record is None:
        raise Rejection(codes.UNKNOWN_RECORD, f"no record date {name!r} on {instrument}")
    return record


def require_final_record(ctx: TxContext, instrument: str, name: str) -> RecordDate:
    """Return an open record date taken in an earlier block.

    Rejects: unknown_record, record_closed, record_not_final.
    """
    record = require_record(ctx.view, instrument, name)
    if record.status != OPEN:
        raise Rejection(codes.RECORD_CLOSED, f"record date {name!r} is closed")
    if record.height >= ctx.height:
        raise Rejection(
            codes.RECORD_NOT_FINAL, "a record date is final once the block that took it ends"
        )
    return record


def take_record(ctx: TxContext, instrument: Instrument, name: str, purpose: str) -> RecordDate:
    """Open record date ``name`` at this block. Rejects: already_exists, open_records_limit."""
    view = ctx.view
    if view.get(record_key(instrument.code, name)) is not None:
        raise Rejection(codes.ALREADY_EXISTS, f"record date {name!r} exists")
    current: OpenRecords | None = view.get(open_records_key(instrument.code))
    opened = () if current is None else current.records
    if len(opened) >= limits.OPEN_RECORDS_MAX:
        raise Rejection(
            codes.OPEN_RECORDS_LIMIT, f"{limits.OPEN_RECORDS_MAX} record dates open already"
        )
    record = RecordDate(
        instrument=instrument.code,
        name=name,
        height=ctx.height,
        timestamp_ms=ctx.timestamp_ms,
        purpose=purpose,
        status=OPEN,
        open_ballots=0,
        taken_by=ctx.sender,
    )
    view.put(record_key(instrument.code, name), record)
    view.put(
        open_records_key(instrument.code),
        OpenRecords((*opened, OpenRecord(name, ctx.height))),
    )
    ctx.emit("record_date", instrument=instrument.code, record=name, purpose=purpose)
    return record


def close_record(ctx: TxContext, record: RecordDate) -> None:
    """Close ``record``: stop saving balances and drop the ones saved.

    Rejects: record_closed, ballot_open (a ballot still reads it).
    """
    view = ctx.view
    if record.status != OPEN:
        raise Rejection(codes.RECORD_CLOSED, f"record date {record.name!r} is closed")
    if record.open_ballots:
        raise Rejection(codes.BALLOT_OPEN, f"{record.open_ballots} ballots still read it")
    for key in view.keys_with_prefix(snapshot_prefix(record.instrument, record.name)):
        view.delete(key)
    opened: OpenRecords = view.get(open_records_key(record.instrument))
    rest = tuple(r for r in opened.records if r.name != record.name)
    if rest:
        view.put(open_records_key(record.instrument), OpenRecords(rest))
    else:
        view.delete(open_records_key(record.instrument))
    view.put(record_key(record.instrument, record.name), replace(record, status=CLOSED))
    ctx.emit("record_closed", instrument=record.instrument, record=record.name)


class TakeRecord(TxBody, frozen=True, tag="take_record"):
    """Fix the register of ``instrument`` at the end of this block as record date ``name``.

    Sender: the issuer or its agent. Rejects, in order: unknown_instrument, not_authorized,
    already_exists, open_records_limit.
    """

    instrument: str
    name: str
    purpose: str

    def check_form(self) -> None:
        check_instrument_code(self.instrument)
        check_slug(self.name, "name")
        check_text(self.purpose, "purpose", limits.PURPOSE_CHARS_MAX, empty_ok=True)

    def apply(self, ctx: TxContext) -> None:
        instrument = require_issuer_or_agent(ctx.view, self.instrument, ctx.sender)
        take_record(ctx, instrument, self.name, self.purpose)


class CloseRecord(TxBody, frozen=True, tag="close_record"):
    """Close record date ``name`` once its distributions and ballots are done.

    Sender: the issuer or its agent. Rejects, in order: unknown_instrument, not_authorized,
    unknown_record, record_closed, ballot_open.
    """

    instrument: str
    name: str

    def check_form(self) -> None:
        check_instrument_code(self.instrument)
        check_slug(self.name, "name")

    def apply(self, ctx: TxContext) -> None:
        require_issuer_or_agent(ctx.view, self.instrument, ctx.sender)
        close_record(ctx, require_record(ctx.view, self.instrument, self.name))


def require_payer(
    ctx: TxContext, instrument: Instrument, pay_instrument: str, source: str
) -> tuple[Instrument, Account]:
    """The cash instrument and the account a distribution of ``instrument`` pays from.

    Rejects: unknown_instrument, not_cash, unknown_account, not_authorized (the account is
    neither the sender's nor the issuer's).
    """
    cash = require_instrument(ctx.view, pay_instrument)
    if cash.kind != "cash":
        raise Rejection(codes.NOT_CASH, f"{pay_instrument} is a {cash.kind} instrument")
    account = require_account(ctx.view, source)
    if account.owner not in (ctx.sender, instrument.issuer):
        raise Rejection(codes.NOT_AUTHORIZED, f"{source} is not the issuer's or the sender's")
    return cash, account


class Distribute(TxBody, frozen=True, tag="distribute"):
    """Pay every holder at record date ``record`` in ``pay_instrument`` from ``source``.

    Either ``total`` (> 0) shared pro rata, or a rate of ``rate_numerator / rate_denominator``
    minor units of cash per minor unit held (``total`` 0); amounts round down and the
    residue goes to ``residue_account`` (``rantai.core.distributions``).

    Sender: the issuer or its agent. Rejects, in order: unknown_instrument, not_authorized,
    wrong_distribution_kind, unknown_record, record_closed, record_not_final,
    unknown_instrument (pay), not_cash, unknown_account (source), not_authorized (source),
    unknown_account (residue), no_holders, insufficient_balance, then the residue payment's
    checks.
    """

    instrument: str
    record: str
    kind: str
    pay_instrument: str
    source: str
    total: int
    rate_numerator: int
    rate_denominator: int
    residue_account: str
    reference: str

    def check_form(self) -> None:
        check_instrument_code(self.instrument)
        check_slug(self.record, "record")
        if self.kind not in DISTRIBUTION_KINDS:
            raise Malformed(codes.BAD_FIELD, f"kind: one of {DISTRIBUTION_KINDS}")
        check_instrument_code(self.pay_instrument, "pay_instrument")
        check_account_id(self.source, "source")
        if self.total:
            check_amount(self.total, "total")
            if self.rate_numerator or self.rate_denominator:
                raise Malformed(codes.BAD_FIELD, "a total or a rate, not both")
        else:
            check_amount(self.rate_numerator, "rate_numerator")
            check_amount(self.rate_denominator, "rate_denominator")
        check_account_id(self.residue_account, "residue_account")
        check_text(self.reference, "reference", limits.REFERENCE_CHARS_MAX, empty_ok=True)

    def apply(self, ctx: TxContext) -> None:
        instrument = require_issuer_or_agent(ctx.view, self.instrument, ctx.sender)
        if self.kind not in KINDS_BY_INSTRUMENT[instrument.kind]:
            raise Rejection(
                codes.WRONG_DISTRIBUTION_KIND,
                f"a {instrument.kind} pays {KINDS_BY_INSTRUMENT[instrument.kind]}",
            )
        record = require_final_record(ctx, self.instrument, self.record)
        cash, source = require_payer(ctx, instrument, self.pay_instrument, self.source)
        require_account(ctx.view, self.residue_account)
        holders = holders_at(ctx.view, record)
        if not holders:
            raise Rejection(codes.NO_HOLDERS, f"nobody held {self.instrument} at {self.record}")
        if self.total:
            payouts, due = pro_rata_amounts(holders, self.total)
        else:
            payouts, due = per_unit_amounts(holders, self.rate_numerator, self.rate_denominator)
        pay_holders(
            ctx,
            instrument=instrument,
            record=record.name,
            kind=self.kind,
            pay_instrument=cash,
            source=source,
            payouts=payouts,
            due=due,
            residue_account=self.residue_account,
        )


class ClaimDistribution(TxBody, frozen=True, tag="claim_distribution"):
    """Pay an amount a distribution still owes ``account`` (its payment was refused then).

    Sender: the account's owner, or the instrument's issuer or its agent. Rejects, in order:
    unknown_distribution, unknown_account, not_authorized, nothing_owed, then the payment's
    checks (insufficient_balance if the payer no longer holds it).
    """

    distribution: str
    account: str

    def check_form(self) -> None:
        check_tx_id(self.distribution, "distribution")
        check_account_id(self.account)

    def apply(self, ctx: TxContext) -> None:
        view = ctx.view
        record: Distribution | None = view.get(distribution_key(self.distribution))
        if record is None:
            raise Rejection(codes.UNKNOWN_DISTRIBUTION, f"no distribution {self.distribution}")
        account = require_account(view, self.account)
        if account.owner != ctx.sender:
            require_issuer_or_agent(view, record.instrument, ctx.sender)
        amount: int | None = view.get(owed_key(self.distribution, self.account))
        if amount is None:
            raise Rejection(codes.NOTHING_OWED, f"nothing owed to {self.account}")
        cash = require_instrument(view, record.pay_instrument)
        source = require_account(view, record.source)
        outcome = pay_one(ctx, cash, source, self.account, amount)  # debit checks the balance
        if outcome != codes.OK:
            raise Rejection(outcome, f"paying {amount} to {self.account}")
        view.delete(owed_key(self.distribution, self.account))
        view.put(
            distribution_key(self.distribution),
            replace(record, paid=record.paid + amount, owed=record.owed - amount),
        )
        payout = Payout(self.account, 0, amount)  # units: paid late, not at the record
        announce_payment(
            ctx,
            self.distribution,
            record.instrument,
            record.kind,
            record.pay_instrument,
            payout,
            codes.OK,
        )


def require_ballot(view: StateView, instrument: str, ballot: str) -> Ballot:
    """Return the ballot. Rejects: unknown_ballot."""
    record: Ballot | None = view.get(ballot_key(instrument, ballot))
    if record is None:
        raise Rejection(codes.UNKNOWN_BALLOT, f"no ballot {ballot!r} on {instrument}")
    return record


class OpenBallot(TxBody, frozen=True, tag="open_ballot"):
    """Ask the holders at record date ``record`` a question; votes weigh units at the record.

    Sender: the issuer or its agent. Rejects, in order: unknown_instrument, not_authorized,
    already_exists, unknown_record, record_closed, record_not_final, bad_time (closing not
    after now, or beyond BALLOT_TTL_MS_MAX), no_holders.
    """

    instrument: str
    ballot: str
    record: str
    question: str
    options: tuple[str, ...]
    closes_ms: int

    def check_form(self) -> None:
        check_instrument_code(self.instrument)
        check_slug(self.ballot, "ballot")
        check_slug(self.record, "record")
        check_text(self.question, "question", limits.NOTE_CHARS_MAX)
        if not 2 <= len(self.options) <= limits.BALLOT_OPTIONS_MAX:
            raise Malformed(codes.TOO_MANY_ITEMS, f"options: 2 to {limits.BALLOT_OPTIONS_MAX}")
        for option in self.options:
            check_text(option, "option", limits.NAME_CHARS_MAX)
        if len(set(self.options)) != len(self.options):
            raise Malformed(codes.BAD_FIELD, "options: each once")
        if not 0 < self.closes_ms <= limits.TIMESTAMP_MS_MAX:
            raise Malformed(codes.BAD_FIELD, "closes_ms: a time in milliseconds")

    def apply(self, ctx: TxContext) -> None:
        view = ctx.view
        require_issuer_or_agent(view, self.instrument, ctx.sender)
        if view.get(ballot_key(self.instrument, self.ballot)) is not None:
            raise Rejection(codes.ALREADY_EXISTS, f"ballot {self.ballot!r} exists")
        record = require_final_record(ctx, self.instrument, self.record)
        if not ctx.timestamp_ms < self.closes_ms <= ctx.timestamp_ms + limits.BALLOT_TTL_MS_MAX:
            raise Rejection(codes.BAD_TIME, "closes_ms: after now, within BALLOT_TTL_MS_MAX")
        eligible = sum(units for _, units in holders_at(view, record))
        if not eligible:
            raise Rejection(codes.NO_HOLDERS, f"nobody held {self.instrument} at {self.record}")
        view.put(
            ballot_key(self.instrument, self.ballot),
            Ballot(
                instrument=self.instrument,
                id=self.ballot,
                record=self.record,
                question=self.question,
                options=self.options,
                closes_ms=self.closes_ms,
                tallies=(0,) * len(self.options),
                voters=0,
                eligible_units=eligible,
                status=BALLOT_OPEN,
                opened_by=ctx.sender,
            ),
        )
        view.put(
            record_key(self.instrument, self.record),
            replace(record, open_ballots=record.open_ballots + 1),
        )
        ctx.emit(
            "ballot_opened",
            instrument=self.instrument,
            ballot=self.ballot,
            record=self.record,
            eligible_units=eligible,
            closes_ms=self.closes_ms,
        )


class CastVote(TxBody, frozen=True, tag="cast_vote"):
    """Cast ``account``'s units at the ballot's record for option ``option`` (0-based).

    Sender: the account's owner. Rejects, in order: unknown_ballot, ballot_closed,
    unknown_option, unknown_account, not_authorized, already_voted, no_units_at_record.
    """

    instrument: str
    ballot: str
    account: str
    option: int

    def check_form(self) -> None:
        check_instrument_code(self.instrument)
        check_slug(self.ballot, "ballot")
        check_account_id(self.account)
        if not 0 <= self.option < limits.BALLOT_OPTIONS_MAX:
            raise Malformed(codes.BAD_FIELD, f"option: 0 to {limits.BALLOT_OPTIONS_MAX - 1}")

    def apply(self, ctx: TxContext) -> None:
        view = ctx.view
        ballot = require_ballot(view, self.instrument, self.ballot)
        if ballot.status != BALLOT_OPEN or ctx.timestamp_ms >= ballot.closes_ms:
            raise Rejection(codes.BALLOT_CLOSED, f"ballot {self.ballot!r} is closed")
        if self.option >= len(ballot.options):
            raise Rejection(codes.UNKNOWN_OPTION, f"the ballot has {len(ballot.options)} options")
        require_owned_account(view, self.account, ctx.sender)
        key = vote_key(self.instrument, self.ballot, self.account)
        if view.get(key) is not None:
            raise Rejection(codes.ALREADY_VOTED, f"{self.account} voted already")
        record: RecordDate = view.get(record_key(self.instrument, ballot.record))
        units = balance_at(view, record, self.account)
        if not units:
            raise Rejection(codes.NO_UNITS_AT_RECORD, f"{self.account} held none at the record")
        view.put(key, self.option)
        tallies = list(ballot.tallies)
        tallies[self.option] += units
        view.put(
            ballot_key(self.instrument, self.ballot),
            replace(ballot, tallies=tuple(tallies), voters=ballot.voters + 1),
        )
        ctx.emit(
            "vote",
            instrument=self.instrument,
            ballot=self.ballot,
            account=self.account,
            option=self.option,
            units=units,
        )


class CloseBallot(TxBody, frozen=True, tag="close_ballot"):
    """Close a ballot at or after its closing time and announce the tally. Any party may.

    Rejects, in order: unknown_party (sender), unknown_ballot, ballot_closed, ballot_open.
    """

    instrument: str
    ballot: str

    def check_form(self) -> None:
        check_instrument_code(self.instrument)
        check_slug(self.ballot, "ballot")

    def apply(self, ctx: TxContext) -> None:
        view = ctx.view
        require_party(view, ctx.sender)
        ballot = require_ballot(view, self.instrument, self.ballot)
        if ballot.status != BALLOT_OPEN:
            raise Rejection(codes.BALLOT_CLOSED, f"ballot {self.ballot!r} is closed")
        if ctx.timestamp_ms < ballot.closes_ms:
            raise Rejection(codes.BALLOT_OPEN, f"ballot {self.ballot!r} closes later")
        view.put(ballot_key(self.instrument, self.ballot), replace(ballot, status=BALLOT_CLOSED))
        record: RecordDate = view.get(record_key(self.instrument, ballot.record))
        view.put(
            record_key(self.instrument, ballot.record),
            replace(record, open_ballots=record.open_ballots - 1),
        )
        top = max(ballot.tallies)
        leaders = [i for i, t in enumerate(ballot.tallies) if t == top]
        ctx.emit(
            "ballot_closed",
            instrument=self.instrument,
            ballot=self.ballot,
            tallies=",".join(str(t) for t in ballot.tallies),
            cast_units=sum(ballot.tallies),
            eligible_units=ballot.eligible_units,
            voters=ballot.voters,
            leading=leaders[0] if len(leaders) == 1 and top else -1,
        )
