"""Committed movements, as the monitors see them: read from a block's receipts.

A transfer (also each movement of a batch or travel transfer) gives one ``kind="transfer"``
movement; a mint gives ``kind="mint"`` (no source), a burn ``kind="burn"`` (no destination).
Only receipts with code ``ok`` carry events, so only what changed the ledger is seen. Parties
are the owners named in the account ids (``<party>:<name>``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final

import msgspec

from rantai.core import codes
from rantai.core.block import Receipt
from rantai.core.ids import account_owner

__all__ = ["MOVEMENT_KINDS", "CommittedMovement", "movements_of"]

MOVEMENT_KINDS: Final = ("transfer", "mint", "burn")


class CommittedMovement(msgspec.Struct, frozen=True, gc=False):
    """One committed movement of units, with where and when it was committed.

    ``source`` / ``destination`` are account ids, ``""`` where there is none (a mint has no
    source, a burn no destination); ``*_party`` are their owners, ``""`` likewise.

    A struct, not a dataclass: one is made per movement, and a struct is made several times
    faster; its fields are strings and integers, so the collector need not track it.
    """

    kind: str
    height: int
    at_ms: int
    tx_id: str  # hex
    index: int  # position of the transaction in its block
    source: str
    destination: str
    instrument: str
    amount: int

    @property
    def source_party(self) -> str:
        return account_owner(self.source) if self.source else ""

    @property
    def destination_party(self) -> str:
        return account_owner(self.destination) if self.destination else ""


def movements_of(
    height: int, at_ms: int, receipts: Sequence[Receipt]
) -> Iterator[CommittedMovement]:
    """The movements of one block's receipts, in block and event order."""
    for index, receipt in enumerate(receipts):
        if receipt.code != codes.OK:
            continue
        for event in receipt.events:
            if event.name not in MOVEMENT_KINDS:
                continue
            attrs = event.attrs
            amount = attrs.get("amount")
            instrument = attrs.get("instrument")
            if not isinstance(amount, int) or not isinstance(instrument, str):
                continue
            if event.name == "transfer":
                source, destination = attrs.get("source"), attrs.get("destination")
            elif event.name == "mint":
                source, destination = "", attrs.get("to")
            else:
                source, destination = attrs.get("account"), ""
            if not isinstance(source, str) or not isinstance(destination, str):
                continue
            yield CommittedMovement(
                event.name,
                height,
                at_ms,
                receipt.tx_id.hex(),
                index,
                source,
                destination,
                instrument,
                amount,
            )
