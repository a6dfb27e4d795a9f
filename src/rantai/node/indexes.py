"""Secondary indexes over the head state, for the listings the API pages through.

The state is a map keyed for the core (``bal/<account>/<instrument>`` and so on); listing
the holders of one instrument, or the parties in id order, would mean scanning all of it.
These indexes are built once when the node loads its state and then kept in step with each
block's state changes, in time proportional to the keys the block changed, under the node's
block lock (so a reader holding that lock sees them agree with the head).

| index | maps |
|---|---|
| ``parties`` | sorted party ids |
| ``instruments`` | sorted instrument codes |
| ``settlements_by_party`` | party -> sorted ids of instructions it is on (a leg or an affirmer) |
| ``settlements_by_kind`` | instrument kind -> sorted ids of the instructions moving that kind |

Holdings are the core's own index (``Ledger.index.holders``: per instrument, the accounts
holding it, sorted), and amounts are read from the state, not copied here: at a million
accounts every byte per account counts (docs/decisions/state-values.md). An account's
positions are found by asking each held instrument's sorted holders: a bisection each.
Parties are a ``SortedList``, not a ``SortedSet``: the set beside it would cost ~50 bytes a
party for membership tests only toggles make.

Zero balances are absent from state, so they are absent here too. An instruction's legs and
affirmers never change once proposed (only its state does), so the settlement indexes only
grow; a listing reads each instruction's state from the head state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sortedcontainers import SortedList, SortedSet

from rantai.core.ids import account_owner

__all__ = ["Indexes", "parse_balance_key"]

_BAL = "bal/"
_PARTY = "party/"
_INSTRUMENT = "inst/"
_SETTLEMENT = "settlement/"


def parse_balance_key(key: str) -> tuple[str, str] | None:
    """``(account, instrument)`` of a ``bal/<account>/<instrument>`` key, else ``None``."""
    if not key.startswith(_BAL):
        return None
    account, sep, instrument = key[len(_BAL) :].partition("/")
    return (account, instrument) if sep else None


class Indexes:
    """The head state's listings; see the module docstring. Not thread-safe by itself."""

    def __init__(self) -> None:
        self.parties: Any = SortedList()
        self.instruments: Any = SortedSet()
        self.settlements_by_party: dict[str, Any] = {}  # party -> SortedSet[instruction]
        self.settlements_by_kind: dict[str, Any] = {}  # instrument kind -> SortedSet[instruction]

    @classmethod
    def build(cls, values: Mapping[str, Any]) -> Indexes:
        """Index every key of ``values`` (the head state): linear in the state, once.

        Only settlement instructions are read; the other indexes need a key's presence."""
        indexes = cls()
        # Parties and instruments sorted once: a million parties added one by one, each
        # after a membership test, cost seconds of a node's start-up.
        parties: list[str] = []
        instruments: list[str] = []
        for key in values:
            if key.startswith(_PARTY):
                parties.append(key[len(_PARTY) :])
            elif key.startswith(_INSTRUMENT):
                instruments.append(key[len(_INSTRUMENT) :])
            elif key.startswith(_SETTLEMENT):
                indexes._add_settlement(values[key], values)
        indexes.parties = SortedList(parties)
        indexes.instruments = SortedSet(instruments)
        return indexes

    def apply(self, changes: Mapping[str, bytes | None], values: Mapping[str, Any]) -> None:
        """Bring the indexes in step with a block's ``changes`` (key -> its encoded value,
        None where deleted); ``values`` is the state after the block."""
        for key, raw in changes.items():
            self._update(key, raw is not None, values)

    def _update(self, key: str, present: bool, values: Mapping[str, Any]) -> None:
        if key.startswith(_PARTY):
            _toggle(self.parties, key[len(_PARTY) :], present)
        elif key.startswith(_INSTRUMENT):
            _toggle(self.instruments, key[len(_INSTRUMENT) :], present)
        elif key.startswith(_SETTLEMENT) and present:
            self._add_settlement(values[key], values)

    def _add_settlement(self, instruction: Any, values: Mapping[str, Any]) -> None:
        """Index a settlement instruction (``rantai.core.settlement.Instruction``) under its
        parties and its instruments' kinds; seeing it again (a state change) adds nothing."""
        parties = set(instruction.affirmers)
        kinds = set()
        for leg in instruction.legs:
            parties.add(account_owner(leg.source))
            parties.add(account_owner(leg.destination))
            record = values.get(_INSTRUMENT + leg.instrument)
            if record is not None:
                kinds.add(record.kind)
        for party in parties:
            self.settlements_by_party.setdefault(party, SortedSet()).add(instruction.id)
        for kind in kinds:
            self.settlements_by_kind.setdefault(kind, SortedSet()).add(instruction.id)


def _toggle(members: Any, member: str, present: bool) -> None:
    if present:
        if member not in members:  # a SortedList keeps duplicates
            members.add(member)
    else:
        members.discard(member)
