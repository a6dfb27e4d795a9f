"""Fund units: dealing terms, NAV publication, subscription and redemption orders, their
cancellation before the cut-off, and the dealing that settles them at the next NAV. The
records and the arithmetic are in ``rantai.core.funds`` (docs/decisions/funds.md).

Every movement a fund order makes is a real one, checked like any other: placing an order
moves the investor's cash (a ``transfer``) or units (a ``burn`` movement: the units leave
the investor's reach) into the dealing account, and a dealing mints units to subscribers
(``mint``) and pays redeemers (``transfer`` of cash), each through
``rantai.core.compliance``. A fill that any check refuses is rolled back and its order
refunded, with the code on the receipt; the other orders deal on. Refunds and cancellations
only give back what the investor put in, so they are not new movements and are not checked.
"""

from __future__ import annotations

from msgspec import structs

from rantai.core import codes, limits
from rantai.core.access import (
    credit,
    debit,
    require_instrument,
    require_issuer_or_agent,
    require_owned_account,
)
from rantai.core.compliance import check_movement, record_movement
from rantai.core.errors import Malformed, Rejection
from rantai.core.funds import (
    REDEEM,
    SUBSCRIBE,
    DealingTerms,
    FundOrder,
    FundQueue,
    Nav,
    cash_for_units,
    cutoff_ms,
    dealing_day,
    dealing_terms_key,
    gate_fills,
    nav_key,
    queue_key,
    units_for_cash,
)
from rantai.core.ids import account_owner, check_account_id, check_amount, check_instrument_code
from rantai.core.records import Instrument, instrument_key
from rantai.core.rules import Move
from rantai.core.state import StateView
from rantai.core.tx import TxBody, TxContext

__all__ = ["CancelFundOrder", "Deal", "PublishNav", "Redeem", "SetDealingTerms", "Subscribe"]


def _require_fund(view: StateView, code: str) -> tuple[Instrument, DealingTerms]:
    """The fund and its dealing terms. Rejects: unknown_instrument, not_fund,
    no_dealing_terms."""
    instrument = require_instrument(view, code)
    if instrument.kind != "fund":
        raise Rejection(codes.NOT_FUND, f"{code} is a {instrument.kind}")
    terms: DealingTerms | None = view.get(dealing_terms_key(code))
    if terms is None:
        raise Rejection(codes.NO_DEALING_TERMS, f"{code} has no dealing terms")
    return instrument, terms


def _queue(view: StateView, code: str) -> FundQueue:
    queue: FundQueue | None = view.get(queue_key(code))
    return FundQueue(0, ()) if queue is None else queue


def _put_queue(view: StateView, code: str, queue: FundQueue) -> None:
    view.put(queue_key(code), queue)


def _move(ctx: TxContext, kind: str, code: str, source: str, destination: str, amount: int) -> None:
    """A ``transfer`` or a ``mint`` (``source`` "") of ``amount`` of ``code``, checked and
    recorded as ``Transfer`` and ``Mint`` do. Rejects: supply_cap_exceeded (a mint), the
    compliance checks, balance_overflow."""
    view = ctx.view
    instrument = require_instrument(view, code)
    if kind == "mint" and instrument.supply + amount > instrument.supply_cap:
        raise Rejection(codes.SUPPLY_CAP_EXCEEDED, f"{code} cap {instrument.supply_cap}")
    move = Move(
        kind,
        instrument,
        source,
        account_owner(source) if source else "",
        destination,
        account_owner(destination) if destination else "",
        amount,
        ctx.timestamp_ms,
    )
    policy = check_movement(view, move)
    tracked = policy is not None and policy.tracked
    if source:
        debit(view, source, code, amount, tracked=tracked)
    if destination:
        credit(view, destination, code, amount, tracked=tracked)
    if kind == "mint":
        view.put(
            instrument_key(code), structs.replace(instrument, supply=instrument.supply + amount)
        )
    record_movement(view, move, policy)


