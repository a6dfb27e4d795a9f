"""Multi-agency governance: who must approve each action class, who may veto, and on what
legal basis an action may be taken.

| key | value |
|---|---|
| ``govconf`` | ``GovConfig``: thresholds that replace genesis's, and veto rights |
| ``proposal/<id>`` | ``Proposal`` (``rantai.core.actions``); the id is the proposing tx id, hex |

The approvals an action class needs are ``govconf``'s when it names the class, else the
genesis ``ChainConfig.thresholds`` (default: a majority of the agencies). The class
``governance`` always needs every agency, whatever genesis or ``govconf`` say: the rules of
the game change only by consensus. Genesis's record is never rewritten (its encoding is in
the golden vectors), so later changes live in ``govconf``.

**Legal basis.** Every proposal carries a ``LegalBasis``: a code from ``LEGAL_BASES``, the
reference of the order or directive, and the SHA-256 of its document.
"""

from __future__ import annotations

from typing import Final

import msgspec

from rantai.core import codes, limits
from rantai.core.errors import Malformed, Rejection
from rantai.core.ids import check_text
from rantai.core.records import CHAIN_KEY, ChainConfig, Threshold
from rantai.core.state import StateView, register_namespace

__all__ = [
    "GOVCONF_KEY",
    "LEGAL_BASES",
    "GovConfig",
    "LegalBasis",
    "VetoRight",
    "agency_ids",
    "proposal_key",
    "require_agency",
    "threshold_of",
    "vetoers_of",
]

# The controlled vocabulary of legal bases. A code never changes meaning once released.
LEGAL_BASES: Final = (
    "aml_investigation",  # a financial-intelligence or AML/CFT investigation or direction
    "court_order",  # an order of a court (seizure, forfeiture, injunction, judgment)
    "error_correction",  # correcting an operational error, with the parties' evidence
    "governance_resolution",  # a resolution of the agencies on the platform's own rules
    "issuer_request",  # the issuer's documented request, within its instrument's terms
    "key_loss",  # a holder's proven loss of its keys, after identity re-verification
    "market_emergency",  # disorderly markets, a systemic or operational emergency
    "regulatory_direction",  # a direction of a supervising agency under its statute
    "sanctions_designation",  # a designation under a sanctions list (UN, domestic)
)
GOVCONF_KEY: Final = "govconf"


class LegalBasis(msgspec.Struct, frozen=True, array_like=True):
    """Why an action may be taken: a code, the order's reference, the document's hash."""

    code: str
    reference: str
    document_hash: bytes

    def check_form(self) -> None:
        if self.code not in LEGAL_BASES:
            raise Malformed(codes.BAD_FIELD, f"legal basis: one of {LEGAL_BASES}")
        check_text(self.reference, "reference", limits.REFERENCE_CHARS_MAX)
        if len(self.document_hash) != 32:
            raise Malformed(codes.BAD_FIELD, "document_hash: 32 bytes (SHA-256)")


class VetoRight(msgspec.Struct, frozen=True, array_like=True):
    """The agencies that may veto proposals of one action class."""

    action_class: str
    agencies: tuple[str, ...]


class GovConfig(msgspec.Struct, frozen=True, array_like=True):
    """Governance as changed after genesis (by the ``governance`` action class)."""

    thresholds: tuple[Threshold, ...]  # sorted by class; classes not named keep genesis's
    vetoes: tuple[VetoRight, ...]  # sorted by class


def proposal_key(proposal_id: str) -> str:
    return f"proposal/{proposal_id}"


def agency_ids(view: StateView) -> tuple[str, ...]:
    """The agencies named at genesis, in genesis order."""
    chain: ChainConfig = view.get(CHAIN_KEY)
    return tuple(a.party for a in chain.agencies)


def require_agency(view: StateView, sender: str) -> None:
    """Rejects not_authorized unless ``sender`` is an agency."""
    if sender not in agency_ids(view):
        raise Rejection(codes.NOT_AUTHORIZED, "only an agency takes part in governance")


def threshold_of(view: StateView, action_class: str) -> int:
    """How many agencies must approve an action of ``action_class``."""
    agencies = len(agency_ids(view))
    if action_class == "governance":
        return agencies
    config: GovConfig | None = view.get(GOVCONF_KEY)
    if config is not None:
        for entry in config.thresholds:
            if entry.action_class == action_class:
                return entry.approvals
    chain: ChainConfig = view.get(CHAIN_KEY)
    for entry in chain.thresholds:
        if entry.action_class == action_class:
            return entry.approvals
    return agencies // 2 + 1


def vetoers_of(view: StateView, action_class: str) -> tuple[str, ...]:
    """The agencies that may veto proposals of ``action_class`` (none by default)."""
    config: GovConfig | None = view.get(GOVCONF_KEY)
    if config is not None:
        for entry in config.vetoes:
            if entry.action_class == action_class:
                return entry.agencies
    return ()


register_namespace("govconf", GovConfig)
