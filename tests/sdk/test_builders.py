"""Builders: one per registered kind, fields by name and order, the node's stateless checks."""

from __future__ import annotations

import base64
import inspect
import json
import typing
from collections.abc import Callable
from typing import Any

import pytest
from tests.support import key_of

import rantai.core.kinds  # registers every kind
from rantai import sdk
from rantai.core.actions import AnyAction
from rantai.core.rules import AnyRule
from rantai.core.tx import TxBody, body_types, build_envelope, check_envelope
from rantai.crypto.hashing import sha256

CHAIN_ID = "rantai-test"
PROPOSAL = sha256(b"a proposing transaction")  # a tx id; its hex is the proposal id
DAY_MS = 86_400_000


def _builders() -> dict[type[TxBody], Callable[..., TxBody]]:
    """Every public SDK builder, by the kind it builds."""
    found: dict[type[TxBody], Callable[..., TxBody]] = {}
    for name in sdk.__all__:
        value = getattr(sdk, name)
        if inspect.isfunction(value):
            returns = typing.get_type_hints(value).get("return")
            # A kind's builder is named after its tag; other functions may return bodies too
            # (``from_sese023`` converts a message into a ``propose_settlement``).
            if (
                isinstance(returns, type)
                and issubclass(returns, TxBody)
                and name == returns.__struct_config__.tag
            ):
                found[returns] = value
    return found


def test_every_registered_kind_has_a_builder() -> None:
    missing = [t.__struct_config__.tag for t in body_types() if t not in _builders()]
    assert not missing, f"kinds without an SDK builder: {missing}"


@pytest.mark.parametrize("kind", body_types(), ids=lambda t: str(t.__struct_config__.tag))
def test_builder_parameters_are_the_fields_in_order(kind: type[TxBody]) -> None:
    builder = _builders()[kind]
    assert list(inspect.signature(builder).parameters) == list(kind.__struct_fields__)


def _party(name: str) -> Any:
    return sdk.genesis_party(name, "organisation", f"{name} name", [key_of(name)])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def vc_jwt(subject: str = "inv-9", issuer: str = "kyc-provider") -> str:
    """A VC-JWT (EdDSA) attesting kyc level 2 and residency MY."""
    head = _b64(json.dumps({"alg": "EdDSA", "typ": "JWT"}).encode())
    claims = {"id": f"did:rantai:{subject}", "kyc": "2", "residency": "MY"}
    body = _b64(
        json.dumps(
            {
                "iss": f"did:rantai:{issuer}",
                "sub": subject,
                "exp": 1_800_000_000,
                "vc": {"type": ["VerifiableCredential"], "credentialSubject": claims},
            }
        ).encode()
    )
    return f"{head}.{body}.{_b64(key_of(issuer).sign(f'{head}.{body}'.encode()))}"


def _basis() -> Any:
    return sdk.legal_basis("court_order", "KLHC/2026/117", sha256(b"order"))


def _travel() -> Any:
    payload = sdk.travel_payload(
        originator_name="Investor 9",
        originator_account="inv-9:main",
        originator_id="900101-14-5678",
        beneficiary_name="Investor 8",
        beneficiary_account="inv-8:main",
    )
    readers = {r: key_of(r) for r in ("BNM", "MOD", "SC", "registrar")}
    return sdk.seal_travel(payload, readers)


def _sukuk_terms() -> Any:
    return sdk.bond_terms(
        cash="MYR",
        payer="mof:main",
        residue_account="mof:residue",
        face=100,
        issue_date="2026-03-15",
        maturity_date="2031-03-15",
        months_per_period=6,
        income=sdk.income("fixed", 385),
        calendar=sdk.calendar("MY", holidays=["2026-08-31"]),
        calls=[sdk.option_date("2029-03-15", 10_100)],
        structure="ijarah",
        asset="Hospital buildings, Putrajaya",
        asset_hash=sha256(b"asset documents"),
        charity_account="zakat-fund:main",
        late_charge_bp=100,
        tawidh_bp=50,
    )


