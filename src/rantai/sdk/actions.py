"""Builders of governance actions, one per action kind, for ``propose``.

```python
from rantai import sdk
from rantai.sdk import actions

basis = sdk.legal_basis("court_order", "KLHC/2026/117", hashlib.sha256(order_pdf).digest())
done = sc.submit(sdk.propose(actions.freeze_account("inv-7:main"), basis,
                             expires_ms=now_ms + DAY_MS), wait=True)
bnm.submit(sdk.approve(done.tx_id))  # other agencies, until the class's threshold is met
```

Each function is named after its action's tag and takes the action's fields in order
(docs/encoding.md, the action table; what each does and which class of approvals it needs is
in ``rantai.core.actions``). Each runs the action's stateless checks and raises
``InvalidTransaction`` with the node's code. Sets of parties are sorted here, as the node
requires; keys may be ``SigningKey``s or public-key bytes, and proposal ids bytes or hex.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rantai.core.actions import (
    AnyAction,
    ChangeGovernance,
    ChangeRules,
    ForcedTransfer,
    FreezeAccount,
    FreezeAmount,
    FreezeParty,
    GrantRoleAction,
    HaltMarket,
    RecoverKey,
    Resume,
    RevokeCertification,
    RevokeRoleAction,
    SuspendInstrument,
    TrustIssuers,
    Unfreeze,
)
from rantai.core.governance import VetoRight
from rantai.core.records import Threshold
from rantai.core.rules import DEFAULT_TERMS, AnyRule, Terms
from rantai.sdk._checks import PublicKeyLike, check_record, proposal_hex, public_key_bytes

__all__ = [
    "AnyAction",
    "change_governance",
    "change_rules",
    "forced_transfer",
    "freeze_account",
    "freeze_amount",
    "freeze_party",
    "grant_role",
    "halt_market",
    "recover_key",
    "resume",
    "revoke_certification",
    "revoke_role",
    "suspend_instrument",
    "trust_issuers",
    "unfreeze",
]


def freeze_party(party: str) -> FreezeParty:
    """Block every movement out of and into every account of ``party`` (time-limited)."""
    return check_record(FreezeParty(party))


def freeze_account(account: str) -> FreezeAccount:
    """Block every movement out of and into ``account`` (time-limited)."""
    return check_record(FreezeAccount(account))


def freeze_amount(account: str, instrument: str, amount: int) -> FreezeAmount:
    """Keep ``amount`` units of ``instrument`` in ``account``; the rest may leave
    (time-limited)."""
    return check_record(FreezeAmount(account, instrument, amount))


def unfreeze(proposal: str | bytes) -> Unfreeze:
    """Lift the freeze that the executed proposal ``proposal`` put in force."""
    return check_record(Unfreeze(proposal_hex(proposal)))


def forced_transfer(source: str, destination: str, instrument: str, amount: int) -> ForcedTransfer:
    """Move units between any two accounts, past freezes and rules (a court order)."""
    return check_record(ForcedTransfer(source, destination, instrument, amount))


def recover_key(party: str, keys: Iterable[PublicKeyLike]) -> RecoverKey:
    """Replace every key of ``party`` with ``keys`` (a holder who lost its keys)."""
    return check_record(RecoverKey(party, tuple(public_key_bytes(k) for k in keys)))


def suspend_instrument(instrument: str) -> SuspendInstrument:
    """Stop every movement of ``instrument``, mint and burn included (time-limited)."""
    return check_record(SuspendInstrument(instrument))


def halt_market(kind: str) -> HaltMarket:
    """Stop every movement of every instrument of ``kind`` (a circuit breaker; time-limited)."""
    return check_record(HaltMarket(kind))


def resume(proposal: str | bytes) -> Resume:
    """Lift the suspension or market halt that the executed proposal ``proposal`` put in
    force."""
    return check_record(Resume(proposal_hex(proposal)))


def change_rules(
    instrument: str, rules: Iterable[AnyRule] = (), terms: Terms = DEFAULT_TERMS
) -> ChangeRules:
    """Replace an instrument's rules (``rantai.sdk.rules``) and terms (``sdk.terms``)."""
    return check_record(ChangeRules(instrument, tuple(rules), terms))


def revoke_certification(instrument: str) -> RevokeCertification:
    """Revoke a sukuk's Shariah certification (no more issuance until it is certified again)."""
    return check_record(RevokeCertification(instrument))


def trust_issuers(topic: str, issuers: Iterable[str]) -> TrustIssuers:
    """Set the claim issuers trusted for ``topic`` (none: no claim on it counts)."""
    return check_record(TrustIssuers(topic, tuple(sorted(issuers))))


def grant_role(party: str, role: str) -> GrantRoleAction:
    """Grant ``role`` to ``party`` (any role but ``agency`` and ``operator``)."""
    return check_record(GrantRoleAction(party, role))


def revoke_role(party: str, role: str) -> RevokeRoleAction:
    """Revoke ``role`` from ``party``."""
    return check_record(RevokeRoleAction(party, role))


def change_governance(
    thresholds: Mapping[str, int], vetoes: Mapping[str, Iterable[str]]
) -> ChangeGovernance:
    """Replace, as a whole, the approvals each action class needs (class -> approvals;
    classes left out keep genesis's) and the veto rights (class -> agencies)."""
    return check_record(
        ChangeGovernance(
            tuple(Threshold(c, n) for c, n in sorted(thresholds.items())),
            tuple(VetoRight(c, tuple(sorted(a))) for c, a in sorted(vetoes.items())),
        )
    )
