"""Genesis: the first transaction, which names the chain, its agencies, operator and roles.

It is the only kind whose sender is not yet registered. Its envelope must be signed with one
of the operator's declared keys, with nonce 0, and it is valid only on an empty ledger.
"""

from __future__ import annotations

from typing import Final

import msgspec

from rantai.core import codes, limits
from rantai.core.errors import Malformed, Rejection
from rantai.core.ids import account_id, check_party_id, check_public_keys, check_text
from rantai.core.records import (
    ACTION_CLASSES,
    CHAIN_KEY,
    INSTRUMENT_KINDS,
    PARTY_KINDS,
    ROLES,
    Account,
    Agency,
    ChainConfig,
    Party,
    Threshold,
    account_key,
    party_key,
    public_key_key,
)
from rantai.core.tx import TxBody, TxContext

__all__ = ["ACTION_CLASSES", "Genesis", "GenesisAgency", "GenesisParty", "create_party"]

CHAIN_ID_CHARS_MAX: Final = 64


class GenesisParty(msgspec.Struct, frozen=True, array_like=True):
    """A party named at genesis, with its keys and roles."""

    id: str
    kind: str
    name: str
    keys: tuple[bytes, ...]
    roles: tuple[str, ...]

    def check_form(self) -> None:
        check_party_id(self.id)
        check_text(self.name, "name", limits.NAME_CHARS_MAX)
        if self.kind not in PARTY_KINDS:
            raise Malformed(codes.BAD_FIELD, f"party kind {self.kind[:40]!r}")
        if not 1 <= len(self.keys) <= limits.PARTY_KEYS_MAX:
            raise Malformed(codes.TOO_MANY_ITEMS, f"a party has 1 to {limits.PARTY_KEYS_MAX} keys")
        if len(self.roles) > limits.PARTY_ROLES_MAX:
            raise Malformed(codes.TOO_MANY_ITEMS, "too many roles")
        check_public_keys(self.keys, "keys")
        if any(r not in ROLES for r in self.roles) or len(set(self.roles)) != len(self.roles):
            raise Malformed(codes.BAD_FIELD, "roles: distinct known roles")


class GenesisAgency(msgspec.Struct, frozen=True, array_like=True):
    """An agency named at genesis, and the instrument kinds its supervisory reads cover."""

    party: GenesisParty
    scope: tuple[str, ...]


class Genesis(TxBody, frozen=True, tag="genesis"):
    """Create the chain. Sender: the operator. Valid only on an empty ledger."""

    needs_sender = False

    chain_id: str
    operator: GenesisParty
    agencies: tuple[GenesisAgency, ...]
    parties: tuple[GenesisParty, ...]
    thresholds: tuple[Threshold, ...]
    executors: tuple[bytes, ...]

    def check_form(self) -> None:
        check_text(self.chain_id, "chain_id", CHAIN_ID_CHARS_MAX)
        if not 1 <= len(self.agencies) <= limits.AGENCIES_MAX:
            raise Malformed(codes.TOO_MANY_ITEMS, f"1 to {limits.AGENCIES_MAX} agencies")
        if len(self.parties) > limits.GENESIS_PARTIES_MAX:
            raise Malformed(codes.TOO_MANY_ITEMS, "too many genesis parties")
        everyone = [self.operator, *(a.party for a in self.agencies), *self.parties]
        for party in everyone:
            party.check_form()
        if len({p.id for p in everyone}) != len(everyone):
            raise Malformed(codes.BAD_FIELD, "party ids must be distinct")
        all_keys = [k for p in everyone for k in p.keys]
        if len(set(all_keys)) != len(all_keys):
            raise Malformed(codes.BAD_FIELD, "a key may belong to one party only")
        if not 1 <= len(self.executors) <= limits.AGENCIES_MAX + 1:
            raise Malformed(codes.TOO_MANY_ITEMS, "1 to one more than the agencies' executors")
        check_public_keys(self.executors, "executors")
        for agency in self.agencies:
            if any(s not in INSTRUMENT_KINDS for s in agency.scope):
                raise Malformed(codes.BAD_FIELD, "agency scope: instrument kinds")
        for threshold in self.thresholds:
            if threshold.action_class not in ACTION_CLASSES:
                raise Malformed(codes.BAD_FIELD, f"action class {threshold.action_class!r}")
            if not 1 <= threshold.approvals <= len(self.agencies):
                raise Malformed(codes.BAD_FIELD, "approvals: 1 to the number of agencies")

    def apply(self, ctx: TxContext) -> None:
        view = ctx.view
        if view.get(CHAIN_KEY) is not None:
            raise Rejection(codes.GENESIS_ONLY, "the chain has a genesis already")
        if ctx.sender != self.operator.id:
            raise Rejection(codes.NOT_AUTHORIZED, "genesis is sent by its operator")
        operator = GenesisParty(
            self.operator.id,
            self.operator.kind,
            self.operator.name,
            self.operator.keys,
            tuple(sorted({*self.operator.roles, "operator"})),
        )
        agencies = [
            GenesisParty(
                a.party.id,
                "agency",
                a.party.name,
                a.party.keys,
                tuple(sorted({*a.party.roles, "agency"})),
            )
            for a in self.agencies
        ]
        for party in (operator, *agencies, *self.parties):
            create_party(ctx, party, registered_by=self.operator.id)
        defaults = {c: (len(self.agencies) // 2 + 1) for c in ACTION_CLASSES}
        defaults["governance"] = len(self.agencies)
        defaults.update({t.action_class: t.approvals for t in self.thresholds})
        view.put(
            CHAIN_KEY,
            ChainConfig(
                chain_id=self.chain_id,
                operator=self.operator.id,
                agencies=tuple(Agency(a.party.id, tuple(sorted(a.scope))) for a in self.agencies),
                thresholds=tuple(Threshold(c, defaults[c]) for c in sorted(defaults)),
                executors=self.executors,
                genesis_timestamp_ms=ctx.timestamp_ms,
            ),
        )
        ctx.emit("genesis", chain_id=self.chain_id, operator=self.operator.id)


def create_party(ctx: TxContext, party: GenesisParty, registered_by: str) -> None:
    """Write a new party, its key index and its default account. Rejects: already_exists,
    key_in_use."""
    view = ctx.view
    if view.get(party_key(party.id)) is not None:
        raise Rejection(codes.ALREADY_EXISTS, f"party {party.id!r} exists")
    for key in party.keys:
        if view.get(public_key_key(key)) is not None:
            raise Rejection(codes.KEY_IN_USE, f"key {key.hex()} belongs to another party")
        view.put(public_key_key(key), party.id)
    view.put(
        party_key(party.id),
        Party(
            id=party.id,
            kind=party.kind,
            name=party.name,
            keys=party.keys,
            roles=tuple(sorted(party.roles)),
            registered_by=registered_by,
            registered_height=ctx.height,
        ),
    )
    main = account_id(party.id)
    view.put(account_key(main), Account(main, party.id, "own", ctx.height))
    ctx.emit("party_registered", party=party.id, kind=party.kind, registrar=registered_by)
