"""The ERC-3643 (T-REX) flows as one scenario on Rantai, plus an expired and a revoked claim.

Onboard with identity and claims, mint, a compliant transfer, a transfer to an unverified
holder refused, freeze and partial freeze, forced transfer, recovery of a lost key, pause.
Where ERC-3643 lets an agent seize units alone, Rantai needs the agencies.
"""

from __future__ import annotations

from tests.regulated import YEAR_MS, Regulated, rejected
from tests.support import key_of

from rantai.core import codes
from rantai.core.actions import ForcedTransfer, RecoverKey
from rantai.core.block import Receipt
from rantai.core.governance import LegalBasis
from rantai.core.ids import account_id
from rantai.core.kinds.claims import RevokeClaim
from rantai.core.kinds.governance import Propose
from rantai.core.kinds.instruments import CreateInstrument, Mint
from rantai.core.kinds.policies import (
    AppointAgent,
    IssuerFreeze,
    IssuerUnfreeze,
    PauseInstrument,
    SetRules,
    UnpauseInstrument,
)
from rantai.core.kinds.transfers import Transfer
from rantai.core.rules import Eligibility, Terms
from rantai.crypto.hashing import sha256

TOKEN = "TREX1"
A, B, C = account_id("alice"), account_id("bob"), account_id("carol")
COURT = LegalBasis("court_order", "KL High Court WA-24NCC-1/2026", sha256(b"order"))


def _holder_events(receipt: Receipt) -> list[str]:
    return [str(e.attrs["holder"]) for e in receipt.events if "holder" in e.attrs]


def transfer(
    chain: Regulated, sender: str, source: str, destination: str, amount: int, key: str = ""
) -> str:
    body = Transfer(source, destination, TOKEN, amount, "")
    return chain.run(sender, body, key=key_of(key or sender)).code


def test_erc3643_flows() -> None:
    chain = Regulated()
    # Identity and claims: the KYC provider and the screener attest; the holder cannot.
    chain.investor("alice")
    chain.investor("bob")
    chain.register("carol")  # registered, but never verified
    chain.register("agent", ("issuer_agent",))
    assert chain.run("issuer", AppointAgent("agent")).code == codes.OK
    rules = (Eligibility(("kyc", "sanctions_screened"), 1, True, True),)
    terms = Terms(shariah_certified=False, issuer_freeze=True, issuers=())
    assert chain.run("issuer", CreateInstrument(TOKEN, "equity", "T-REX", 0, 10**9)).code == "ok"
    assert chain.run("issuer", SetRules(TOKEN, rules, terms)).code == codes.OK

    # Mint (by the agent), a compliant transfer, and one to an unverified holder refused.
    assert chain.run("agent", Mint(TOKEN, A, 1_000, "primary")).code == codes.OK
    assert transfer(chain, "alice", A, B, 100) == codes.OK
    rejected(chain, "alice", Transfer(A, C, TOKEN, 1, ""), codes.RULE_ELIGIBILITY)
    rejected(chain, "agent", Mint(TOKEN, C, 1, ""), codes.RULE_ELIGIBILITY)

    # Freeze and partial freeze by the agent: allowed by the terms, visible to the holder.
    receipt = chain.run("agent", IssuerFreeze(TOKEN, B, 0))
    assert receipt.code == codes.OK and _holder_events(receipt) == ["bob"]
    assert transfer(chain, "bob", B, A, 1) == codes.FROZEN
    receipt = chain.run("agent", IssuerUnfreeze(TOKEN, B))
    assert _holder_events(receipt) == ["bob"]
    assert transfer(chain, "bob", B, A, 1) == codes.OK
    assert chain.run("agent", IssuerFreeze(TOKEN, A, 800)).code == codes.OK
    assert transfer(chain, "alice", A, B, 102) == codes.FROZEN_AMOUNT  # 901 held, 800 frozen
    assert transfer(chain, "alice", A, B, 101) == codes.OK

    # Forced transfer: the issuer cannot propose one, the agencies (2 of 3) can.
    expires = chain.now_ms + 1_000 + YEAR_MS // 12
    body = Propose(ForcedTransfer(A, B, TOKEN, 500), COURT, "", expires, 0)
    rejected(chain, "issuer", body, codes.NOT_AUTHORIZED)
    chain.governed(ForcedTransfer(A, B, TOKEN, 500), basis=COURT)
    assert (chain.balance(A, TOKEN), chain.balance(B, TOKEN)) == (300, 700)

    # Recovery of a lost key: new key, same party, same holdings.
    basis = LegalBasis("key_loss", "IC re-verified 2026-02-01", sha256(b"affidavit"))
    chain.governed(RecoverKey("bob", (key_of("bob-2").public_key,)), basis=basis)
    assert chain.balance(B, TOKEN) == 700
    assert transfer(chain, "bob", B, A, 1) == codes.KEY_NOT_AUTHORIZED  # the lost key
    chain.nonces["bob"] -= 1  # a key check failure does not use the nonce up
    assert transfer(chain, "bob", B, A, 1, key="bob-2") == codes.OK

    # Pause and unpause, by the agent.
    assert chain.run("agent", PauseInstrument(TOKEN)).code == codes.OK
    assert transfer(chain, "bob", B, A, 1, key="bob-2") == codes.PAUSED
    assert chain.run("agent", UnpauseInstrument(TOKEN)).code == codes.OK
    assert transfer(chain, "bob", B, A, 1, key="bob-2") == codes.OK


