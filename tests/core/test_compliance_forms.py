"""The new kinds' stateless forms: canonical and JSON round trips, and bad_field refusals."""

from __future__ import annotations

import pytest
from tests.support import CHAIN_ID, Chain

from rantai.core import codes, limits
from rantai.core.actions import (
    ChangeGovernance,
    ChangeRules,
    FreezeAmount,
    HaltMarket,
    RecoverKey,
    TrustIssuers,
)
from rantai.core.encoding import decode, encode
from rantai.core.errors import Malformed
from rantai.core.governance import LegalBasis, VetoRight
from rantai.core.jsonform import body_from_json, to_json
from rantai.core.kinds.claims import IssueClaim, RevokeClaim
from rantai.core.kinds.governance import Approve, Propose, Veto
from rantai.core.kinds.policies import (
    AppointAgent,
    ApproveTransfer,
    DismissAgent,
    IssuerFreeze,
    IssuerUnfreeze,
    PauseInstrument,
    SetRules,
    UnpauseInstrument,
)
from rantai.core.kinds.transfers import TravelTransfer
from rantai.core.records import Threshold
from rantai.core.rules import (
    DEFAULT_TERMS,
    ConditionalTransfer,
    Eligibility,
    InvestorCategories,
    Lockup,
    LotSize,
    MaxBalance,
    MaxHolders,
    MinHolding,
    Residency,
    RetailLimit,
    ShariahOnly,
    SupplyCap,
    Terms,
    TopicIssuers,
    TravelRule,
    VolumeLimit,
)
from rantai.core.travel import SealedCopy, TravelData
from rantai.core.tx import TxBody, check_envelope
from rantai.crypto.keys import SigningKey

ALL_RULES = (
    Eligibility(("kyc", "x-qualified"), 2, True, True),
    InvestorCategories(("retail",)),
    Residency(False, ("KP", "IR")),
    MaxBalance(10),
    MaxHolders(10),
    MinHolding(10),
    LotSize(10),
    Lockup(1),
    VolumeLimit(10, 30),
    SupplyCap(10),
    ShariahOnly(),
    RetailLimit(500_000, 5_000_000, 100, 365),
    ConditionalTransfer(),
    TravelRule(10),
)
TERMS = Terms(True, True, (TopicIssuers("kyc", ("kyc-provider",)),))
BASIS = LegalBasis("court_order", "WA-1/2026", bytes(32))
TRAVEL = TravelData(bytes(32), (SealedCopy("BNM", bytes(32), b"sealed"),))
PROPOSAL = "ab" * 32

SAMPLES: list[TxBody] = [
    IssueClaim("alice", "residency", "MY", bytes(32), 1),
    RevokeClaim("alice", "kyc"),
    SetRules("BOND1", ALL_RULES, TERMS),
    PauseInstrument("BOND1"),
    UnpauseInstrument("BOND1"),
    AppointAgent("agent"),
    DismissAgent("agent"),
    IssuerFreeze("BOND1", "alice:main", 0),
    IssuerUnfreeze("BOND1", "alice:main"),
    ApproveTransfer("BOND1", "alice:main", "bob:main", 5),
    TravelTransfer("alice:main", "bob:main", "BOND1", 5, "", TRAVEL),
    Propose(ChangeRules("BOND1", ALL_RULES, TERMS), BASIS, "note", 1, 0),
    Propose(FreezeAmount("alice:main", "BOND1", 5), BASIS, "", 1, 2),
    Propose(RecoverKey("alice", (SigningKey(bytes(32)).public_key,)), BASIS, "", 1, 0),
    Propose(
        ChangeGovernance((Threshold("freeze", 1),), (VetoRight("freeze", ("SC",)),)),
        BASIS,
        "",
        1,
        0,
    ),
    Approve(PROPOSAL, "agreed"),
    Veto(PROPOSAL, "disproportionate"),
]


@pytest.mark.parametrize("body", SAMPLES, ids=lambda b: str(b.__struct_config__.tag))
def test_canonical_and_json_round_trips(body: TxBody) -> None:
    body.check_form()
    assert decode(encode(body), type(body)) == body
    data = to_json(body)
    assert body_from_json(data.pop("kind"), data) == body


def _refused(body: TxBody, code: str = codes.BAD_FIELD) -> None:
    chain = Chain()
    with pytest.raises(Malformed) as info:
        check_envelope(chain.envelope("operator", body), CHAIN_ID)
    assert info.value.code == code


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (IssueClaim("alice", "kyc", "10", bytes(32), 1), codes.BAD_FIELD),
        (IssueClaim("alice", "residency", "my", bytes(32), 1), codes.BAD_FIELD),
        (IssueClaim("alice", "investor_category", "whale", bytes(32), 1), codes.BAD_FIELD),
        (IssueClaim("alice", "favourite_colour", "", bytes(32), 1), codes.BAD_FIELD),
        (IssueClaim("alice", "kyc", "1", b"", 1), codes.BAD_FIELD),
        (
            SetRules("B", (LotSize(1),) * (limits.RULES_MAX + 1), DEFAULT_TERMS),
            codes.TOO_MANY_ITEMS,
        ),
        (SetRules("B", (Residency(True, ("Malaysia",)),), DEFAULT_TERMS), codes.BAD_FIELD),
        (SetRules("B", (Eligibility((), 0, True, True),), DEFAULT_TERMS), codes.BAD_FIELD),
        (
            SetRules("B", (VolumeLimit(1, limits.WINDOW_DAYS_MAX + 1),), DEFAULT_TERMS),
            codes.BAD_FIELD,
        ),
        (SetRules("B", (MaxBalance(0),), DEFAULT_TERMS), codes.BAD_FIELD),
        (
            SetRules("B", (InvestorCategories(("retail", "retail")),), DEFAULT_TERMS),
            codes.BAD_FIELD,
        ),
        (IssuerFreeze("B", "alice:main", -1), codes.BAD_AMOUNT),
        (Propose(HaltMarket("crypto"), BASIS, "", 1, 0), codes.BAD_FIELD),
        (Propose(TrustIssuers("kyc", ("b", "a")), BASIS, "", 1, 0), codes.BAD_FIELD),
        (Propose(RecoverKey("alice", ()), BASIS, "", 1, 0), codes.TOO_MANY_ITEMS),
        (Propose(ChangeGovernance((Threshold("nope", 1),), ()), BASIS, "", 1, 0), codes.BAD_FIELD),
        (Approve("not-hex", ""), codes.BAD_FIELD),
        (
            TravelTransfer(
                "alice:main",
                "bob:main",
                "B",
                5,
                "",
                TravelData(
                    bytes(32),
                    (SealedCopy("SC", bytes(32), b"x"), SealedCopy("BNM", bytes(32), b"x")),
                ),
            ),
            codes.BAD_FIELD,
        ),
        (
            TravelTransfer("alice:main", "bob:main", "B", 5, "", TravelData(bytes(31), ())),
            codes.BAD_FIELD,
        ),
    ],
)
def test_bad_forms_are_refused_before_ordering(body: TxBody, code: str) -> None:
    _refused(body, code)