def _give_back(view: StateView, code: str, source: str, destination: str, amount: int) -> None:
    """Return queued cash or units from the dealing account, unchecked (see the module)."""
    if amount:
        debit(view, source, code, amount)
        credit(view, destination, code, amount)


class SetDealingTerms(TxBody, frozen=True, tag="set_dealing_terms"):
    """Set a fund's dealing terms, once. Sender: the fund's issuer (its manager).

    ``cash_account`` and ``dealing_account`` are the manager's; units are the fund's minor
    units (its ``decimals``). Rejects, in order: unknown_instrument, not_authorized, not_fund,
    already_exists, unknown_instrument (cash), not_cash, unknown_account, not_authorized (an
    account not the manager's).
    """

    instrument: str
    cash_instrument: str
    cash_account: str
    dealing_account: str
    cutoff_ms_of_day: int
    min_subscription: int
    gate_bps: int

    def check_form(self) -> None:
        if not 0 <= self.min_subscription <= limits.AMOUNT_MAX:
            raise Malformed(codes.BAD_AMOUNT, "min_subscription: 0 (none) to AMOUNT_MAX")
        check_instrument_code(self.instrument)
        check_instrument_code(self.cash_instrument, "cash_instrument")
        check_account_id(self.cash_account, "cash_account")
        check_account_id(self.dealing_account, "dealing_account")
        if self.cash_account == self.dealing_account:
            raise Malformed(codes.BAD_FIELD, "the dealing account is not the cash account")
        if not 0 <= self.cutoff_ms_of_day < limits.DAY_MS:
            raise Malformed(codes.BAD_FIELD, "cutoff_ms_of_day: 0 to DAY_MS - 1")
        if not 1 <= self.gate_bps <= limits.GATE_BPS_MAX:
            raise Malformed(codes.BAD_FIELD, f"gate_bps: 1 to {limits.GATE_BPS_MAX}")

    def apply(self, ctx: TxContext) -> None:
        view = ctx.view
        fund = require_instrument(view, self.instrument)
        if fund.issuer != ctx.sender:
            raise Rejection(codes.NOT_AUTHORIZED, f"{ctx.sender!r} does not manage it")
        if fund.kind != "fund":
            raise Rejection(codes.NOT_FUND, f"{self.instrument} is a {fund.kind}")
        if view.get(dealing_terms_key(self.instrument)) is not None:
            raise Rejection(codes.ALREADY_EXISTS, "dealing terms are set once")
        if require_instrument(view, self.cash_instrument).kind != "cash":
            raise Rejection(codes.NOT_CASH, f"{self.cash_instrument} is not cash")
        for account in (self.cash_account, self.dealing_account):
            require_owned_account(view, account, fund.issuer)
        terms = DealingTerms(
            self.cash_instrument,
            self.cash_account,
            self.dealing_account,
            self.cutoff_ms_of_day,
            self.min_subscription,
            self.gate_bps,
            ctx.height,
        )
        view.put(dealing_terms_key(self.instrument), terms)
        ctx.emit(
            "dealing_terms",
            instrument=self.instrument,
            cash_instrument=self.cash_instrument,
            cutoff_ms_of_day=self.cutoff_ms_of_day,
            min_subscription=self.min_subscription,
            gate_bps=self.gate_bps,
        )


