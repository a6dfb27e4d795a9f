"""Reading the records of the activity reports (``rantai.supervision.activity``) from the
committed blocks of a height range: the receipts' events, and, where an event does not say
enough, ledger facts as of the event's height from the store's state log.

A report reads only the blocks of the range asked for (at most ``REPORT_BLOCKS_MAX``), never
the whole ledger state. A time range is turned into heights by a binary search over the
headers' timestamps, which never decrease from one block to the next.

Settlement expiry has no event: an instruction is reported expired at the first block of the
range at or past its deadline, if it is still open then, for every instruction that some
settlement event of the range names (an instruction proposed before the range and never
touched in it is not seen).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Final

from rantai.core import codes
from rantai.core.block import Header, Receipt
from rantai.core.encoding import decode
from rantai.core.ids import account_owner
from rantai.core.settlement import Instruction, instruction_key
from rantai.core.tx import Event
from rantai.store.base import Store
from rantai.supervision.activity import (
    CANCELLED,
    EXPIRED,
    FAILED,
    FlowMovement,
    PartyGroups,
    SettlementFail,
    TravelRecord,
    category_group,
    residency_group,
)
from rantai.supervision.events import CommittedMovement
from rantai.supervision.supervisor import StoreContext

__all__ = [
    "REPORT_BLOCKS_MAX",
    "RangeTooLong",
    "read_fails",
    "read_flows",
    "read_movements",
    "read_travel",
    "resolve_range",
]

REPORT_BLOCKS_MAX: Final = 20_000  # measured: ~0.5 s per 1,000 blocks of 20 transfers
TRADE_EVENTS: Final = ("transfer", "settlement_leg")
FOREVER_MS: Final = 2**63 - 1
CLAIM_NAMESPACES: Final = ("claim", "trust")  # the state a party's counting claims depend on


class RangeTooLong(ValueError):
    """The range holds more than ``REPORT_BLOCKS_MAX`` blocks."""


def resolve_range(
    store: Store,
    *,
    from_height: int | None = None,
    to_height: int | None = None,
    from_ms: int | None = None,
    to_ms: int | None = None,
    blocks_max: int = REPORT_BLOCKS_MAX,
) -> tuple[int, int]:
    """The heights ``(first, last)``, both included, of the blocks in the range: heights
    ``from_height`` to ``to_height`` (default: genesis to the head) whose block time is in
    ``[from_ms, to_ms)``. Empty (``first > last``) when no block is in it.

    Raises:
        RangeTooLong: more than ``blocks_max`` blocks.
    """
    head = store.head_height()
    if head is None:
        return 0, -1
    first = 0 if from_height is None else from_height
    last = head if to_height is None else min(to_height, head)
    if from_ms is not None:
        first = max(first, _first_at_or_after(store, from_ms, head))
    if to_ms is not None:
        last = min(last, _first_at_or_after(store, to_ms, head) - 1)
    if last - first + 1 > blocks_max:
        raise RangeTooLong(f"{last - first + 1} blocks; at most {blocks_max} per report")
    return first, last


def _timestamp_ms(store: Store, height: int) -> int:
    stored = store.get_header(height)
    if stored is None:
        raise LookupError(f"no header at {height}")
    return decode(stored[1], Header).timestamp_ms


def _first_at_or_after(store: Store, at_ms: int, head: int) -> int:
    """The lowest height whose block time is at or after ``at_ms`` (``head + 1``: none)."""
    low, high = 0, head + 1
    while low < high:
        middle = (low + high) // 2
        if _timestamp_ms(store, middle) < at_ms:
            low = middle + 1
        else:
            high = middle
    return low


def _blocks(
    store: Store, first: int, last: int
) -> Iterator[tuple[Header, list[Receipt], Collection[str]]]:
    """Each block's header, receipts and the claim and trust keys it changed."""
    for height in range(first, last + 1):
        # The envelopes, most of a block's bytes, and its other changes stay unread.
        block = store.get_outcome(height, CLAIM_NAMESPACES)
        if block is None:
            raise LookupError(f"no block at {height}")
        receipts = [decode(raw, Receipt) for raw in block.receipts]
        yield decode(block.header, Header), receipts, block.state_changes.keys()


def _ok_events(receipts: Sequence[Receipt]) -> Iterator[tuple[int, Receipt, Event]]:
    for index, receipt in enumerate(receipts):
        if receipt.code == codes.OK:
            for event in receipt.events:
                yield index, receipt, event


def _movements_in(
    header: Header, receipts: Sequence[Receipt], instrument: str | None
) -> Iterator[CommittedMovement]:
    for index, receipt, event in _ok_events(receipts):
        if event.name not in TRADE_EVENTS:
            continue
        a = event.attrs
        source, destination = a.get("source"), a.get("destination")
        code, amount = a.get("instrument"), a.get("amount")
        if not (isinstance(source, str) and isinstance(destination, str)):
            continue
        if not (isinstance(code, str) and isinstance(amount, int)):
            continue
        if instrument is None or code == instrument:
            yield CommittedMovement(
                event.name, header.height, header.timestamp_ms, receipt.tx_id.hex(), index,
                source, destination, code, amount,
            )  # fmt: skip


def read_movements(
    store: Store, first: int, last: int, instrument: str | None = None
) -> list[CommittedMovement]:
    """Transfers and settlement legs of heights ``first`` to ``last`` (of ``instrument``,
    if given), in block and event order, as ``CommittedMovement`` of kind ``transfer`` or
    ``settlement_leg``."""
    return [
        movement
        for header, receipts, _ in _blocks(store, first, last)
        for movement in _movements_in(header, receipts, instrument)
    ]


