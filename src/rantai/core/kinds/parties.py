"""Parties, their accounts, keys and roles.

A party's id is fixed at registration and never depends on its keys: keys are added and
revoked (and, through governance, recovered) without moving holdings.
"""

from __future__ import annotations

from typing import Final

from msgspec.structs import replace

from rantai.core import codes, limits
from rantai.core.access import has_role, require_party
from rantai.core.errors import Malformed, Rejection
from rantai.core.ids import account_id, check_account_name, check_party_id, check_public_keys
from rantai.core.kinds.genesis import GenesisParty, create_party
from rantai.core.records import (
    ACCOUNT_KINDS,
    ROLE_GRANTORS,
    ROLES,
    Account,
    Party,
    account_key,
    party_key,
    public_key_key,
)
from rantai.core.tx import TxBody, TxContext

__all__ = ["AddKey", "GrantRole", "OpenAccount", "RegisterParty", "RevokeKey", "RevokeRole"]

REGISTRABLE_KINDS: Final = ("person", "organisation")


def _require_grantor(sender: Party, role: str) -> None:
    if not any(has_role(sender, g) for g in ROLE_GRANTORS[role]):
        raise Rejection(codes.NOT_AUTHORIZED, f"{sender.id!r} may not grant or revoke {role!r}")


class RegisterParty(TxBody, frozen=True, tag="register_party"):
    """Onboard a party. Sender: a registrar, granting only roles a registrar may grant."""

    id: str
    kind: str
    name: str
    keys: tuple[bytes, ...]
    roles: tuple[str, ...]

    def check_form(self) -> None:
        GenesisParty(self.id, self.kind, self.name, self.keys, self.roles).check_form()
        if self.kind not in REGISTRABLE_KINDS:
            raise Malformed(codes.BAD_FIELD, "agencies are named at genesis")

    def apply(self, ctx: TxContext) -> None:
        sender = require_party(ctx.view, ctx.sender)
        if not has_role(sender, "registrar"):
            raise Rejection(codes.NOT_AUTHORIZED, "only a registrar registers parties")
        for role in self.roles:
            _require_grantor(sender, role)
        party = GenesisParty(self.id, self.kind, self.name, self.keys, self.roles)
        create_party(ctx, party, registered_by=sender.id)


class OpenAccount(TxBody, frozen=True, tag="open_account"):
    """Open another account ``<sender>:<name>``. Sender: the owner."""

    name: str
    kind: str

    def check_form(self) -> None:
        check_account_name(self.name)
        if self.kind not in ACCOUNT_KINDS:
            raise Malformed(codes.BAD_FIELD, f"account kind: one of {ACCOUNT_KINDS}")

    def apply(self, ctx: TxContext) -> None:
        account = account_id(ctx.sender, self.name)
        if ctx.view.get(account_key(account)) is not None:
            raise Rejection(codes.ALREADY_EXISTS, f"account {account!r} exists")
        if self.kind != "own" and not has_role(require_party(ctx.view, ctx.sender), "custodian"):
            raise Rejection(codes.NOT_AUTHORIZED, "only a custodian opens client accounts")
        ctx.view.put(account_key(account), Account(account, ctx.sender, self.kind, ctx.height))
        ctx.emit("account_opened", account=account, kind=self.kind)


class AddKey(TxBody, frozen=True, tag="add_key"):
    """Add a signing key to the sender's own party."""

    public_key: bytes

    def check_form(self) -> None:
        check_public_keys((self.public_key,), "public_key")

    def apply(self, ctx: TxContext) -> None:
        party = require_party(ctx.view, ctx.sender)
        if ctx.view.get(public_key_key(self.public_key)) is not None:
            raise Rejection(codes.KEY_IN_USE, "the key belongs to a party already")
        if len(party.keys) >= limits.PARTY_KEYS_MAX:
            raise Rejection(codes.TOO_MANY_ITEMS, f"a party has at most {limits.PARTY_KEYS_MAX}")
        ctx.view.put(public_key_key(self.public_key), party.id)
        ctx.view.put(party_key(party.id), replace(party, keys=(*party.keys, self.public_key)))
        ctx.emit("key_added", party=party.id, public_key=self.public_key.hex())


class RevokeKey(TxBody, frozen=True, tag="revoke_key"):
    """Revoke one of the sender's own keys; the last key cannot be revoked."""

    public_key: bytes

    def check_form(self) -> None:
        if len(self.public_key) != 32:
            raise Malformed(codes.BAD_FIELD, "public_key: 32 bytes")

    def apply(self, ctx: TxContext) -> None:
        party = require_party(ctx.view, ctx.sender)
        if self.public_key not in party.keys:
            raise Rejection(codes.UNKNOWN_KEY, "not a key of the sender")
        if len(party.keys) == 1:
            raise Rejection(codes.LAST_KEY, "a party keeps at least one key")
        ctx.view.delete(public_key_key(self.public_key))
        keys = tuple(k for k in party.keys if k != self.public_key)
        ctx.view.put(party_key(party.id), replace(party, keys=keys))
        ctx.emit("key_revoked", party=party.id, public_key=self.public_key.hex())


class GrantRole(TxBody, frozen=True, tag="grant_role"):
    """Grant ``role`` to ``party``. Sender: a holder of a role that grants it."""

    party: str
    role: str

    def check_form(self) -> None:
        check_party_id(self.party)
        if self.role not in ROLES:
            raise Malformed(codes.BAD_FIELD, f"unknown role {self.role[:40]!r}")

    def apply(self, ctx: TxContext) -> None:
        _require_grantor(require_party(ctx.view, ctx.sender), self.role)
        party = require_party(ctx.view, self.party)
        if has_role(party, self.role):
            raise Rejection(codes.ROLE_HELD, f"{party.id!r} is already {self.role!r}")
        if len(party.roles) >= limits.PARTY_ROLES_MAX:
            raise Rejection(codes.TOO_MANY_ITEMS, "too many roles")
        roles = tuple(sorted((*party.roles, self.role)))
        ctx.view.put(party_key(party.id), replace(party, roles=roles))
        ctx.emit("role_granted", party=party.id, role=self.role, by=ctx.sender)


class RevokeRole(TxBody, frozen=True, tag="revoke_role"):
    """Revoke ``role`` from ``party``. Sender: a holder of a role that grants it."""

    party: str
    role: str

    def check_form(self) -> None:
        GrantRole(self.party, self.role).check_form()

    def apply(self, ctx: TxContext) -> None:
        _require_grantor(require_party(ctx.view, ctx.sender), self.role)
        party = require_party(ctx.view, self.party)
        if not has_role(party, self.role):
            raise Rejection(codes.ROLE_NOT_HELD, f"{party.id!r} is not {self.role!r}")
        roles = tuple(r for r in party.roles if r != self.role)
        ctx.view.put(party_key(party.id), replace(party, roles=roles))
        ctx.emit("role_revoked", party=party.id, role=self.role, by=ctx.sender)