class PublishNav(TxBody, frozen=True, tag="publish_nav"):
    """Publish the fund's NAV per whole unit in minor units of ``cash_instrument``, valued
    at ``valuation_ms``. Sender: the manager or its agent.

    Rejects, in order: unknown_instrument, not_authorized, not_fund, no_dealing_terms,
    wrong_cash_instrument, bad_time (valuation after block time, or not after the last).
    """

    instrument: str
    cash_instrument: str
    nav_minor: int
    valuation_ms: int

    def check_form(self) -> None:
        check_amount(self.nav_minor, "nav_minor")
        check_instrument_code(self.instrument)
        check_instrument_code(self.cash_instrument, "cash_instrument")
        if not 0 < self.valuation_ms <= limits.TIMESTAMP_MS_MAX:
            raise Malformed(codes.BAD_FIELD, "valuation_ms out of range")

    def apply(self, ctx: TxContext) -> None:
        view = ctx.view
        require_issuer_or_agent(view, self.instrument, ctx.sender)
        _, terms = _require_fund(view, self.instrument)
        if self.cash_instrument != terms.cash_instrument:
            raise Rejection(
                codes.WRONG_CASH_INSTRUMENT, f"the fund deals in {terms.cash_instrument}"
            )
        last: Nav | None = view.get(nav_key(self.instrument))
        if self.valuation_ms > ctx.timestamp_ms or (
            last is not None and self.valuation_ms <= last.valuation_ms
        ):
            raise Rejection(codes.BAD_TIME, "a valuation not after block time, after the last")
        nav = Nav(self.cash_instrument, self.nav_minor, self.valuation_ms, ctx.timestamp_ms, False)
        view.put(nav_key(self.instrument), nav)
        ctx.emit(
            "nav_published",
            instrument=self.instrument,
            cash_instrument=self.cash_instrument,
            nav_minor=self.nav_minor,
            valuation_ms=self.valuation_ms,
        )


def _place(ctx: TxContext, code: str, side: str, account: str, amount: int) -> None:
    """Queue an order whose cash or units are in the dealing account already."""
    view = ctx.view
    terms: DealingTerms = view.get(dealing_terms_key(code))
    queue = _queue(view, code)
    day = dealing_day(ctx.timestamp_ms, terms.cutoff_ms_of_day)
    order = FundOrder(queue.next_id, side, account, amount, day, ctx.timestamp_ms)
    _put_queue(view, code, FundQueue(queue.next_id + 1, (*queue.orders, order)))
    ctx.emit(
        "fund_order",
        instrument=code,
        order=order.id,
        side=side,
        account=account,
        amount=amount,
        cutoff_ms=cutoff_ms(day, terms.cutoff_ms_of_day),
    )


def _check_room(view: StateView, code: str) -> None:
    if len(_queue(view, code).orders) >= limits.FUND_ORDERS_MAX:
        raise Rejection(codes.TOO_MANY_ITEMS, f"{limits.FUND_ORDERS_MAX} orders queued")


class Subscribe(TxBody, frozen=True, tag="subscribe"):
    """Order units of a fund for ``amount`` of its cash from the sender's ``account``; the
    cash moves into the dealing account now, units come at the next dealing's NAV.

    Rejects, in order: unknown_instrument, not_fund, no_dealing_terms, unknown_account,
    not_authorized, below_minimum, too_many_items (FUND_ORDERS_MAX queued), self_transfer
    (the dealing account), then the cash movement's compliance checks.
    """

    instrument: str
    account: str
    amount: int

    def check_form(self) -> None:
        check_amount(self.amount)
        check_instrument_code(self.instrument)
        check_account_id(self.account)

    def apply(self, ctx: TxContext) -> None:
        view = ctx.view
        _, terms = _require_fund(view, self.instrument)
        require_owned_account(view, self.account, ctx.sender)
        if self.amount < terms.min_subscription:
            raise Rejection(codes.BELOW_MINIMUM, f"the minimum is {terms.min_subscription}")
        _check_room(view, self.instrument)
        if self.account == terms.dealing_account:
            raise Rejection(codes.SELF_TRANSFER, "the dealing account cannot subscribe")
        _move(
            ctx, "transfer", terms.cash_instrument, self.account, terms.dealing_account, self.amount
        )
        _place(ctx, self.instrument, SUBSCRIBE, self.account, self.amount)


