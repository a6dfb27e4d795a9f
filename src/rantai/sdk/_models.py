"""What the client returns: frozen records, using the core's own records where one exists.

Records whose name ends in a verified fact (``Balance``, ``Transaction``, ``HeaderInfo`` from
proof-carrying routes) are returned only after the SDK checked them; see ``_verify``.
"""

from __future__ import annotations

from dataclasses import dataclass

from rantai.core import codes
from rantai.core.block import BlockSignature, Header, Receipt
from rantai.core.bonds import BondState, BondTerms, Certification
from rantai.core.records import ChainConfig
from rantai.core.tx import TxBody
from rantai.crypto.smt import StateProof

__all__ = [
    "Balance",
    "Balances",
    "ChainInfo",
    "HeaderInfo",
    "Health",
    "Holding",
    "Schedule",
    "SchedulePeriod",
    "Submission",
    "Transaction",
]


@dataclass(frozen=True, slots=True)
class Health:
    """``GET /health``: whether the node serves, its head height and chain."""

    status: str
    height: int
    chain_id: str


@dataclass(frozen=True, slots=True)
class ChainInfo:
    """``GET /v1/chain``: what genesis fixed (agencies, scopes, thresholds, executor keys) and
    the head height."""

    config: ChainConfig
    height: int


@dataclass(frozen=True, slots=True)
class HeaderInfo:
    """A block header, its hash and its certificate (executor signatures over the hash).

    When the client returns one, ``hash`` is the hash of ``header`` and the certificate holds
    a valid signature by one of the chain's executors.
    """

    height: int
    hash: bytes
    header: Header
    certificate: tuple[BlockSignature, ...]


@dataclass(frozen=True, slots=True)
class Submission:
    """The fate of one submitted envelope.

    ``code`` is ``ok`` when the node admitted the envelope for ordering, else the reason it
    refused it. After a submit with ``wait=True``, ``height`` and ``receipt`` are set for every
    admitted transaction committed in time, and ``receipt.code`` is its outcome.
    """

    envelope: bytes
    tx_id: bytes | None
    code: str
    message: str
    height: int | None
    receipt: Receipt | None

    @property
    def admitted(self) -> bool:
        """Whether the node accepted the envelope for ordering."""
        return self.code == codes.OK

    @property
    def ok(self) -> bool:
        """Whether the transaction is committed and its outcome is ``ok``."""
        return self.receipt is not None and self.receipt.code == codes.OK


@dataclass(frozen=True, slots=True)
class Balance:
    """A balance at a height, checked against the header's state root with its proof."""

    account: str
    instrument: str
    height: int
    amount: int
    header: HeaderInfo
    proof: StateProof


@dataclass(frozen=True, slots=True)
class Balances:
    """Every non-zero balance of one account that the reader may see (no proofs: use
    ``balance`` for a proof of one)."""

    account: str
    height: int
    amounts: dict[str, int]  # instrument -> minor units


@dataclass(frozen=True, slots=True)
class Holding:
    """One holder in an instrument's register."""

    account: str
    amount: int


@dataclass(frozen=True, slots=True)
class Transaction:
    """A committed transaction, checked: its envelope and receipt are proven to be entry
    ``index`` of the block with ``header``."""

    tx_id: bytes
    height: int
    index: int
    header: HeaderInfo
    envelope: bytes
    sender: str
    nonce: int
    public_key: bytes
    body: TxBody
    receipt: Receipt


@dataclass(frozen=True, slots=True)
class SchedulePeriod:
    """One period of a bond's or sukuk's schedule, and whether it has been paid."""

    index: int
    start: str
    end: str
    payment_date: str
    record_date: str
    paid: bool


@dataclass(frozen=True, slots=True)
class Schedule:
    """A bond's or sukuk's terms, state, Shariah certification and payment schedule."""

    instrument: str
    payment_kind: str  # coupon, rental or profit
    terms: BondTerms
    state: BondState
    certification: Certification | None
    periods: tuple[SchedulePeriod, ...]
    redemption_date: str  # the call's, if called, else maturity's: a business day
    redemption_price_bp: int  # of the outstanding face