SAMPLES: dict[str, Callable[[], TxBody]] = {
    "take_record": lambda: sdk.take_record("GII-2031", "p1", "profit 1"),
    "close_record": lambda: sdk.close_record("GII-2031", "p1"),
    "distribute": lambda: sdk.distribute(
        "FUND1", "d1", "dividend", "MYR", "mgr:main", 1_000_00, residue_account="mgr:residue"
    ),
    "claim_distribution": lambda: sdk.claim_distribution(PROPOSAL, "inv-9:main"),
    "open_ballot": lambda: sdk.open_ballot(
        "GII-2031", "consent", "p1", "Extend?", ["yes", "no"], 2 * 10**12
    ),
    "cast_vote": lambda: sdk.cast_vote("GII-2031", "consent", "inv-9:main", 0),
    "close_ballot": lambda: sdk.close_ballot("GII-2031", "consent"),
    "set_bond_terms": lambda: sdk.set_bond_terms("GII-2031", _sukuk_terms()),
    "certify_shariah": lambda: sdk.certify_shariah("GII-2031", sha256(b"p"), 2 * 10**12),
    "publish_fixing": lambda: sdk.publish_fixing("KLIBOR-3M", "2026-06-12", 345),
    "declare_profit": lambda: sdk.declare_profit("MSK1", 1, 0),
    "pay_period": lambda: sdk.pay_period("GII-2031", 1, "p1"),
    "partial_redeem": lambda: sdk.partial_redeem("GII-2031", 10),
    "call_bond": lambda: sdk.call_bond("GII-2031", "2029-03-15"),
    "redeem_bond": lambda: sdk.redeem_bond("GII-2031"),
    "exercise_put": lambda: sdk.exercise_put("GII-2031", "inv-9:main", 100, "2029-03-15"),
    "settle_puts": lambda: sdk.settle_puts("GII-2031", "2029-03-15"),
    "genesis": lambda: sdk.genesis(
        "rantai-test",
        _party("operator"),
        [sdk.genesis_agency(_party("SC"), ["bond", "sukuk"])],
        [_party("registrar")],
        {"freeze": 1},
        [key_of("node")],
    ),
    "register_party": lambda: sdk.register_party(
        "inv-9", "person", "Investor 9", [key_of("inv-9")], ["investor"]
    ),
    "open_account": lambda: sdk.open_account("savings"),
    "add_key": lambda: sdk.add_key(key_of("spare")),
    "revoke_key": lambda: sdk.revoke_key(key_of("spare").public_key),
    "grant_role": lambda: sdk.grant_role("inv-9", "issuer"),
    "revoke_role": lambda: sdk.revoke_role("inv-9", "issuer"),
    "create_instrument": lambda: sdk.create_instrument("GII-2035", "sukuk", "GII", 2, 10**12),
    "mint": lambda: sdk.mint("GII-2035", "inv-9:main", 1_000_00, "auction"),
    "burn": lambda: sdk.burn("GII-2035", "inv-9:main", 10_00),
    "transfer": lambda: sdk.transfer("inv-9:main", "inv-8:main", "GII-2035", 10_00, "sale"),
    "batch_transfer": lambda: sdk.batch_transfer(
        [
            sdk.movement("inv-9:main", "inv-8:main", "GII-2035", 10_00),
            sdk.movement("inv-9:main", "inv-7:main", "MYR", 5_00, "fee"),
        ]
    ),
    "travel_transfer": lambda: sdk.travel_transfer(
        "inv-9:main", "inv-8:main", "GII-2035", 10_000_00, travel=_travel()
    ),
    # claims
    "issue_claim": lambda: sdk.issue_claim("inv-9", "kyc", "2", sha256(b"kyc file"), 2 * 10**12),
    "revoke_claim": lambda: sdk.revoke_claim("inv-9", "kyc"),
    "import_credential": lambda: sdk.import_credential(vc_jwt()),
    # an issuer's powers
    "set_rules": lambda: sdk.set_rules(
        "SUKUK1",
        [
            sdk.rules.eligibility(["kyc", "sanctions_screened"], kyc_level_min=2),
            sdk.rules.investor_category(["sophisticated", "institutional"]),
            sdk.rules.residency(allow=False, countries=["KP", "IR"]),
            sdk.rules.max_balance(10**9),
            sdk.rules.max_holders(50),
            sdk.rules.min_holding(1_000),
            sdk.rules.lot_size(100),
            sdk.rules.lockup(1_800_000_000_000),
            sdk.rules.volume_limit(10**8, 30),
            sdk.rules.supply_cap(10**10),
            sdk.rules.shariah(),
            sdk.rules.retail_limit(50_000_00, 200_000_00, 100, 365),
            sdk.rules.conditional_transfer(),
            sdk.rules.travel_rule(1_000),
        ],
        sdk.terms(shariah_certified=True, issuer_freeze=True, issuers={"kyc": ["kyc-provider"]}),
    ),
    "pause_instrument": lambda: sdk.pause_instrument("SUKUK1"),
    "unpause_instrument": lambda: sdk.unpause_instrument("SUKUK1"),
    "appoint_agent": lambda: sdk.appoint_agent("agent"),
    "dismiss_agent": lambda: sdk.dismiss_agent("agent"),
    "issuer_freeze": lambda: sdk.issuer_freeze("SUKUK1", "inv-9:main"),
    "issuer_unfreeze": lambda: sdk.issuer_unfreeze("SUKUK1", "inv-9:main"),
    "approve_transfer": lambda: sdk.approve_transfer("SUKUK1", "inv-9:main", "inv-8:main", 100),
    # settlement
    "propose_settlement": lambda: sdk.propose_settlement(
        [
            sdk.leg("inv-9:main", "inv-8:main", "SUKUK1", 100),
            sdk.leg("inv-8:main", "inv-9:main", "MYR", 10_000_00),
        ],
        2 * 10**12,
    ),
    "affirm_settlement": lambda: sdk.affirm_settlement(PROPOSAL),
    "cancel_settlement": lambda: sdk.cancel_settlement(PROPOSAL.hex()),
    "retry_settlement": lambda: sdk.retry_settlement(PROPOSAL),
    "run_cycle": lambda: sdk.run_cycle("2026-03-02/T1"),
    "set_mediator": lambda: sdk.set_mediator("SUKUK1", "trustee"),
    "open_book": lambda: sdk.open_book("SUKUK1", "MYR", 100_00, "issuer:main", 2 * 10**12),
    "place_order": lambda: sdk.place_order(PROPOSAL, "inv-9:main", 500),
    "allocate": lambda: sdk.allocate(
        PROPOSAL.hex(),
        [sdk.allocation("inv-9:main", 400), sdk.allocation("inv-8:main", 0)],
        2 * 10**12,
    ),
    # cash tokens and fund units
    "create_cash": lambda: sdk.create_cash(
        "MYR.CB", "Wholesale ringgit", 2, 10**15, "MYR", "wholesale"
    ),
    "set_cash_terms": lambda: sdk.set_cash_terms("MYR.BANK", "MYR", "deposit"),
    "set_cash_limits": lambda: sdk.set_cash_limits(
        "MYR.BANK", 5_000_000_00, 1_000_000_00, 50_000_00
    ),
    "set_dealing_terms": lambda: sdk.set_dealing_terms(
        "FUND1", "MYR.BANK", "manager:main", "manager:dealing", 16 * 3_600_000, 1_000_00, 1_000
    ),
    "publish_nav": lambda: sdk.publish_nav("FUND1", "MYR.BANK", 1_23, 2 * 10**12),
    "subscribe": lambda: sdk.subscribe("FUND1", "inv-9:main", 10_000_00),
    "redeem": lambda: sdk.redeem("FUND1", "inv-9:main", 500),
    "cancel_fund_order": lambda: sdk.cancel_fund_order("FUND1", 7),
    "deal": lambda: sdk.deal("FUND1"),
    # governance
    "propose": lambda: sdk.propose(
        sdk.actions.freeze_account("inv-9:main"),
        _basis(),
        "court order of 2 March",
        expires_ms=2 * 10**12,
        valid_until_ms=2 * 10**12 + 30 * DAY_MS,
    ),
    "approve": lambda: sdk.approve(PROPOSAL, "seen the order"),
    "veto": lambda: sdk.veto(PROPOSAL.hex()),
}