class Redeem(TxBody, frozen=True, tag="redeem"):
    """Order the redemption of ``units`` from the sender's ``account``; the units leave the
    account now (checked as a burn) into the dealing account, cash comes at the next
    dealing's NAV.

    Rejects, in order: unknown_instrument, not_fund, no_dealing_terms, unknown_account,
    not_authorized, too_many_items, self_transfer (the dealing account), then the burn's
    compliance checks.
    """

    instrument: str
    account: str
    units: int

    def check_form(self) -> None:
        check_amount(self.units, "units")
        check_instrument_code(self.instrument)
        check_account_id(self.account)

    def apply(self, ctx: TxContext) -> None:
        view = ctx.view
        fund, terms = _require_fund(view, self.instrument)
        account = require_owned_account(view, self.account, ctx.sender)
        _check_room(view, self.instrument)
        if self.account == terms.dealing_account:
            raise Rejection(codes.SELF_TRANSFER, "the dealing account cannot redeem")
        move = Move("burn", fund, account.id, account.owner, "", "", self.units, ctx.timestamp_ms)
        policy = check_movement(view, move)
        tracked = policy is not None and policy.tracked
        debit(view, self.account, self.instrument, self.units, tracked=tracked)
        credit(view, terms.dealing_account, self.instrument, self.units, tracked=tracked)
        record_movement(view, move, policy)
        _place(ctx, self.instrument, REDEEM, self.account, self.units)


class CancelFundOrder(TxBody, frozen=True, tag="cancel_fund_order"):
    """Cancel a queued order before its dealing's cut-off; its cash or units come back.
    Sender: the owner of the order's account.

    Rejects, in order: unknown_instrument, not_fund, no_dealing_terms, unknown_order,
    not_authorized, past_cutoff.
    """

    instrument: str
    order: int

    def check_form(self) -> None:
        check_instrument_code(self.instrument)
        if not 0 <= self.order <= limits.NONCE_MAX:
            raise Malformed(codes.BAD_FIELD, "order: a queued order's number")

    def apply(self, ctx: TxContext) -> None:
        view = ctx.view
        _, terms = _require_fund(view, self.instrument)
        queue = _queue(view, self.instrument)
        found = [o for o in queue.orders if o.id == self.order]
        if not found:
            raise Rejection(codes.UNKNOWN_ORDER, f"no queued order {self.order}")
        order = found[0]
        if account_owner(order.account) != ctx.sender:
            raise Rejection(codes.NOT_AUTHORIZED, f"{ctx.sender!r} did not place it")
        if ctx.timestamp_ms >= cutoff_ms(order.dealing_day, terms.cutoff_ms_of_day):
            raise Rejection(codes.PAST_CUTOFF, "its dealing's cut-off has passed")
        code = terms.cash_instrument if order.side == SUBSCRIBE else self.instrument
        _give_back(view, code, terms.dealing_account, order.account, order.amount)
        kept = tuple(o for o in queue.orders if o.id != self.order)
        _put_queue(view, self.instrument, FundQueue(queue.next_id, kept))
        ctx.emit(
            "fund_order_cancelled", instrument=self.instrument, order=order.id, side=order.side
        )


class Deal(TxBody, frozen=True, tag="deal"):
    """Settle every queued order due at the latest NAV (its dealing's cut-off at or before
    the valuation): subscriptions first, then redemptions under the gate. Sender: the
    manager or its agent. Each fill, refund and carry-forward is an event.

    Rejects, in order: unknown_instrument, not_authorized, not_fund, no_dealing_terms,
    no_nav, already_dealt. A fill that fails is refunded (``fund_order_refunded`` with its
    code), not a rejection of the dealing.
    """

    instrument: str

    def check_form(self) -> None:
        check_instrument_code(self.instrument)

    def apply(self, ctx: TxContext) -> None:
        view, code = ctx.view, self.instrument
        require_issuer_or_agent(view, code, ctx.sender)
        fund, terms = _require_fund(view, code)
        nav: Nav | None = view.get(nav_key(code))
        if nav is None:
            raise Rejection(codes.NO_NAV, f"no NAV published for {code}")
        if nav.dealt:
            raise Rejection(codes.ALREADY_DEALT, f"the NAV valued at {nav.valuation_ms} dealt")
        queue = _queue(view, code)
        valuation = nav.valuation_ms
        cutoff = terms.cutoff_ms_of_day
        due = [o for o in queue.orders if cutoff_ms(o.dealing_day, cutoff) <= valuation]
        kept = [o for o in queue.orders if cutoff_ms(o.dealing_day, cutoff) > valuation]
        for order in due:
            if order.side == SUBSCRIBE:
                _fill_subscription(ctx, fund, terms, nav, order)
        redemptions = tuple(o for o in due if o.side == REDEEM)
        fills = gate_fills(tuple(o.amount for o in redemptions), fund.supply, terms.gate_bps)
        for order, fill in zip(redemptions, fills, strict=True):
            if fill and not _fill_redemption(ctx, fund, terms, nav, order, fill):
                continue
            if fill < order.amount:
                kept.append(structs.replace(order, amount=order.amount - fill))
                ctx.emit(
                    "fund_redemption_carried",
                    instrument=code,
                    order=order.id,
                    account=order.account,
                    units=order.amount - fill,
                )
        kept.sort(key=lambda o: o.id)
        _put_queue(view, code, FundQueue(queue.next_id, tuple(kept)))
        view.put(nav_key(code), structs.replace(nav, dealt=True))
        ctx.emit("fund_dealt", instrument=code, nav_minor=nav.nav_minor, orders=len(due))


