"""Bodies built with the SDK do on the ledger what the core's tests do with core records:
rules, claims, an issuer's freeze, governance, and travel-rule data sealed client side."""

from __future__ import annotations

import pytest
from tests.regulated import DAY_MS, INSTRUMENT, YEAR_MS, Regulated, rejected
from tests.support import key_of

from rantai import sdk
from rantai.core import codes
from rantai.core.ids import account_id
from rantai.crypto.hashing import sha256

A, B = account_id("alice"), account_id("bob")
READERS = ("BNM", "MOD", "SC", "registrar")  # the agencies and both owners' registrar


@pytest.fixture
def chain() -> Regulated:
    c = Regulated()
    c.investor("alice")
    c.investor("bob")
    return c


def test_travel_transfer_sealed_by_the_sdk_is_accepted_and_opened(chain: Regulated) -> None:
    chain.instrument((sdk.rules.travel_rule(1_000),))
    assert chain.mint(A, 10_000).code == codes.OK
    rejected(chain, "alice", sdk.transfer(A, B, INSTRUMENT, 1_000), codes.RULE_TRAVEL)

    payload = sdk.travel_payload(
        originator_name="Alice Tan",
        originator_account=A,
        originator_id="900101-14-5678",
        beneficiary_name="Bob Lim",
        beneficiary_account=B,
    )
    readers = {r: key_of(r).public_key for r in READERS}
    body = sdk.travel_transfer(A, B, INSTRUMENT, 1_000, travel=sdk.seal_travel(payload, readers))
    receipt = chain.run("alice", body)
    assert receipt.code == codes.OK, receipt
    assert chain.balance(B, INSTRUMENT) == 1_000
    for reader in READERS:
        assert sdk.open_travel(body.travel, reader, key_of(reader)) == payload

    del readers["MOD"]
    short = sdk.travel_transfer(A, B, INSTRUMENT, 1_000, travel=sdk.seal_travel(payload, readers))
    rejected(chain, "alice", short, codes.TRAVEL_INCOMPLETE)


def test_rules_claims_and_an_issuer_freeze(chain: Regulated) -> None:
    chain.register("carol")
    rules = (sdk.rules.eligibility(["kyc"], kyc_level_min=2), sdk.rules.lot_size(10))
    chain.instrument(rules, sdk.terms(issuer_freeze=True))
    assert chain.mint(A, 100).code == codes.OK
    rejected(chain, "issuer", sdk.mint(INSTRUMENT, account_id("carol"), 10), codes.RULE_ELIGIBILITY)
    claim = sdk.issue_claim("carol", "kyc", "2", sha256(b"kyc file"), chain.now_ms + YEAR_MS)
    assert chain.run("kyc-provider", claim).code == codes.OK
    assert chain.mint(account_id("carol"), 10).code == codes.OK
    assert chain.run("kyc-provider", sdk.revoke_claim("carol", "kyc")).code == codes.OK
    rejected(chain, "issuer", sdk.mint(INSTRUMENT, account_id("carol"), 10), codes.RULE_ELIGIBILITY)

    assert chain.run("issuer", sdk.issuer_freeze(INSTRUMENT, A)).code == codes.OK
    rejected(chain, "alice", sdk.transfer(A, B, INSTRUMENT, 10), codes.FROZEN)
    assert chain.run("issuer", sdk.issuer_unfreeze(INSTRUMENT, A)).code == codes.OK
    assert chain.run("alice", sdk.transfer(A, B, INSTRUMENT, 10)).code == codes.OK


def test_governance_proposed_approved_and_reversed(chain: Regulated) -> None:
    chain.instrument()
    assert chain.mint(A, 100).code == codes.OK
    basis = sdk.legal_basis("court_order", "KLHC/2026/117", sha256(b"the order"))
    expires = chain.now_ms + DAY_MS
    freeze = sdk.propose(sdk.actions.freeze_account(A), basis, "interim order", expires_ms=expires)
    proposed = chain.run("SC", freeze)
    assert proposed.code == codes.OK, proposed
    executed = chain.run("BNM", sdk.approve(proposed.tx_id, "agreed"))  # 2 of 3
    assert executed.code == codes.OK, executed
    assert any(e.name == "proposal_executed" for e in executed.events)
    rejected(chain, "alice", sdk.transfer(A, B, INSTRUMENT, 1), codes.FROZEN)

    lift = sdk.propose(sdk.actions.unfreeze(proposed.tx_id), basis, expires_ms=expires)
    lifted = chain.run("SC", lift)
    assert chain.run("MOD", sdk.approve(lifted.tx_id)).code == codes.OK
    assert chain.run("alice", sdk.transfer(A, B, INSTRUMENT, 1)).code == codes.OK