ACTION_SAMPLES: dict[str, Callable[[], Any]] = {
    "freeze_party": lambda: sdk.actions.freeze_party("inv-9"),
    "freeze_account": lambda: sdk.actions.freeze_account("inv-9:main"),
    "freeze_amount": lambda: sdk.actions.freeze_amount("inv-9:main", "SUKUK1", 500),
    "unfreeze": lambda: sdk.actions.unfreeze(PROPOSAL),
    "forced_transfer": lambda: sdk.actions.forced_transfer(
        "inv-9:main", "inv-8:main", "SUKUK1", 500
    ),
    "recover_key": lambda: sdk.actions.recover_key("inv-9", [key_of("inv-9-new")]),
    "suspend_instrument": lambda: sdk.actions.suspend_instrument("SUKUK1"),
    "halt_market": lambda: sdk.actions.halt_market("sukuk"),
    "resume": lambda: sdk.actions.resume(PROPOSAL.hex()),
    "change_rules": lambda: sdk.actions.change_rules(
        "SUKUK1", [sdk.rules.lot_size(10)], sdk.terms(issuer_freeze=True)
    ),
    "trust_issuers": lambda: sdk.actions.trust_issuers("kyc", ["kyc-2", "kyc-1"]),
    "revoke_certification": lambda: sdk.actions.revoke_certification("GII-2031"),
    "grant_role": lambda: sdk.actions.grant_role("kyc-2", "claim_issuer"),
    "revoke_role": lambda: sdk.actions.revoke_role("kyc-2", "claim_issuer"),
    "change_governance": lambda: sdk.actions.change_governance(
        {"freeze": 2, "forced_transfer": 3}, {"forced_transfer": ["SC", "BNM"]}
    ),
}


