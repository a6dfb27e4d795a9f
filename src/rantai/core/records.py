"""The records the ledger keeps in its state, and the keys they live at.

| key | value |
|---|---|
| ``chain`` | ``ChainConfig``: chain id, operator, agencies, governance thresholds |
| ``party/<party>`` | ``Party`` |
| ``nonce/<party>`` | int, the party's next nonce (absent: 0) |
| ``key/<public key hex>`` | str, the party the key belongs to |
| ``account/<account>`` | ``Account`` |
| ``inst/<instrument>`` | ``Instrument`` |
| ``bal/<account>/<instrument>`` | int, balance in minor units (absent: 0; zero is never stored) |

Later modules add namespaces of their own through ``register_namespace``, each listed in
its module's docstring:

| namespaces | module |
|---|---|
| ``trust``, ``claim`` | ``rantai.core.claims`` |
| ``policy``, ``preapproval`` | ``rantai.core.rules`` |
| ``holding``, ``holders`` | ``rantai.core.holdings`` |
| ``vol``, ``retail`` | ``rantai.core.windows`` |
| ``ctl``, ``breaker`` | ``rantai.core.controls`` |
| ``agents`` | ``rantai.core.agents`` |
| ``govconf`` | ``rantai.core.governance`` |
| ``proposal`` | ``rantai.core.actions`` |
| ``settlement``, ``earmark``, ``cycle``, ``mediator`` | ``rantai.core.settlement`` |
| ``book`` | ``rantai.core.books`` |
| ``record``, ``recopen``, ``snap`` | ``rantai.core.record_dates`` |
| ``dist``, ``owed`` | ``rantai.core.distributions`` |
| ``ballot``, ``vote`` | ``rantai.core.ballots`` |
| ``bond``, ``bondstate``, ``fixing``, ``profit``, ``shariah``, ``put`` | ``rantai.core.bonds`` |
| ``cash``, ``cashlimit``, ``cashref``, ``nrflow`` | ``rantai.core.cash`` |
| ``fund``, ``nav``, ``fundq`` | ``rantai.core.funds`` |
"""

from __future__ import annotations

from typing import Final

import msgspec

from rantai.core.registers import register_scannable
from rantai.core.state import register_namespace

__all__ = [
    "ACCOUNT_KINDS",
    "ACTION_CLASSES",
    "INSTRUMENT_KINDS",
    "PARTY_KINDS",
    "ROLES",
    "ROLE_GRANTORS",
    "Account",
    "Agency",
    "ChainConfig",
    "Instrument",
    "Party",
    "Threshold",
    "account_key",
    "balance_key",
    "instrument_key",
    "nonce_key",
    "party_key",
    "public_key_key",
]

PARTY_KINDS: Final = ("person", "organisation", "agency")
ACCOUNT_KINDS: Final = ("own", "omnibus", "segregated")
INSTRUMENT_KINDS: Final = ("cash", "bond", "sukuk", "fund", "equity", "other")

# Governance action classes and their default approvals; the governance issue uses them.
ACTION_CLASSES: Final = (
    "freeze",
    "unfreeze",
    "forced_transfer",
    "key_recovery",
    "instrument_suspension",
    "rule_change",
    "claim_issuers",
    "reserve",
    "roles",
    "governance",
)


ROLES: Final = (
    "agency",
    "cash_issuer",
    "claim_issuer",
    "custodian",
    "investor",
    "issuer",
    "issuer_agent",
    "operator",
    "oracle",
    "registrar",
    "reserve_treasury",
    "shariah_adviser",
)

# Who may grant (and revoke) each role. Agency and operator roles are set at genesis only.
# Until governance lands, one agency grants the licensed roles; docs/decisions/roles.md.
ROLE_GRANTORS: Final[dict[str, tuple[str, ...]]] = {
    "agency": (),
    "operator": (),
    "cash_issuer": ("agency",),
    "claim_issuer": ("agency",),
    "oracle": ("agency",),
    "registrar": ("agency",),
    "reserve_treasury": ("agency",),
    "shariah_adviser": ("agency",),  # the securities commission registers Shariah advisers
    "custodian": ("registrar",),
    "investor": ("registrar",),
    "issuer": ("registrar",),
    "issuer_agent": ("registrar",),
}


# gc=False on records of immutable fields only (str, int, bytes, tuples, other such records):
# they cannot be part of a reference cycle, so the cyclic collector need not track them. At a
# million accounts the decoded cache takes in ~8 of them a transfer, and each tracked one
# made the young generation's collections walk it (tests/core/test_records.py).
class Party(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """An identified participant. Its id is stable; its keys may change."""

    id: str
    kind: str
    name: str
    keys: tuple[bytes, ...]
    roles: tuple[str, ...]  # sorted
    registered_by: str
    registered_height: int


class Account(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """Where a party holds instruments."""

    id: str
    owner: str
    kind: str
    opened_height: int


class Instrument(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """A tokenized asset class. ``supply`` is always the sum of its balances."""

    code: str
    kind: str
    name: str
    decimals: int
    issuer: str
    supply_cap: int
    supply: int
    created_height: int


class Agency(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """A supervising agency and the instrument kinds its reads cover."""

    party: str
    scope: tuple[str, ...]


class Threshold(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """How many agencies must approve an action class."""

    action_class: str
    approvals: int


class ChainConfig(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """What genesis fixed for the life of the chain (until governance changes it)."""

    chain_id: str
    operator: str
    agencies: tuple[Agency, ...]
    thresholds: tuple[Threshold, ...]
    executors: tuple[bytes, ...]  # public keys whose signatures certify blocks
    genesis_timestamp_ms: int


def party_key(party: str) -> str:
    return f"party/{party}"


def nonce_key(party: str) -> str:
    return f"nonce/{party}"


def public_key_key(public_key: bytes) -> str:
    return f"key/{public_key.hex()}"


def account_key(account: str) -> str:
    return f"account/{account}"


def instrument_key(code: str) -> str:
    return f"inst/{code}"


def balance_key(account: str, instrument: str) -> str:
    return f"bal/{account}/{instrument}"


CHAIN_KEY: Final = "chain"

register_namespace("chain", ChainConfig)
register_namespace("party", Party)
register_namespace("nonce", int)
register_namespace("key", str)
register_namespace("account", Account)
register_scannable("account")  # a party's accounts, by the prefix account/<party>:
register_namespace("inst", Instrument)
register_namespace("bal", int)
