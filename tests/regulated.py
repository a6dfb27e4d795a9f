"""A test chain with governance, trusted claim issuers and regulated instruments."""

from __future__ import annotations

from typing import Any

from tests.support import Chain

from rantai.core import codes
from rantai.core.actions import AnyAction, GrantRoleAction, TrustIssuers
from rantai.core.block import Receipt
from rantai.core.governance import LegalBasis
from rantai.core.ids import account_id
from rantai.core.kinds.bonds import CertifyShariah
from rantai.core.kinds.claims import IssueClaim
from rantai.core.kinds.governance import Approve, Propose
from rantai.core.kinds.instruments import CreateInstrument, Mint
from rantai.core.kinds.parties import GrantRole
from rantai.core.kinds.policies import SetRules
from rantai.core.rules import DEFAULT_TERMS, AnyRule, Terms
from rantai.crypto.hashing import sha256

DAY_MS = 86_400_000
YEAR_MS = 365 * DAY_MS
BASIS = LegalBasis("regulatory_direction", "SC/D/2026/001", sha256(b"direction 1"))
EVIDENCE = sha256(b"kyc file")
KYC = "kyc-provider"
SCREENER = "screener"
INSTRUMENT = "SUKUK1"


class Regulated(Chain):
    """A chain whose agencies trust a KYC provider and a sanctions screener for every topic,
    an issuer ``issuer`` of ``SUKUK1`` (decimals 0) and helpers for governance and claims."""

    def __init__(self) -> None:
        super().__init__()
        self.register(KYC, ("investor",), "organisation")
        self.register(SCREENER, ("investor",), "organisation")
        self.register("issuer", ("issuer",), "organisation")
        for party in (KYC, SCREENER):
            self.governed(GrantRoleAction(party, "claim_issuer"))
        for topic in ("investor_category", "kyc", "residency", "shariah_only", "x-qualified"):
            self.governed(TrustIssuers(topic, (KYC,)))
        self.governed(TrustIssuers("sanctions_screened", (SCREENER,)))

    def at(self, timestamp_ms: int) -> None:
        """Make the next block's timestamp ``timestamp_ms``."""
        self.now_ms = timestamp_ms - 1_000

    def propose(
        self,
        action: AnyAction,
        *,
        by: str = "SC",
        valid_until_ms: int = 0,
        expires_ms: int | None = None,
        basis: LegalBasis = BASIS,
    ) -> tuple[str, Receipt]:
        """Propose ``action``; the proposal id and the receipt."""
        expires = self.now_ms + 1_000 + DAY_MS if expires_ms is None else expires_ms
        receipt = self.run(by, Propose(action, basis, "", expires, valid_until_ms))
        return receipt.tx_id.hex(), receipt

    def approve(self, proposal: str, by: str) -> Receipt:
        return self.run(by, Approve(proposal, ""))

    def governed(self, action: AnyAction, **kw: Any) -> str:
        """Propose as SC and approve as BNM (2 of 3); assert it executed; the proposal id."""
        proposal, receipt = self.propose(action, **kw)
        assert receipt.code == codes.OK, receipt
        receipt = self.approve(proposal, "BNM")
        assert receipt.code == codes.OK, receipt
        assert any(e.name == "proposal_executed" for e in receipt.events), receipt
        return proposal

    def claim(
        self,
        party: str,
        topic: str,
        value: str = "",
        *,
        issuer: str | None = None,
        expires_ms: int | None = None,
    ) -> Receipt:
        issuer = issuer or (SCREENER if topic == "sanctions_screened" else KYC)
        expires = self.now_ms + YEAR_MS if expires_ms is None else expires_ms
        return self.run(issuer, IssueClaim(party, topic, value, EVIDENCE, expires))

    def investor(
        self,
        party: str,
        *,
        category: str = "retail",
        residency: str = "MY",
        kyc: str = "2",
        screened: bool = True,
        roles: tuple[str, ...] = ("investor",),
    ) -> str:
        """Register ``party`` with claims; its main account."""
        self.register(party, roles)
        for topic, value in (
            ("kyc", kyc),
            ("investor_category", category),
            ("residency", residency),
        ):
            assert self.claim(party, topic, value).code == codes.OK
        if screened:
            assert self.claim(party, "sanctions_screened", "UN-2026-01").code == codes.OK
        return account_id(party)

    def instrument(
        self,
        rules: tuple[AnyRule, ...] = (),
        terms: Terms = DEFAULT_TERMS,
        code: str = INSTRUMENT,
        kind: str = "sukuk",
        cap: int = 10**15,
    ) -> str:
        """Create ``code`` issued by ``issuer`` and set its rules before any mint; a sukuk is
        certified by a Shariah adviser, as its first mint needs."""
        assert self.run("issuer", CreateInstrument(code, kind, code, 0, cap)).code == codes.OK
        assert self.run("issuer", SetRules(code, rules, terms)).code == codes.OK
        if kind == "sukuk":
            if "party/adviser" not in self.ledger.values:
                self.register("adviser", (), "organisation")
                assert self.run("SC", GrantRole("adviser", "shariah_adviser")).code == codes.OK
            body = CertifyShariah(code, sha256(b"pronouncement"), self.now_ms + 3650 * DAY_MS)
            assert self.run("adviser", body).code == codes.OK
        return code

    def mint(self, account: str, amount: int, code: str = INSTRUMENT) -> Receipt:
        return self.run("issuer", Mint(code, account, amount, ""))

    def value(self, key: str) -> Any:
        return self.ledger.values.get(key)


def rejected(chain: Chain, sender: str, body: Any, code: str, **kw: Any) -> None:
    """``body`` is rejected with ``code`` and changes nothing but the sender's nonce."""
    before = dict(chain.ledger.values)
    receipt = chain.run(sender, body, **kw)
    assert receipt.code == code, receipt
    assert receipt.events == ()
    after = dict(chain.ledger.values)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert changed <= {f"nonce/{sender}"}, changed


def seal_travel(payload: Any, readers: tuple[str, ...]) -> Any:
    """What a client does: commit to ``payload`` and seal it to each reader's first key."""
    from nacl.public import SealedBox
    from nacl.signing import VerifyKey
    from tests.support import key_of

    from rantai.core.encoding import encode
    from rantai.core.travel import SealedCopy, TravelData, travel_commitment

    copies = []
    for reader in sorted(readers):
        public = key_of(reader).public_key
        box = SealedBox(VerifyKey(public).to_curve25519_public_key())
        copies.append(SealedCopy(reader, public, box.encrypt(encode(payload))))
    return TravelData(travel_commitment(payload), tuple(copies))


def open_travel(copy: Any, reader: str) -> Any:
    """What a reader does: open its copy with its own key."""
    from nacl.public import SealedBox
    from nacl.signing import SigningKey
    from tests.support import key_of

    from rantai.core.encoding import decode
    from rantai.core.travel import TravelPayload

    private = SigningKey(key_of(reader).seed).to_curve25519_private_key()
    return decode(SealedBox(private).decrypt(copy.ciphertext), TravelPayload)
