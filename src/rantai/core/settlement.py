"""Settlement instructions, earmarks and cycles: the records and the reads they need.

An instruction moves units along its legs, all in one block or none (docs/decisions/
settlement.md). Every party whose account a leg debits affirms it; affirming earmarks the
units that party's legs will move, so the instruction cannot fail for lack of funds. The
kinds that change these records are in ``rantai.core.kinds.settlement``; this module has no
dependency on compliance, so compliance can read earmarks from here.

| key | value |
|---|---|
| ``settlement/<id>`` | ``Instruction`` (id: the proposing transaction's id, lowercase hex) |
| ``earmark/<account>/<instrument>`` | ``Earmarks``: one entry per affirmed instruction |
| ``cycle/<cycle>`` | ``Cycle``: the instructions queued for a settlement cycle |
| ``mediator/<instrument>`` | str: the party that must affirm every instruction moving it |

An instruction's ``state`` is stored as ``proposed``, ``affirmed``, ``settled``, ``failed``
or ``cancelled``. ``expired`` is never stored: ``status`` reads an instruction that is not
settled or cancelled as expired once block time reaches its deadline, and its earmarks stop
counting at that same instant, so expiry needs no transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import msgspec

from rantai.core.ids import account_owner
from rantai.core.state import StateView, register_namespace

__all__ = [
    "AFFIRMED",
    "CANCELLED",
    "EXPIRED",
    "FAILED",
    "PROPOSED",
    "SETTLED",
    "Cycle",
    "Earmark",
    "Earmarks",
    "Instruction",
    "Leg",
    "cycle_key",
    "debits",
    "earmark_key",
    "earmarked",
    "instruction_key",
    "mediator_key",
    "payers",
    "status",
]

PROPOSED, AFFIRMED, SETTLED, FAILED, CANCELLED, EXPIRED = (
    "proposed",
    "affirmed",
    "settled",
    "failed",
    "cancelled",
    "expired",
)
OPEN_STATES: Final = frozenset({PROPOSED, AFFIRMED, FAILED})
NO_LEG: Final = -1  # ``failed_leg`` of an instruction that has not failed


class Leg(msgspec.Struct, frozen=True, array_like=True):
    """Units of one instrument from one account to another, within an instruction."""

    source: str
    destination: str
    instrument: str
    amount: int


class Instruction(msgspec.Struct, frozen=True, array_like=True):
    """A settlement instruction and where it stands.

    ``affirmers`` must all affirm: the payers (the owners of the legs' source accounts) and
    the mandatory mediator of each instrument moved that has one, fixed when proposed;
    ``affirmed_by`` lists those who did, sorted. ``cycle`` is empty for gross settlement
    (on the last affirmation) or names the cycle that settles it net. ``failed_leg`` and
    ``failed_code`` say why the last attempt failed (``NO_LEG`` and ``""`` otherwise).
    """

    id: str
    proposer: str
    legs: tuple[Leg, ...]
    affirmers: tuple[str, ...]  # sorted
    deadline_ms: int
    cycle: str
    state: str
    affirmed_by: tuple[str, ...]  # sorted
    failed_leg: int
    failed_code: str
    proposed_height: int


class Earmark(msgspec.Struct, frozen=True, array_like=True):
    """Units reserved for an instruction until it settles, is cancelled or expires."""

    instruction: str
    amount: int
    until_ms: int  # the instruction's deadline: the earmark lapses at this block time


class Earmarks(msgspec.Struct, frozen=True, array_like=True):
    """The earmarks on one instrument in one account, sorted by instruction."""

    entries: tuple[Earmark, ...]


class Cycle(msgspec.Struct, frozen=True, array_like=True):
    """A settlement cycle: the instructions queued for it, sorted, and whether it ran."""

    id: str
    instructions: tuple[str, ...]
    ran: bool


def instruction_key(instruction: str) -> str:
    return f"settlement/{instruction}"


def earmark_key(account: str, instrument: str) -> str:
    return f"earmark/{account}/{instrument}"


def cycle_key(cycle: str) -> str:
    return f"cycle/{cycle}"


def mediator_key(instrument: str) -> str:
    return f"mediator/{instrument}"


def status(instruction: Instruction, timestamp_ms: int) -> str:
    """The instruction's state as read at block time ``timestamp_ms``: the stored state,
    or ``expired`` for an open instruction at or past its deadline."""
    if instruction.state in OPEN_STATES and timestamp_ms >= instruction.deadline_ms:
        return EXPIRED
    return instruction.state


def payers(legs: tuple[Leg, ...]) -> tuple[str, ...]:
    """The parties whose accounts the legs debit, sorted (account ids name their owner)."""
    return tuple(sorted({account_owner(leg.source) for leg in legs}))


def debits(legs: tuple[Leg, ...], party: str) -> Iterator[tuple[str, str, int]]:
    """``(account, instrument, amount)`` that ``party``'s accounts pay over all ``legs``,
    summed per account and instrument, in sorted order."""
    totals: dict[tuple[str, str], int] = {}
    for leg in legs:
        if account_owner(leg.source) == party:
            key = (leg.source, leg.instrument)
            totals[key] = totals.get(key, 0) + leg.amount
    for (account, instrument), amount in sorted(totals.items()):
        yield account, instrument, amount


def earmarked(view: StateView, account: str, instrument: str, timestamp_ms: int) -> int:
    """Units of ``instrument`` in ``account`` earmarked by instructions not yet expired."""
    record: Earmarks | None = view.get(earmark_key(account, instrument))
    if record is None:
        return 0
    return sum(e.amount for e in record.entries if timestamp_ms < e.until_ms)


register_namespace("settlement", Instruction)
register_namespace("earmark", Earmarks)
register_namespace("cycle", Cycle)
register_namespace("mediator", str)
