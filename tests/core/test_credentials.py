"""Importing claims from W3C Verifiable Credentials (VC-JWT, EdDSA)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from tests.regulated import INSTRUMENT, YEAR_MS, Regulated, rejected
from tests.support import CHAIN_ID, key_of

from rantai.core import codes
from rantai.core.errors import Malformed
from rantai.core.ids import account_id
from rantai.core.kinds.claims import ImportCredential
from rantai.core.rules import Eligibility
from rantai.core.tx import check_envelope
from rantai.crypto.hashing import sha256


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def vc_jwt(payload: dict[str, Any], signer: str = "kyc-provider", header: Any = None) -> str:
    head = _b64(json.dumps(header or {"alg": "EdDSA", "typ": "JWT"}).encode())
    body = _b64(json.dumps(payload).encode())
    signature = key_of(signer).sign(f"{head}.{body}".encode())
    return f"{head}.{body}.{_b64(signature)}"


def payload(chain: Regulated, **claims: str) -> dict[str, Any]:
    return {
        "iss": "did:rantai:kyc-provider",
        "sub": "carol",
        "nbf": chain.now_ms // 1000,
        "exp": (chain.now_ms + YEAR_MS) // 1000,
        "vc": {
            "@context": ["https://www.w3.org/2018/credentials/v1"],
            "type": ["VerifiableCredential"],
            "credentialSubject": {"id": "did:rantai:carol", **claims},
        },
    }


@pytest.fixture
def chain() -> Regulated:
    c = Regulated()
    c.investor("alice")
    c.register("carol")
    c.instrument((Eligibility(("kyc", "residency"), 2, False, True),))
    assert c.mint(account_id("alice"), 100).code == codes.OK
    return c


def test_imported_credential_makes_a_holder_eligible(chain: Regulated) -> None:
    jwt = vc_jwt(payload(chain, kyc="2", residency="MY"))
    receipt = chain.run("carol", ImportCredential(jwt))  # the subject presents it
    assert receipt.code == codes.OK, receipt
    claim = chain.value("claim/carol/kyc/kyc-provider")
    assert (claim.value, claim.evidence_hash) == ("2", sha256(jwt.encode()))
    assert claim.expires_ms == (chain.now_ms - 1_000 + YEAR_MS) // 1000 * 1000
    assert chain.run("alice", _transfer()).code == codes.OK


def _transfer() -> Any:
    from rantai.core.kinds.transfers import Transfer

    return Transfer(account_id("alice"), account_id("carol"), INSTRUMENT, 1, "")


def test_signature_must_be_the_issuers_registered_key(chain: Regulated) -> None:
    forged = vc_jwt(payload(chain, kyc="3"), signer="carol")
    rejected(chain, "carol", ImportCredential(forged), codes.BAD_CREDENTIAL)
    tampered = vc_jwt(payload(chain, kyc="1"))
    head, _, signature = tampered.split(".")
    other = vc_jwt(payload(chain, kyc="3")).split(".")[1]
    rejected(chain, "carol", ImportCredential(f"{head}.{other}.{signature}"), codes.BAD_CREDENTIAL)


def test_untrusted_issuer_expired_and_not_yet_valid(chain: Regulated) -> None:
    untrusted = payload(chain, kyc="2")
    untrusted["iss"] = "screener"
    rejected(
        chain, "carol", ImportCredential(vc_jwt(untrusted, "screener")), codes.UNTRUSTED_ISSUER
    )
    expired = payload(chain, kyc="2")
    expired["exp"] = chain.now_ms // 1000
    rejected(chain, "carol", ImportCredential(vc_jwt(expired)), codes.BAD_TIME)
    early = payload(chain, kyc="2")
    early["nbf"] = (chain.now_ms + YEAR_MS) // 1000
    rejected(chain, "carol", ImportCredential(vc_jwt(early)), codes.BAD_CREDENTIAL)


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.update(exp=1.5),
        lambda p: p["vc"]["credentialSubject"].update(kyc="high"),
        lambda p: p["vc"]["credentialSubject"].update(id="someone-else"),
        lambda p: p["vc"].pop("credentialSubject"),
        lambda p: p.update(iss="bad id!"),
    ],
)
def test_malformed_credentials_are_refused_statelessly(chain: Regulated, change: Any) -> None:
    bad = payload(chain, kyc="2")
    change(bad)
    with pytest.raises(Malformed) as info:
        check_envelope(chain.envelope("carol", ImportCredential(vc_jwt(bad)), nonce=0), CHAIN_ID)
    assert info.value.code == codes.BAD_FIELD


def test_wrong_algorithm_and_duplicate_members_are_refused(chain: Regulated) -> None:
    for jwt in (
        vc_jwt(payload(chain, kyc="2"), header={"alg": "none"}),
        vc_jwt(payload(chain, kyc="2"), header={"alg": "EdDSA", "crit": ["x"]}),
        vc_jwt(payload(chain, kyc="2")).replace(".", ".=", 1),
        "a.b",
    ):
        with pytest.raises(Malformed):
            ImportCredential(jwt).check_form()
    body = _b64(b'{"iss":"kyc-provider","iss":"x"}')
    head = _b64(b'{"alg":"EdDSA"}')
    with pytest.raises(Malformed, match="twice"):
        ImportCredential(f"{head}.{body}.{_b64(bytes(64))}").check_form()