def test_every_kind_has_a_sample() -> None:
    assert set(SAMPLES) == {str(t.__struct_config__.tag) for t in body_types()}


@pytest.mark.parametrize("tag", sorted(SAMPLES))
def test_built_bodies_pass_the_nodes_checks(tag: str) -> None:
    body = SAMPLES[tag]()
    assert body.__struct_config__.tag == tag
    body.check_form()
    raw = build_envelope(CHAIN_ID, "inv-9", 0, key_of("inv-9"), body)
    assert check_envelope(raw, CHAIN_ID).body == body


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda: sdk.transfer("a:main", "b:main", "X", 0), "bad_amount"),
        (lambda: sdk.transfer("a:main", "b:main", "X", 1.5), "malformed"),
        (lambda: sdk.transfer("a:main", "b:main", "X", True), "malformed"),
        (lambda: sdk.transfer("a", "b:main", "X", 1), "bad_field"),
        (lambda: sdk.mint("lower-case", "b:main", 1), "bad_field"),
        (lambda: sdk.batch_transfer([]), "too_many_items"),
        (lambda: sdk.batch_transfer([sdk.movement("a:main", "b:main", "X", -1)]), "bad_amount"),
        (lambda: sdk.register_party("p", "agency", "P", [key_of("p")]), "bad_field"),
        (lambda: sdk.add_key(b"short"), "bad_field"),
        (lambda: sdk.open_account("savings", "joint"), "bad_field"),
        (lambda: sdk.create_instrument("C", "cash", "C", 2, {1}), "malformed"),
        (lambda: sdk.issue_claim("p", "kyc", "high", sha256(b"e"), 1), "bad_field"),
        (lambda: sdk.issue_claim("p", "kyc", "2", b"short", 1), "bad_field"),
        (lambda: sdk.issue_claim("p", "kyc", "2", sha256(b"e"), 0), "bad_field"),
        (lambda: sdk.revoke_claim("p", "favourite_colour"), "bad_field"),
        (lambda: sdk.import_credential("not.a.jwt"), "bad_field"),
        (lambda: sdk.set_rules("S", [sdk.rules.lot_size(1)] * 17), "too_many_items"),
        (lambda: sdk.issuer_freeze("S", "a:main", -1), "bad_amount"),
        (lambda: sdk.approve_transfer("S", "a:main", "b:main", 0), "bad_amount"),
        (lambda: sdk.appoint_agent("Not An Id"), "bad_field"),
        (lambda: sdk.approve("not-hex"), "bad_field"),
        (lambda: sdk.veto(PROPOSAL.hex().upper()), "bad_field"),
        (lambda: sdk.approve(PROPOSAL, "x" * 501), "bad_field"),
        (  # a freeze lapses; a role grant does not
            lambda: sdk.propose(
                sdk.actions.grant_role("p", "issuer"), _basis(), expires_ms=1, valid_until_ms=2
            ),
            "bad_field",
        ),
        (lambda: sdk.propose(sdk.actions.freeze_party("p"), _basis(), expires_ms=0), "bad_field"),
        # records are checked as they are built
        (sdk.rules.eligibility, "bad_field"),  # no claim asked for
        (lambda: sdk.rules.eligibility(["kyc"], sender=False, receiver=False), "bad_field"),
        (lambda: sdk.rules.investor_category(["whale"]), "bad_field"),
        (lambda: sdk.rules.residency(True, ["Malaysia"]), "bad_field"),
        (lambda: sdk.rules.max_holders(0), "bad_field"),
        (lambda: sdk.rules.volume_limit(1, 0), "bad_field"),
        (lambda: sdk.rules.lockup(1.5), "malformed"),
        (lambda: sdk.actions.freeze_amount("a:main", "S", 0), "bad_amount"),
        (lambda: sdk.actions.recover_key("p", []), "too_many_items"),
        (lambda: sdk.actions.halt_market("tulips"), "bad_field"),
        (lambda: sdk.actions.grant_role("p", "agency"), "bad_field"),
        (lambda: sdk.actions.trust_issuers("kyc", ["k", "k"]), "bad_field"),
        (lambda: sdk.actions.change_governance({"coffee": 1}, {}), "bad_field"),
        (lambda: sdk.actions.unfreeze(b"short"), "bad_field"),
        (lambda: sdk.legal_basis("because", "R/1", sha256(b"d")), "bad_field"),
        (lambda: sdk.legal_basis("court_order", "R/1", b"d"), "bad_field"),
        (lambda: sdk.terms(issuers={"kyc": []}), "too_many_items"),
    ],
)
def test_bad_bodies_fail_here_with_the_nodes_code(build: Callable[[], TxBody], code: str) -> None:
    with pytest.raises(sdk.InvalidTransaction) as caught:
        build()
    assert caught.value.code == code