def _refund(
    ctx: TxContext, code: str, terms: DealingTerms, order: FundOrder, amount: int, exc: Rejection
) -> None:
    asset = terms.cash_instrument if order.side == SUBSCRIBE else code
    _give_back(ctx.view, asset, terms.dealing_account, order.account, amount)
    ctx.emit(
        "fund_order_refunded",
        instrument=code,
        order=order.id,
        account=order.account,
        side=order.side,
        amount=amount,
        code=exc.code,
        reason=exc.message,
    )


def _fill_subscription(
    ctx: TxContext, fund: Instrument, terms: DealingTerms, nav: Nav, order: FundOrder
) -> None:
    """Units for the order's cash at ``nav``; the cash they cost to the fund's cash account,
    the residue back to the investor. All or nothing: any refusal refunds the whole order."""
    view = ctx.view
    units, cost = units_for_cash(order.amount, nav.nav_minor, fund.decimals)
    mark = view.mark()
    try:
        if units == 0:
            raise Rejection(codes.DEALING_TOO_SMALL, f"{order.amount} buys no unit")
        if units > limits.AMOUNT_MAX:
            raise Rejection(codes.BAD_AMOUNT, f"{units} units above AMOUNT_MAX")
        _move(
            ctx, "transfer", terms.cash_instrument, terms.dealing_account, terms.cash_account, cost
        )
        _move(ctx, "mint", fund.code, "", order.account, units)
    except Rejection as exc:
        view.restore(mark)
        _refund(ctx, fund.code, terms, order, order.amount, exc)
        return
    _give_back(
        view, terms.cash_instrument, terms.dealing_account, order.account, order.amount - cost
    )
    ctx.emit(
        "fund_subscription_filled",
        instrument=fund.code,
        order=order.id,
        account=order.account,
        cash=cost,
        units=units,
        refund=order.amount - cost,
    )


def _fill_redemption(
    ctx: TxContext, fund: Instrument, terms: DealingTerms, nav: Nav, order: FundOrder, fill: int
) -> bool:
    """Burn ``fill`` units from the dealing account and pay their cash at ``nav`` from the
    fund's cash account; whether it did. A refusal refunds the whole order, so an order that
    cannot be paid is not carried to fail again."""
    view = ctx.view
    cash = cash_for_units(fill, nav.nav_minor, fund.decimals)
    mark = view.mark()
    try:
        if cash == 0:
            raise Rejection(codes.DEALING_TOO_SMALL, f"{fill} units pay no cash")
        _move(ctx, "transfer", terms.cash_instrument, terms.cash_account, order.account, cash)
        debit(view, terms.dealing_account, fund.code, fill)
        current = require_instrument(view, fund.code)
        view.put(instrument_key(fund.code), structs.replace(current, supply=current.supply - fill))
    except Rejection as exc:
        view.restore(mark)
        _refund(ctx, fund.code, terms, order, order.amount, exc)
        return False
    ctx.emit(
        "fund_redemption_filled",
        instrument=fund.code,
        order=order.id,
        account=order.account,
        units=fill,
        cash=cash,
    )
    return True
