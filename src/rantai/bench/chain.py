"""The bench's chain: a regulated instrument, N funded and KYC'd accounts, and transfers.

Every key is derived from its party's name (``key_of``), so a worker process signs for any
party given only its name. A phase's transfers are numbered ``k = 0 .. count-1``: transfer
``k`` is sent by account ``k mod N`` with that sender's next nonce, to another account, for
one unit. Client ``c`` of ``C`` takes the senders ``i`` with ``i mod C == c``, so clients
never share a sender and each keeps its senders' nonces in order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from rantai import sdk
from rantai.core import codes
from rantai.core.ids import account_id
from rantai.core.records import nonce_key
from rantai.core.tx import TxBody, build_envelope
from rantai.crypto.hashing import sha256
from rantai.crypto.keys import SigningKey
from rantai.node.datadir import init_chain
from rantai.node.node import CommittedBlock, Node, NodeConfig

__all__ = [
    "CASH",
    "CHAIN_ID",
    "INSTRUMENT",
    "ISSUER",
    "CommitWatch",
    "Phase",
    "SetupSender",
    "build_chain",
    "key_of",
    "sign_phase",
]

CHAIN_ID: Final = "rantai-bench"
INSTRUMENT: Final = "BENCH-SUKUK"
KYC: Final = "kyc-provider"
ISSUER: Final = "issuer"
ADVISER: Final = "shariah-adviser"
BANK: Final = "bank"
CASH: Final = "BENCH-MYR"
MINTED: Final = 1_000_000  # units per account; transfers move one unit
SETUP_BATCH_TXS: Final = 5_000
SETUP_WAIT_S: Final = 600.0
DAY_MS: Final = 86_400_000
YEAR_MS: Final = 365 * DAY_MS


def key_of(name: str) -> SigningKey:
    """The bench key of party ``name``: the same every run."""
    return SigningKey(sha256(b"rantai-bench-key/" + name.encode()))


def holder(i: int) -> str:
    return f"h{i:07d}"


@dataclass(frozen=True, slots=True)
class Phase:
    """``count`` transfers over ``accounts`` senders, whose nonces start at ``nonce_base``
    (the same for every sender: earlier phases gave each the same number, see ``after``)."""

    accounts: int
    count: int
    nonce_base: int

    def after(self, count: int) -> Phase:
        """The next phase, of ``count`` transfers. Needs this phase's count to be a
        multiple of ``accounts``, so every sender's nonce moved by the same amount."""
        if self.count % self.accounts:
            raise ValueError("a phase's transfers must be a multiple of the accounts")
        return Phase(self.accounts, count, self.nonce_base + self.count // self.accounts)


def sign_phase(phase: Phase, client: int, clients: int) -> list[bytes]:
    """Client ``client``'s share of ``phase``'s transfers, signed, in send order."""
    n = phase.accounts
    keys: dict[int, SigningKey] = {}
    out: list[bytes] = []
    for k in range(phase.count):
        sender = k % n
        if sender % clients != client:
            continue
        key = keys.get(sender)
        if key is None:
            key = keys[sender] = key_of(holder(sender))
        receiver = (sender + 1 + (k // n) % (n - 1)) % n
        body = sdk.transfer(account_id(holder(sender)), account_id(holder(receiver)), INSTRUMENT, 1)
        out.append(build_envelope(CHAIN_ID, holder(sender), phase.nonce_base + k // n, key, body))
    return out


def sign_phase_parallel(phase: Phase, clients: int, workers: int) -> list[list[bytes]]:
    """``sign_phase`` for every client, signed in ``workers`` processes."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(sign_phase, phase, c, clients) for c in range(clients)]
        return [f.result() for f in futures]


def _sign_items(items: Sequence[tuple[str, int, TxBody]]) -> list[bytes]:
    keys: dict[str, SigningKey] = {}
    out = []
    for sender, nonce, body in items:
        key = keys.get(sender)
        if key is None:
            key = keys[sender] = key_of(sender)
        out.append(build_envelope(CHAIN_ID, sender, nonce, key, body))
    return out


class CommitWatch:
    """The receipt codes of ``tx_ids``, taken from the commits as they come
    (``Node.subscribe``), as the API's waiters take them. Made before the first submit, so
    no commit is missed; asking the store afterwards for each id would be measured too."""

    def __init__(self, node: Node, tx_ids: Iterable[bytes]) -> None:
        self._expected = frozenset(tx_ids)
        self._codes: dict[bytes, str] = {}
        self._all_in = threading.Event()
        if not self._expected:
            self._all_in.set()
        self._unsubscribe = node.subscribe(self._on_commit)

    def _on_commit(self, block: CommittedBlock) -> None:
        for receipt in block.outcome.receipts:
            if receipt.tx_id in self._expected:
                self._codes[receipt.tx_id] = receipt.code
        if len(self._codes) >= len(self._expected):
            self._all_in.set()

    def wait(self, timeout_s: float) -> dict[bytes, str]:
        """The codes once every id has committed, or those in after ``timeout_s``; stops
        watching."""
        self._all_in.wait(timeout_s)
        self._unsubscribe()
        return dict(self._codes)


class SetupSender:
    """Sends setup transactions through the node (no HTTP) and checks every receipt."""

    def __init__(self, node: Node, workers: int) -> None:
        self.node = node
        self.workers = workers
        self.nonces: dict[str, int] = {}

    def send(self, items: Sequence[tuple[str, TxBody]]) -> list[bytes]:
        numbered = []
        for sender, body in items:
            nonce = self.nonces.get(sender)
            if nonce is None:  # a sender this one has not used: its committed next nonce
                nonce = self.node.ledger.values.get(nonce_key(sender), 0)
            self.nonces[sender] = nonce + 1
            numbered.append((sender, nonce, body))
        chunk = max(1_000, -(-len(numbered) // max(1, self.workers)))
        parts = [numbered[i : i + chunk] for i in range(0, len(numbered), chunk)]
        if len(parts) > 1 and self.workers > 1:
            with ProcessPoolExecutor(max_workers=self.workers) as pool:
                raws = [raw for part in pool.map(_sign_items, parts) for raw in part]
        else:
            raws = _sign_items(numbered)
        ids = [sha256(raw) for raw in raws]
        watch = CommitWatch(self.node, ids)
        room = self.node.config.pending_txs_max - SETUP_BATCH_TXS
        for i in range(0, len(raws), SETUP_BATCH_TXS):
            while self.node.pending_count > room:  # a million accounts outrun the pending log
                time.sleep(0.05)
            for result in self.node.submit(raws[i : i + SETUP_BATCH_TXS]):
                if result.code != codes.OK or result.tx_id is None:
                    raise RuntimeError(f"setup refused: {result.code} {result.message}")
        found = watch.wait(SETUP_WAIT_S)
        bad = [found[i] for i in ids if found.get(i, codes.OK) != codes.OK]
        if len(found) != len(ids) or bad:
            raise RuntimeError(f"setup: {len(ids) - len(found)} missing, rejected {bad[:3]}")
        return ids


def build_chain(data: Path, accounts: int, workers: int, now_ms: int) -> Node:
    """A new chain in ``data`` with the bench instrument and ``accounts`` funded holders.

    The instrument's rules: eligibility (a ``kyc`` claim of level 1 or more from the trusted
    KYC provider, both sides), max balance, max holders. Returns the started node.
    """
    config = NodeConfig(verify_workers=workers, write_process=True)
    node = init_chain(data, CHAIN_ID, config=config, make_key=key_of)
    node.start()
    setup = SetupSender(node, workers)
    org = "organisation"
    setup.send(
        [
            ("registrar", sdk.register_party(KYC, org, "KYC utility", [key_of(KYC)], [])),
            ("registrar", sdk.register_party(ISSUER, org, "Issuer", [key_of(ISSUER)], ["issuer"])),
            (
                "registrar",
                sdk.register_party(ADVISER, org, "Shariah adviser", [key_of(ADVISER)], []),
            ),
            ("registrar", sdk.register_party(BANK, org, "Bank", [key_of(BANK)], [])),
        ]
    )
    setup.send(
        [
            ("BNM", sdk.grant_role(KYC, "claim_issuer")),
            ("SC", sdk.grant_role(ADVISER, "shariah_adviser")),
            ("BNM", sdk.grant_role(BANK, "cash_issuer")),
        ]
    )
    setup.send([(BANK, sdk.create_instrument(CASH, "cash", "Bench ringgit", 2, 10**17))])
    setup.send([(BANK, sdk.mint(CASH, account_id(ISSUER), 10**16, "issuer deposit"))])
    basis = sdk.legal_basis("regulatory_direction", "BENCH/KYC", sha256(b"bench guideline"))
    trust = sdk.actions.trust_issuers("kyc", [KYC])
    [proposal] = setup.send([("SC", sdk.propose(trust, basis, expires_ms=now_ms + DAY_MS))])
    setup.send([("BNM", sdk.approve(proposal))])
    rules: list[sdk.rules.AnyRule] = [
        sdk.rules.eligibility(["kyc"], kyc_level_min=1),
        sdk.rules.max_balance(MINTED * 1_000),
        sdk.rules.max_holders(accounts + 10),
    ]
    setup.send(
        [
            (ISSUER, sdk.create_instrument(INSTRUMENT, "sukuk", "Bench sukuk", 0, 10**15)),
            (ISSUER, sdk.set_rules(INSTRUMENT, rules)),
        ]
    )
    pronouncement = sha256(b"bench pronouncement")
    setup.send([(ADVISER, sdk.certify_shariah(INSTRUMENT, pronouncement, now_ms + YEAR_MS))])
    names = [holder(i) for i in range(accounts)]
    org_or_person = "person"
    setup.send(
        [
            ("registrar", sdk.register_party(n, org_or_person, n, [key_of(n)], ["investor"]))
            for n in names
        ]
    )
    evidence = sha256(b"bench kyc file")
    expires = now_ms + YEAR_MS
    setup.send([(KYC, sdk.issue_claim(n, "kyc", "2", evidence, expires)) for n in names])
    setup.send([(ISSUER, sdk.mint(INSTRUMENT, account_id(n), MINTED)) for n in names])
    return node
