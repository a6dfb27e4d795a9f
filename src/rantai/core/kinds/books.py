"""Primary issuance by book-building: open a book, take orders, allocate. Each allocation
becomes a two-leg DvP settlement instruction (``rantai.core.kinds.settlement``): the issuer's
units against the investor's cash, affirmed by the issuer when allocating and by the investor
when it affirms, which settles it. The records are in ``rantai.core.books``.
"""

from __future__ import annotations

from msgspec import structs

from rantai.core import codes, limits
from rantai.core.access import (
    require_account,
    require_instrument,
    require_issuer_or_agent,
    require_owned_account,
)
from rantai.core.books import Allocation, Book, Order, book_key
from rantai.core.errors import Malformed, Rejection
from rantai.core.ids import check_account_id, check_amount, check_instrument_code, check_tx_id
from rantai.core.kinds.settlement import affirm_as, create_instruction
from rantai.core.settlement import Leg
from rantai.core.tx import TxBody, TxContext
from rantai.crypto.hashing import sha256

__all__ = ["Allocate", "OpenBook", "PlaceOrder", "allocation_instruction_id"]


def _check_book_id(value: str) -> None:
    check_tx_id(value, "book")


def _require_book(ctx: TxContext, book: str) -> Book:
    record: Book | None = ctx.view.get(book_key(book))
    if record is None:
        raise Rejection(codes.UNKNOWN_BOOK, f"no book {book!r}")
    return record


def allocation_instruction_id(allocating_tx_id: bytes, account: str) -> str:
    """The id of the instruction an allocation to ``account`` creates: SHA-256 of the
    allocating transaction's id and the account id's UTF-8 bytes, in lowercase hex."""
    return sha256(allocating_tx_id + account.encode()).hex()


class OpenBook(TxBody, frozen=True, tag="open_book"):
    """Offer ``instrument`` at ``price_minor`` units of ``cash_instrument`` per unit, from
    and into the issuer's ``account``, taking orders until block time ``closes_ms``. Sender:
    the instrument's issuer or its agent. The book's id is this transaction's id.

    Rejects, in order: unknown_instrument, not_authorized, unknown_instrument (cash),
    unknown_account, not_authorized (the account is not the issuer's), bad_time (closing
    not after block time, or beyond SETTLEMENT_TTL_MS_MAX).
    """

    instrument: str
    cash_instrument: str
    price_minor: int
    account: str
    closes_ms: int

    def check_form(self) -> None:
        check_instrument_code(self.instrument)
        check_instrument_code(self.cash_instrument, "cash_instrument")
        check_amount(self.price_minor, "price_minor")
        check_account_id(self.account)
        if not 0 < self.closes_ms <= limits.TIMESTAMP_MS_MAX:
            raise Malformed(codes.BAD_FIELD, "closes_ms out of range")

    def apply(self, ctx: TxContext) -> None:
        view, now = ctx.view, ctx.timestamp_ms
        instrument = require_issuer_or_agent(view, self.instrument, ctx.sender)
        require_instrument(view, self.cash_instrument)
        require_owned_account(view, self.account, instrument.issuer)
        if not now < self.closes_ms <= now + limits.SETTLEMENT_TTL_MS_MAX:
            raise Rejection(codes.BAD_TIME, "closes_ms must be after block time, within the TTL")
        book = Book(
            ctx.tx_id.hex(),
            self.instrument,
            self.cash_instrument,
            self.price_minor,
            self.account,
            self.closes_ms,
            (),
            allocated=False,
        )
        view.put(book_key(book.id), book)
        ctx.emit("book_opened", book=book.id, instrument=self.instrument)


