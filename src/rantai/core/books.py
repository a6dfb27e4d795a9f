"""Book-building for primary issuance: a book of orders at a fixed price, allocated by the
issuer and settled delivery-versus-payment through settlement instructions
(docs/decisions/settlement.md).

| key | value |
|---|---|
| ``book/<id>`` | ``Book`` (id: the opening transaction's id, lowercase hex) |
"""

from __future__ import annotations

import msgspec

from rantai.core.state import register_namespace

__all__ = ["Allocation", "Book", "Order", "book_key"]


class Order(msgspec.Struct, frozen=True, array_like=True):
    """An investor's order: ``quantity`` units of the book's instrument for ``account``."""

    account: str
    quantity: int


class Allocation(msgspec.Struct, frozen=True, array_like=True):
    """Units allocated to an account that ordered (zero allocates nothing)."""

    account: str
    quantity: int


class Book(msgspec.Struct, frozen=True, array_like=True):
    """A book: ``instrument`` offered at ``price_minor`` units of ``cash_instrument`` per
    unit, delivered from and paid into the issuer's ``account``; orders taken until block
    time ``closes_ms``. ``orders`` are sorted by account, one per account."""

    id: str
    instrument: str
    cash_instrument: str
    price_minor: int
    account: str
    closes_ms: int
    orders: tuple[Order, ...]
    allocated: bool


def book_key(book: str) -> str:
    return f"book/{book}"


register_namespace("book", Book)