def test_erc3643_with_an_expired_and_a_revoked_claim() -> None:
    chain = Regulated()
    chain.investor("alice")
    chain.register("bob")
    expires = chain.now_ms + 30 * 86_400_000
    for topic, value in (("kyc", "2"), ("sanctions_screened", "")):
        assert chain.claim("bob", topic, value, expires_ms=expires).code == codes.OK
    rules = (Eligibility(("kyc", "sanctions_screened"), 1, True, True),)
    terms = Terms(shariah_certified=False, issuer_freeze=False, issuers=())
    chain.instrument(rules, terms, code=TOKEN)
    assert chain.mint(A, 1_000, TOKEN).code == codes.OK
    assert transfer(chain, "alice", A, B, 10) == codes.OK

    chain.at(expires)  # bob's claims expire: he can neither receive nor send
    assert transfer(chain, "alice", A, B, 10) == codes.RULE_ELIGIBILITY
    assert transfer(chain, "bob", B, A, 10) == codes.RULE_ELIGIBILITY
    assert chain.claim("bob", "kyc", "2").code == codes.OK  # renewed ...
    assert transfer(chain, "alice", A, B, 10) == codes.RULE_ELIGIBILITY  # ... but not screening
    assert chain.claim("bob", "sanctions_screened", "UN-2026-03").code == codes.OK
    assert transfer(chain, "alice", A, B, 10) == codes.OK

    # A revoked claim blocks even though the expiry is a year away; the holder cannot undo it.
    assert chain.run("kyc-provider", RevokeClaim("alice", "kyc")).code == codes.OK
    assert transfer(chain, "alice", A, B, 10) == codes.RULE_ELIGIBILITY
    assert chain.run("alice", RevokeClaim("alice", "kyc")).code == codes.UNKNOWN_CLAIM
    assert chain.claim("alice", "kyc", "2").code == codes.OK  # the provider re-verifies
    assert transfer(chain, "alice", A, B, 10) == codes.OK

    # Sanctions: the screener's revocation blocks alice on every instrument at once.
    assert chain.run("screener", RevokeClaim("alice", "sanctions_screened")).code == codes.OK
    assert transfer(chain, "alice", A, B, 10) == codes.SANCTIONED


def test_the_regulated_state_reloads_to_the_same_root() -> None:
    """Every new namespace decodes canonically: a node restarting from its store agrees."""
    from rantai.core.encoding import encode
    from rantai.core.ledger import Ledger

    chain = Regulated()
    _short_flows(chain)
    ledger = chain.ledger
    assert ledger.head is not None
    namespaces = {key.split("/", 1)[0] for key in ledger.values}
    assert {"trust", "claim", "policy", "holding", "holders", "ctl", "agents", "proposal"} <= (
        namespaces
    )
    items = [(key, encode(value)) for key, value in sorted(ledger.values.items())]
    reloaded = Ledger.load(items, ledger.head)
    assert reloaded.tree.root == ledger.tree.root
    assert reloaded.values == ledger.values


def _short_flows(chain: Regulated) -> None:
    """A shorter run of the flows on ``chain``, leaving a freeze and a proposal in state."""
    chain.investor("alice")
    chain.register("agent", ("issuer_agent",))
    assert chain.run("issuer", AppointAgent("agent")).code == codes.OK
    terms = Terms(shariah_certified=False, issuer_freeze=True, issuers=())
    chain.instrument((Eligibility(("kyc",), 1, True, True),), terms, code=TOKEN)
    assert chain.mint(A, 10, TOKEN).code == codes.OK
    assert chain.run("agent", IssuerFreeze(TOKEN, A, 5)).code == codes.OK