def read_flows(
    store: Store, first: int, last: int, home_country: str, instrument: str | None = None
) -> list[FlowMovement]:
    """The movements of ``read_movements``, each with its parties' groups from their
    counting ``investor_category`` and ``residency`` claims as of the movement's block.

    A party's groups are looked up once and kept until a block changes a claim or the
    trusted issuers, or the block time reaches the expiry of a claim they came from; so the
    state log is read per party and change, not per movement.
    """
    flows: list[FlowMovement] = []
    known: dict[str, tuple[PartyGroups, int]] = {}  # party -> (groups, valid until, ms)
    for header, receipts, changed in _blocks(store, first, last):
        if changed:
            known.clear()
        ctx: StoreContext | None = None
        for m in _movements_in(header, receipts, instrument):
            sides: list[PartyGroups] = []
            for party in (m.source_party, m.destination_party):
                found = known.get(party)
                if found is None or header.timestamp_ms >= found[1]:
                    ctx = ctx or StoreContext(store, header.height, header.timestamp_ms)
                    found = known[party] = _groups(ctx, party, home_country)
                sides.append(found[0])
            flows.append(FlowMovement(m, sides[0], sides[1]))
    return flows


def _groups(ctx: StoreContext, party: str, home_country: str) -> tuple[PartyGroups, int]:
    """``party``'s groups, and the block time from which they must be looked up again."""
    category = ctx.counting_claim(party, "investor_category")
    residency = ctx.counting_claim(party, "residency")
    groups = PartyGroups(
        category_group(None if category is None else category.value),
        residency_group(None if residency is None else residency.value, home_country),
    )
    # An absent claim appears only through a state change; a counting one until it expires.
    expiries = [c.expires_ms for c in (category, residency) if c is not None]
    return groups, min(expiries, default=FOREVER_MS)


def read_fails(store: Store, first: int, last: int) -> list[SettlementFail]:
    """Settlement instructions that failed, were cancelled or expired in heights ``first`` to
    ``last``, in the order it happened (module docstring for expiry)."""
    known: dict[str, Instruction] = {}
    open_deadlines: dict[str, int] = {}
    found: list[SettlementFail] = []

    def fail(outcome: str, record: Instruction, height: int, at_ms: int, tx_id: str,
             leg: int | None = None, code: str = "") -> SettlementFail:  # fmt: skip
        parties = {record.proposer} | {account_owner(leg.source) for leg in record.legs}
        parties |= {account_owner(leg.destination) for leg in record.legs}
        instruments = tuple(sorted({leg.instrument for leg in record.legs}))
        return SettlementFail(outcome, height, at_ms, tx_id, record.id, leg, code,
                              tuple(sorted(parties)), instruments)  # fmt: skip

    for header, receipts, _ in _blocks(store, first, last):
        due = sorted(
            (deadline, i) for i, deadline in open_deadlines.items()
            if deadline <= header.timestamp_ms
        )  # fmt: skip
        for deadline, expired_id in due:
            del open_deadlines[expired_id]
            found.append(fail(EXPIRED, known[expired_id], header.height, deadline, ""))
        for _, receipt, event in _ok_events(receipts):
            instruction_id = event.attrs.get("instruction")
            if not event.name.startswith("settlement_") or not isinstance(instruction_id, str):
                continue
            record = known.get(instruction_id)
            if record is None:
                raw = store.get_state_at(instruction_key(instruction_id), header.height)
                if raw is None:
                    continue
                record = known[instruction_id] = decode(raw, Instruction)
            tx_id = receipt.tx_id.hex()
            if event.name in ("settlement_settled", "settlement_cancelled"):
                open_deadlines.pop(instruction_id, None)
                if event.name == "settlement_cancelled":
                    found.append(fail(CANCELLED, record, header.height, header.timestamp_ms,
                                      tx_id))  # fmt: skip
                continue
            open_deadlines[instruction_id] = record.deadline_ms
            if event.name == "settlement_failed":
                leg, code = event.attrs.get("leg"), event.attrs.get("code")
                found.append(
                    fail(FAILED, record, header.height, header.timestamp_ms, tx_id,
                         leg if isinstance(leg, int) else None, code if isinstance(code, str)
                         else "")
                )  # fmt: skip
    return found


def read_travel(store: Store, first: int, last: int) -> list[TravelRecord]:
    """Transfers of heights ``first`` to ``last`` that carried travel-rule data."""
    found: list[TravelRecord] = []
    for header, receipts, _ in _blocks(store, first, last):
        for receipt in receipts:
            if receipt.code != codes.OK:
                continue
            travel = [e.attrs for e in receipt.events if e.name == "travel_data"]
            moves = [e.attrs for e in receipt.events if e.name == "transfer"]
            for data in travel:
                move = next(
                    (m for m in moves
                     if (m.get("source"), m.get("destination"))
                     == (data.get("source"), data.get("destination"))),
                    None,
                )  # fmt: skip
                if move is None:
                    continue
                readers = data.get("readers")
                found.append(
                    TravelRecord(
                        receipt.tx_id.hex(), header.height, header.timestamp_ms,
                        str(move.get("instrument")), int(move.get("amount") or 0),
                        str(data.get("source")), str(data.get("destination")),
                        str(data.get("commitment")),
                        tuple(readers.split(",")) if isinstance(readers, str) and readers else (),
                    )
                )  # fmt: skip
    return found