def test_builders_accept_keys_or_public_key_bytes() -> None:
    key = key_of("k")
    assert sdk.add_key(key) == sdk.add_key(key.public_key)
    assert sdk.register_party("p", "person", "P", [key]).keys == (key.public_key,)


def test_thresholds_are_sorted_records() -> None:
    body = SAMPLES["genesis"]()
    assert isinstance(body, rantai.core.kinds.genesis.Genesis)
    assert [(t.action_class, t.approvals) for t in body.thresholds] == [("freeze", 1)]


def test_propose_approve_and_veto_take_a_proposal_as_tx_id_or_hex() -> None:
    assert sdk.approve(PROPOSAL) == sdk.approve(PROPOSAL.hex())
    assert sdk.approve(PROPOSAL).proposal == PROPOSAL.hex()
    assert sdk.veto(PROPOSAL, "no") == sdk.veto(PROPOSAL.hex(), "no")
    assert sdk.actions.unfreeze(PROPOSAL) == sdk.actions.unfreeze(PROPOSAL.hex())


# --- rules, actions and the records the compliance kinds carry -------------------------------


def _record_builders(module: Any, union: Any) -> dict[type, Callable[..., Any]]:
    """The functions in ``module.__all__`` returning a member of ``union``, by that member."""
    members = set(typing.get_args(union))
    found: dict[type, Callable[..., Any]] = {}
    for name in module.__all__:
        value = getattr(module, name)
        if inspect.isfunction(value):
            returns = typing.get_type_hints(value).get("return")
            assert returns in members, f"{name} builds no {union}"
            assert returns not in found, f"two builders for {returns.__name__}"
            found[returns] = value
    return found


