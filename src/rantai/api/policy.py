"""Who may read what: the table of docs/api.md ("Signed reads"), one function per resource.

Every signed-read route asks exactly one of these functions, after authentication and
before it touches private data, so the rules are read and tested in one place
(tests/api/test_authorization.py runs every route against every role).

| resource | function | may read |
|---|---|---|
| a party | ``may_read_party`` | the party itself, registrars, agencies |
| the party list | ``may_list_parties`` | registrars, agencies |
| an account's balances | ``may_list_positions`` | the owner, agencies, issuers ... |
| ... each listed | ``position_visible`` | owner: all; agency: in scope; issuer: its own |
| one balance with proof | ``may_read_balance`` | the owner, the issuer, an agency in scope |
| an instrument's holders | ``may_read_holders`` | the issuer, an agency in scope |
| an instrument's stats | ``may_read_stats`` | every agency |
| a transaction | ``may_read_tx`` | see its docstring |
| a block | ``may_read_block`` | agencies and the operator |
| the access log | ``may_read_access_log`` | agencies |

"In scope": an agency whose scope holds the instrument's kind.

An agency is a party named in the chain configuration's agencies; its scope is the set of
instrument kinds named for it there. The account owner is the party part of the account id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

import msgspec

from rantai.core.block import Receipt
from rantai.core.ids import account_owner
from rantai.core.kinds.instruments import CreateInstrument
from rantai.core.records import ChainConfig, Instrument, Party
from rantai.core.tx import TxBody

__all__ = [
    "TxSubjects",
    "Who",
    "may_list_parties",
    "may_list_positions",
    "may_read_access_log",
    "may_read_balance",
    "may_read_block",
    "may_read_holders",
    "may_read_party",
    "may_read_stats",
    "may_read_tx",
    "position_visible",
    "tx_subjects",
    "who_is",
]

ISSUING_ROLES: Final = frozenset({"issuer", "cash_issuer"})
# Event attributes that name an account, a party, an instrument (rantai.core.kinds).
ACCOUNT_ATTRS: Final = frozenset({"account", "source", "destination", "to"})
PARTY_ATTRS: Final = frozenset({"party"})
INSTRUMENT_ATTR: Final = "instrument"


@dataclass(frozen=True, slots=True)
class Who:
    """An authenticated reader: its party id, roles, and agency scope (``None``: no agency)."""

    party: str
    roles: frozenset[str]
    scope: frozenset[str] | None
    operator: bool

    @property
    def agency(self) -> bool:
        return self.scope is not None

    def covers(self, kind: str) -> bool:
        """Whether this reader is an agency whose scope covers instrument kind ``kind``."""
        return self.scope is not None and kind in self.scope


def who_is(party: Party, chain: ChainConfig) -> Who:
    """The reader ``party`` as the policy sees it under ``chain``'s configuration."""
    scope = next((a.scope for a in chain.agencies if a.party == party.id), None)
    return Who(
        party=party.id,
        roles=frozenset(party.roles),
        scope=None if scope is None else frozenset(scope),
        operator=chain.operator == party.id,
    )


def may_read_party(who: Who, party: str) -> bool:
    return who.party == party or "registrar" in who.roles or who.agency


def may_list_parties(who: Who) -> bool:
    return "registrar" in who.roles or who.agency


def may_list_positions(who: Who, account: str) -> bool:
    """Whether ``who`` may list ``account``'s balances at all (``position_visible`` filters)."""
    return account_owner(account) == who.party or who.agency or bool(who.roles & ISSUING_ROLES)


def position_visible(who: Who, account: str, instrument: Instrument) -> bool:
    """Whether ``who`` sees ``account``'s balance of ``instrument`` in the listing."""
    return (
        account_owner(account) == who.party
        or instrument.issuer == who.party
        or who.covers(instrument.kind)
    )


def may_read_balance(who: Who, account: str, instrument: Instrument) -> bool:
    return position_visible(who, account, instrument)


def may_read_holders(who: Who, instrument: Instrument) -> bool:
    return instrument.issuer == who.party or who.covers(instrument.kind)


def may_read_stats(who: Who) -> bool:
    return who.agency


def may_read_block(who: Who) -> bool:
    return who.agency or who.operator


def may_read_access_log(who: Who) -> bool:
    return who.agency


@dataclass(frozen=True, slots=True)
class TxSubjects:
    """Who and what a committed transaction concerns, for ``may_read_tx``."""

    sender: str
    parties: frozenset[str]  # owners of accounts its events name, and parties they name
    issuers: frozenset[str]  # issuers of instruments its events name
    kinds: frozenset[str]  # kinds of instruments its body or events name
    names_instruments: bool


def may_read_tx(who: Who, tx: TxSubjects) -> bool:
    """The sender; a party whose account (or itself) the receipt's events name; the issuer
    of an instrument they name; an agency whose scope covers the kind of an instrument the
    body or events name, or, for a transaction naming no instrument (parties, keys, roles,
    accounts), any agency with a non-empty scope. The ministry's empty scope sees none."""
    if who.party == tx.sender or who.party in tx.parties or who.party in tx.issuers:
        return True
    if who.scope is None:
        return False
    if tx.names_instruments:
        return bool(who.scope & tx.kinds)
    return bool(who.scope)


def tx_subjects(
    sender: str,
    body: TxBody,
    receipt: Receipt,
    instrument_of: Callable[[str], Instrument | None],
) -> TxSubjects:
    """The subjects of a transaction, looking instruments up with ``instrument_of``."""
    parties: set[str] = set()
    event_codes: set[str] = set()
    for event in receipt.events:
        for name, value in event.attrs.items():
            if not isinstance(value, str):
                continue
            if name in ACCOUNT_ATTRS:
                parties.add(account_owner(value))
            elif name in PARTY_ATTRS:
                parties.add(value)
            elif name == INSTRUMENT_ATTR:
                event_codes.add(value)
    body_codes = set(_instruments_named(body))
    kinds: set[str] = set()
    if isinstance(body, CreateInstrument):
        body_codes.add(body.code)
        kinds.add(body.kind)
    issuers: set[str] = set()
    for code in sorted(event_codes | body_codes):
        instrument = instrument_of(code)
        if instrument is None:
            continue
        kinds.add(instrument.kind)
        if code in event_codes:
            issuers.add(instrument.issuer)
    return TxSubjects(
        sender=sender,
        parties=frozenset(parties),
        issuers=frozenset(issuers),
        kinds=frozenset(kinds),
        names_instruments=bool(event_codes or body_codes),
    )


def _instruments_named(value: Any) -> Iterable[str]:
    """Values of fields called ``instrument`` in a body, through nested records and lists."""
    if isinstance(value, msgspec.Struct):
        for field in value.__struct_fields__:
            item = getattr(value, field)
            if field == INSTRUMENT_ATTR and isinstance(item, str):
                yield item
            else:
                yield from _instruments_named(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _instruments_named(item)