class PlaceOrder(TxBody, frozen=True, tag="place_order"):
    """Order ``quantity`` units from a book for the sender's ``account``; a second order for
    the same account replaces the first.

    Rejects, in order: unknown_book, book_closed (allocated, or block time at or past its
    closing), unknown_account, not_authorized, self_transfer (the book's own account),
    too_many_items (BOOK_ORDERS_MAX accounts ordered already).
    """

    book: str
    account: str
    quantity: int

    def check_form(self) -> None:
        _check_book_id(self.book)
        check_account_id(self.account)
        check_amount(self.quantity, "quantity")

    def apply(self, ctx: TxContext) -> None:
        book = _require_book(ctx, self.book)
        if book.allocated or ctx.timestamp_ms >= book.closes_ms:
            raise Rejection(codes.BOOK_CLOSED, f"book {book.id} is closed")
        require_owned_account(ctx.view, self.account, ctx.sender)
        if self.account == book.account:
            raise Rejection(codes.SELF_TRANSFER, "the book's own account cannot order")
        others = tuple(o for o in book.orders if o.account != self.account)
        if len(others) >= limits.BOOK_ORDERS_MAX:
            raise Rejection(codes.TOO_MANY_ITEMS, f"{limits.BOOK_ORDERS_MAX} orders in the book")
        orders = tuple(sorted((*others, Order(self.account, self.quantity)), key=_by_account))
        ctx.view.put(book_key(book.id), structs.replace(book, orders=orders))
        ctx.emit("order_placed", book=book.id, account=self.account, quantity=self.quantity)


def _by_account(order: Order) -> str:
    return order.account


class Allocate(TxBody, frozen=True, tag="allocate"):
    """Allocate a closed book: for each allocation above zero, a DvP instruction (the units
    from the book's account, ``quantity * price_minor`` of cash back) due by ``deadline_ms``,
    affirmed by the issuer here (earmarking its units); the investor's affirmation settles
    it. Sender: the instrument's issuer or its agent. Accounts without an allocation get
    nothing.

    Rejects, in order: unknown_book, not_authorized, book_open (before its closing),
    book_closed (allocated already), bad_time (deadline), then per allocation in account
    order: over_allocated (no order, or above it), bad_amount (the cash above AMOUNT_MAX),
    earmarked, too_many_items (the issuer's units).
    """

    book: str
    allocations: tuple[Allocation, ...]
    deadline_ms: int

    def check_form(self) -> None:
        _check_book_id(self.book)
        if not 1 <= len(self.allocations) <= limits.BOOK_ORDERS_MAX:
            raise Malformed(codes.TOO_MANY_ITEMS, f"1 to {limits.BOOK_ORDERS_MAX} allocations")
        accounts = [a.account for a in self.allocations]
        if accounts != sorted(set(accounts)):
            raise Malformed(codes.BAD_FIELD, "allocations: sorted by account, one per account")
        for allocation in self.allocations:
            check_account_id(allocation.account)
            if not 0 <= allocation.quantity <= limits.AMOUNT_MAX:
                raise Malformed(codes.BAD_AMOUNT, "quantity: 0 to AMOUNT_MAX")
        if not 0 < self.deadline_ms <= limits.TIMESTAMP_MS_MAX:
            raise Malformed(codes.BAD_FIELD, "deadline_ms out of range")

    def apply(self, ctx: TxContext) -> None:
        view, now = ctx.view, ctx.timestamp_ms
        book = _require_book(ctx, self.book)
        instrument = require_issuer_or_agent(view, book.instrument, ctx.sender)
        if now < book.closes_ms:
            raise Rejection(codes.BOOK_OPEN, f"book {book.id} closes at {book.closes_ms}")
        if book.allocated:
            raise Rejection(codes.BOOK_CLOSED, f"book {book.id} is allocated already")
        if not now < self.deadline_ms <= now + limits.SETTLEMENT_TTL_MS_MAX:
            raise Rejection(codes.BAD_TIME, "deadline must be after block time, within the TTL")
        ordered = {o.account: o.quantity for o in book.orders}
        for allocation in self.allocations:
            if allocation.quantity > ordered.get(allocation.account, 0):
                raise Rejection(codes.OVER_ALLOCATED, f"{allocation.account} ordered less")
            if allocation.quantity == 0:
                continue
            cash = allocation.quantity * book.price_minor
            if cash > limits.AMOUNT_MAX:
                raise Rejection(codes.BAD_AMOUNT, f"{allocation.account} would pay {cash}")
            require_account(view, allocation.account)
            legs = (
                Leg(book.account, allocation.account, book.instrument, allocation.quantity),
                Leg(allocation.account, book.account, book.cash_instrument, cash),
            )
            instruction_id = allocation_instruction_id(ctx.tx_id, allocation.account)
            record = create_instruction(ctx, instruction_id, legs, self.deadline_ms, "")
            affirm_as(ctx, record, instrument.issuer)
        view.put(book_key(book.id), structs.replace(book, allocated=True))
        ctx.emit("book_allocated", book=book.id, allocations=len(self.allocations))