@pytest.mark.parametrize(
    ("module", "union"), [(sdk.rules, AnyRule), (sdk.actions, AnyAction)], ids=["rule", "action"]
)
def test_every_rule_and_action_has_a_builder_named_by_its_tag(module: Any, union: Any) -> None:
    builders = _record_builders(module, union)
    assert set(builders) == set(typing.get_args(union))
    for kind, builder in builders.items():
        assert builder.__name__ == kind.__struct_config__.tag
        assert list(inspect.signature(builder).parameters) == list(kind.__struct_fields__)


def test_record_builder_parameters_are_the_fields_in_order() -> None:
    for builder, kind in [
        (sdk.terms, sdk.Terms),
        (sdk.legal_basis, sdk.LegalBasis),
        (sdk.travel_payload, sdk.TravelPayload),
    ]:
        assert list(inspect.signature(builder).parameters) == list(kind.__struct_fields__)


def test_every_action_has_a_sample() -> None:
    assert set(ACTION_SAMPLES) == {t.__struct_config__.tag for t in typing.get_args(AnyAction)}


@pytest.mark.parametrize("tag", sorted(ACTION_SAMPLES))
def test_every_action_can_be_proposed(tag: str) -> None:
    action = ACTION_SAMPLES[tag]()
    assert action.__struct_config__.tag == tag
    until = 2 * 10**12 + DAY_MS if action.time_limited else 0
    body = sdk.propose(action, _basis(), expires_ms=2 * 10**12, valid_until_ms=until)
    raw = build_envelope(CHAIN_ID, "SC", 0, key_of("SC"), body)
    assert check_envelope(raw, CHAIN_ID).body == body


def test_sets_of_parties_and_classes_are_sorted_as_the_node_requires() -> None:
    assert sdk.actions.trust_issuers("kyc", ["kyc-2", "kyc-1"]).issuers == ("kyc-1", "kyc-2")
    governance = ACTION_SAMPLES["change_governance"]()
    assert [(t.action_class, t.approvals) for t in governance.thresholds] == [
        ("forced_transfer", 3),
        ("freeze", 2),
    ]
    assert [(v.action_class, v.agencies) for v in governance.vetoes] == [
        ("forced_transfer", ("BNM", "SC"))
    ]
    terms = sdk.terms(issuers={"residency": ["b", "a"], "kyc": ["c"]})
    assert [(e.topic, e.issuers) for e in terms.issuers] == [
        ("kyc", ("c",)),
        ("residency", ("a", "b")),
    ]
    assert sdk.terms() == sdk.Terms(shariah_certified=False, issuer_freeze=False, issuers=())


def test_rule_defaults() -> None:
    rule = sdk.rules.eligibility(["kyc"])
    assert (rule.topics, rule.kyc_level_min, rule.sender, rule.receiver) == (
        ("kyc",),
        0,
        True,
        True,
    )
    assert sdk.set_rules("S").rules == ()
    assert sdk.set_rules("S").terms == sdk.terms()
    assert sdk.issuer_freeze("S", "a:main").amount == 0  # the whole holding
