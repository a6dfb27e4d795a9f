"""Builders: one typed function per transaction kind, returning a checked body.

Each builder's parameters are the kind's fields, in order and by the same names
(docs/encoding.md, "Transaction kinds"), with defaults where one is natural (an empty memo).
Where a field with a default comes before one without, the later ones are keyword-only
(``travel_transfer(..., memo="", *, travel)``, ``propose(..., note="", *, expires_ms, ...)``).
Keys may be given as a ``SigningKey`` or as 32 public-key bytes, and proposal ids as the
proposing transaction's id (bytes) or its lowercase hex.

Every builder runs the same stateless checks the node runs (field types, then the kind's
``check_form``) and raises ``InvalidTransaction`` with the node's reason code, so a bad
transaction fails here, in the caller's frame, and is never signed. A test checks that every
registered kind has a builder whose parameters match its fields.

The records these kinds carry have builders too: ``terms`` and ``legal_basis`` here, rules in
``rantai.sdk.rules``, governance actions in ``rantai.sdk.actions``, travel-rule data in
``_travel`` (``travel_payload``, ``seal_travel``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

from rantai.core.actions import AnyAction
from rantai.core.books import Allocation
from rantai.core.governance import LegalBasis
from rantai.core.kinds.books import Allocate, OpenBook, PlaceOrder
from rantai.core.kinds.cash import CreateCash, SetCashLimits, SetCashTerms
from rantai.core.kinds.claims import ImportCredential, IssueClaim, RevokeClaim
from rantai.core.kinds.funds import (
    CancelFundOrder,
    Deal,
    PublishNav,
    Redeem,
    SetDealingTerms,
    Subscribe,
)
from rantai.core.kinds.genesis import Genesis, GenesisAgency, GenesisParty
from rantai.core.kinds.governance import Approve, Propose, Veto
from rantai.core.kinds.instruments import Burn, CreateInstrument, Mint
from rantai.core.kinds.parties import (
    AddKey,
    GrantRole,
    OpenAccount,
    RegisterParty,
    RevokeKey,
    RevokeRole,
)
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
from rantai.core.kinds.settlement import (
    AffirmSettlement,
    CancelSettlement,
    ProposeSettlement,
    RetrySettlement,
    RunCycle,
    SetMediator,
)
from rantai.core.kinds.transfers import BatchTransfer, Movement, Transfer, TravelTransfer
from rantai.core.records import Threshold
from rantai.core.rules import DEFAULT_TERMS, AnyRule, Terms, TopicIssuers
from rantai.core.settlement import Leg
from rantai.core.travel import TravelData
from rantai.core.tx import TxBody
from rantai.sdk._checks import PublicKeyLike, check_record, proposal_hex
from rantai.sdk._checks import public_key_bytes as _public_key

__all__ = [
    "add_key",
    "affirm_settlement",
    "allocate",
    "allocation",
    "appoint_agent",
    "approve",
    "approve_transfer",
    "batch_transfer",
    "burn",
    "cancel_settlement",
    "check_body",
    "create_instrument",
    "dismiss_agent",
    "genesis",
    "genesis_agency",
    "genesis_party",
    "grant_role",
    "import_credential",
    "issue_claim",
    "issuer_freeze",
    "issuer_unfreeze",
    "leg",
    "legal_basis",
    "mint",
    "movement",
    "open_account",
    "open_book",
    "pause_instrument",
    "place_order",
    "propose",
    "propose_settlement",
    "register_party",
    "retry_settlement",
    "revoke_claim",
    "revoke_key",
    "revoke_role",
    "run_cycle",
    "set_mediator",
    "set_rules",
    "terms",
    "transfer",
    "travel_transfer",
    "unpause_instrument",
    "veto",
]

B = TypeVar("B", bound=TxBody)


def check_body(body: B) -> B:
    """Return ``body`` as the node will decode it, after the node's stateless checks.

    Raises InvalidTransaction with ``malformed`` (a field of the wrong type: a float or
    bool amount, text for bytes) or the kind's own code (``bad_amount``, ``bad_field``,
    ``too_many_items``).
    """
    return check_record(body)


# --- parties ---------------------------------------------------------------------------


def register_party(
    id: str,  # the field's name on the wire
    kind: str,
    name: str,
    keys: Iterable[PublicKeyLike],
    roles: Iterable[str] = (),
) -> RegisterParty:
    """Onboard a party (sender: a registrar). ``kind``: ``person`` or ``organisation``."""
    return check_body(
        RegisterParty(id, kind, name, tuple(_public_key(k) for k in keys), tuple(roles))
    )


def open_account(name: str, kind: str = "own") -> OpenAccount:
    """Open the sender's account ``<sender>:<name>``; ``omnibus`` and ``segregated`` are for
    custodians."""
    return check_body(OpenAccount(name, kind))


def add_key(public_key: PublicKeyLike) -> AddKey:
    """Add a signing key to the sender's own party."""
    return check_body(AddKey(_public_key(public_key)))


def revoke_key(public_key: PublicKeyLike) -> RevokeKey:
    """Revoke one of the sender's own keys (never its last)."""
    return check_body(RevokeKey(_public_key(public_key)))


def grant_role(party: str, role: str) -> GrantRole:
    """Grant ``role`` to ``party`` (sender: a holder of a role that grants it)."""
    return check_body(GrantRole(party, role))


def revoke_role(party: str, role: str) -> RevokeRole:
    """Revoke ``role`` from ``party`` (sender: a holder of a role that grants it)."""
    return check_body(RevokeRole(party, role))


# --- instruments -------------------------------------------------------------------------


def create_instrument(
    code: str, kind: str, name: str, decimals: int, supply_cap: int
) -> CreateInstrument:
    """Create an instrument issued by the sender; ``supply_cap`` in minor units."""
    return check_body(CreateInstrument(code, kind, name, decimals, supply_cap))


def mint(instrument: str, to: str, amount: int, reference: str = "") -> Mint:
    """Issue ``amount`` minor units into account ``to`` (sender: the issuer)."""
    return check_body(Mint(instrument, to, amount, reference))


def burn(instrument: str, account: str, amount: int, reference: str = "") -> Burn:
    """Destroy ``amount`` minor units held in the sender's ``account``."""
    return check_body(Burn(instrument, account, amount, reference))


# --- transfers ---------------------------------------------------------------------------


def transfer(
    source: str, destination: str, instrument: str, amount: int, memo: str = ""
) -> Transfer:
    """Move ``amount`` minor units from the sender's account ``source`` to ``destination``."""
    return check_body(Transfer(source, destination, instrument, amount, memo))


def movement(
    source: str, destination: str, instrument: str, amount: int, memo: str = ""
) -> Movement:
    """One movement of a ``batch_transfer``; checked when the batch is built."""
    return Movement(source, destination, instrument, amount, memo)


def batch_transfer(movements: Iterable[Movement]) -> BatchTransfer:
    """Several movements from the sender's accounts, applied all together or not at all."""
    return check_body(BatchTransfer(tuple(movements)))


def travel_transfer(
    source: str,
    destination: str,
    instrument: str,
    amount: int,
    memo: str = "",
    *,
    travel: TravelData,
) -> TravelTransfer:
    """A ``transfer`` carrying travel-rule data (FATF Recommendation 16), for instruments
    with a ``travel_rule`` rule. ``travel`` comes from ``seal_travel``: sealed to every
    agency and to the institutions (registrars) of both accounts' owners."""
    return check_body(TravelTransfer(source, destination, instrument, amount, memo, travel))


# --- genesis -----------------------------------------------------------------------------


def genesis_party(
    id: str,  # the field's name on the wire
    kind: str,
    name: str,
    keys: Iterable[PublicKeyLike],
    roles: Iterable[str] = (),
) -> GenesisParty:
    """A party named at genesis; checked when the genesis body is built."""
    return GenesisParty(id, kind, name, tuple(_public_key(k) for k in keys), tuple(roles))


def genesis_agency(party: GenesisParty, scope: Iterable[str]) -> GenesisAgency:
    """An agency named at genesis and the instrument kinds its supervisory reads cover."""
    return GenesisAgency(party, tuple(scope))


def genesis(
    chain_id: str,
    operator: GenesisParty,
    agencies: Iterable[GenesisAgency],
    parties: Iterable[GenesisParty],
    thresholds: Mapping[str, int],
    executors: Iterable[PublicKeyLike],
) -> Genesis:
    """The first transaction of a chain (sender: ``operator``, nonce 0).

    ``thresholds`` maps action classes to the approvals they need; classes left out get the
    default (a majority of agencies; all of them for ``governance``).
    """
    return check_body(
        Genesis(
            chain_id,
            operator,
            tuple(agencies),
            tuple(parties),
            tuple(Threshold(c, n) for c, n in sorted(thresholds.items())),
            tuple(_public_key(k) for k in executors),
        )
    )


# --- claims ------------------------------------------------------------------------------


def issue_claim(
    party: str, topic: str, value: str, evidence_hash: bytes, expires_ms: int
) -> IssueClaim:
    """Attest ``topic`` = ``value`` about ``party`` until block time ``expires_ms``.

    Sender: a claim issuer trusted for the topic. ``evidence_hash`` is the SHA-256 of the
    evidence the issuer keeps off the ledger (a KYC file, a screening report). Topics are the
    standard ones (``kyc`` with a level 1-9, ``investor_category``, ``residency`` with an ISO
    country code, ``sanctions_screened``, ``shariah_only``) or custom ``x-...`` ones.
    Issuing again renews the claim, or lifts the sender's own revocation.
    """
    return check_body(IssueClaim(party, topic, value, evidence_hash, expires_ms))


def revoke_claim(party: str, topic: str) -> RevokeClaim:
    """Revoke the sender's own claim on ``topic`` about ``party``."""
    return check_body(RevokeClaim(party, topic))


def import_credential(jwt: str) -> ImportCredential:
    """Import the claims of a W3C Verifiable Credential, a VC-JWT signed with EdDSA by a
    trusted claim issuer (``rantai.core.credentials``). Sender: anyone, typically the
    subject; the issuer's signature is what counts."""
    return check_body(ImportCredential(jwt))


# --- an issuer's powers ------------------------------------------------------------------


def set_rules(
    instrument: str, rules: Iterable[AnyRule] = (), terms: Terms = DEFAULT_TERMS
) -> SetRules:
    """Set the instrument's rules (``rantai.sdk.rules``), applied in list order, and its
    ``terms``, before its first mint. Sender: its issuer; later changes go through
    governance (``actions.change_rules``)."""
    return check_body(SetRules(instrument, tuple(rules), terms))


def pause_instrument(instrument: str) -> PauseInstrument:
    """Stop transfers of the instrument (mint and burn go on). Sender: its issuer or agent."""
    return check_body(PauseInstrument(instrument))


def unpause_instrument(instrument: str) -> UnpauseInstrument:
    """Let transfers of a paused instrument resume. Sender: its issuer or agent."""
    return check_body(UnpauseInstrument(instrument))


def appoint_agent(agent: str) -> AppointAgent:
    """Appoint ``agent`` (a holder of the ``issuer_agent`` role) to act for the sender, an
    issuer, on all its instruments."""
    return check_body(AppointAgent(agent))


def dismiss_agent(agent: str) -> DismissAgent:
    """Dismiss one of the sender's agents."""
    return check_body(DismissAgent(agent))


def issuer_freeze(instrument: str, account: str, amount: int = 0) -> IssuerFreeze:
    """Freeze ``account``'s units of the instrument: ``amount`` of them, or all (0).

    Sender: the issuer or its agent, where the instrument's terms allow issuer freezes
    (``terms(issuer_freeze=True)``).
    """
    return check_body(IssuerFreeze(instrument, account, amount))


def issuer_unfreeze(instrument: str, account: str) -> IssuerUnfreeze:
    """Lift every issuer freeze on ``account`` for the instrument. Sender: issuer or agent."""
    return check_body(IssuerUnfreeze(instrument, account))


def approve_transfer(
    instrument: str, source: str, destination: str, amount: int
) -> ApproveTransfer:
    """Pre-approve exactly one transfer of ``amount`` from ``source`` to ``destination``, for
    an instrument with a ``conditional_transfer`` rule. Sender: the issuer or its agent."""
    return check_body(ApproveTransfer(instrument, source, destination, amount))


# --- settlement --------------------------------------------------------------------------


def leg(source: str, destination: str, instrument: str, amount: int) -> Leg:
    """One leg of a settlement instruction; checked when the instruction is built."""
    return Leg(source, destination, instrument, amount)


def propose_settlement(legs: Iterable[Leg], deadline_ms: int, cycle: str = "") -> ProposeSettlement:
    """Propose a settlement instruction: ``legs`` (``leg``) settled all together or not at
    all, by block time ``deadline_ms``; gross on the last affirmation, or net in settlement
    cycle ``cycle``. Sender: the owner of an account in some leg. The instruction's id is
    this transaction's id."""
    return check_body(ProposeSettlement(tuple(legs), deadline_ms, cycle))


def affirm_settlement(instruction: str | bytes) -> AffirmSettlement:
    """Affirm an instruction (by the proposing tx id, bytes or lowercase hex), earmarking
    what the sender's accounts pay in it. Sender: a party whose account a leg debits, or
    the mediator of an instrument moved."""
    return check_body(AffirmSettlement(proposal_hex(instruction)))


def cancel_settlement(instruction: str | bytes) -> CancelSettlement:
    """Cancel an instruction that has not settled, releasing its earmarks. Sender: its
    proposer or an affirmer."""
    return check_body(CancelSettlement(proposal_hex(instruction)))


def retry_settlement(instruction: str | bytes) -> RetrySettlement:
    """Settle a failed instruction again. Sender: its proposer or an affirmer."""
    return check_body(RetrySettlement(proposal_hex(instruction)))


def run_cycle(cycle: str) -> RunCycle:
    """Settle the affirmed instructions queued for ``cycle``, net. Sender: the operator."""
    return check_body(RunCycle(cycle))


def set_mediator(instrument: str, mediator: str = "") -> SetMediator:
    """Make ``mediator`` the mandatory mediator of ``instrument`` (empty: none). Sender: the
    issuer or its agent."""
    return check_body(SetMediator(instrument, mediator))


# --- primary issuance by book-building ------------------------------------------------


def open_book(
    instrument: str, cash_instrument: str, price_minor: int, account: str, closes_ms: int
) -> OpenBook:
    """Offer ``instrument`` at ``price_minor`` of ``cash_instrument`` per unit, from and into
    the issuer's ``account``, taking orders until block time ``closes_ms``. Sender: the
    issuer or its agent. The book's id is this transaction's id."""
    return check_body(OpenBook(instrument, cash_instrument, price_minor, account, closes_ms))


def place_order(book: str | bytes, account: str, quantity: int) -> PlaceOrder:
    """Order ``quantity`` units from ``book`` (its opening tx id, bytes or hex) for the
    sender's ``account``; replaces an earlier order of that account."""
    return check_body(PlaceOrder(proposal_hex(book), account, quantity))


def allocation(account: str, quantity: int) -> Allocation:
    """One allocation of ``allocate``; checked when the allocation is built."""
    return Allocation(account, quantity)


def allocate(book: str | bytes, allocations: Iterable[Allocation], deadline_ms: int) -> Allocate:
    """Allocate a closed book (``allocation`` per account, sorted here): each becomes a DvP
    settlement instruction the investor affirms by block time ``deadline_ms``. Sender: the
    issuer or its agent."""
    ordered = tuple(sorted(allocations, key=lambda a: a.account))
    return check_body(Allocate(proposal_hex(book), ordered, deadline_ms))


# --- governance --------------------------------------------------------------------------


def propose(
    action: AnyAction,
    basis: LegalBasis,
    note: str = "",
    *,
    expires_ms: int,
    valid_until_ms: int = 0,
) -> Propose:
    """Propose a governance ``action`` (``rantai.sdk.actions``) on a legal ``basis``
    (``legal_basis``). Sender: an agency; its proposal counts as its approval.

    Approvals are taken until block time ``expires_ms`` (within the node's longest TTL).
    ``valid_until_ms`` (0: none) makes a time-limited action (a freeze, a suspension, a
    market halt) lapse at that block time; other actions refuse it (``bad_field``). The
    proposal's id is this transaction's id.
    """
    return check_body(Propose(action, basis, note, expires_ms, valid_until_ms))


def approve(proposal: str | bytes, note: str = "") -> Approve:
    """Approve an open proposal, by its id (the proposing tx id, as bytes or lowercase
    hex). Sender: an agency; the approval that meets the threshold executes the action."""
    return check_body(Approve(proposal_hex(proposal), note))


def veto(proposal: str | bytes, note: str = "") -> Veto:
    """Veto an open proposal, by its id. Sender: an agency with a veto on its class."""
    return check_body(Veto(proposal_hex(proposal), note))


# --- records the compliance kinds carry --------------------------------------------------


def terms(
    shariah_certified: bool = False,
    issuer_freeze: bool = False,
    issuers: Mapping[str, Iterable[str]] | None = None,
) -> Terms:
    """An instrument's terms, for ``set_rules`` and ``actions.change_rules``.

    ``issuer_freeze`` lets the issuer and its agents freeze holders (``issuer_freeze``).
    ``issuers`` narrows, per claim topic, the issuers whose claims count for this instrument
    (topic -> parties); topics left out use the issuers governance trusts. Sorted here, so
    the same terms always encode the same.
    """
    topics = sorted((issuers or {}).items())
    entries = tuple(TopicIssuers(topic, tuple(sorted(parties))) for topic, parties in topics)
    return check_record(Terms(shariah_certified, issuer_freeze, entries))


def legal_basis(code: str, reference: str, document_hash: bytes) -> LegalBasis:
    """Why a governance action may be taken: ``code`` from
    ``rantai.core.governance.LEGAL_BASES`` (``court_order``, ``regulatory_direction``,
    ``sanctions_designation`` ...), the order's or directive's ``reference``, and the
    SHA-256 of its document."""
    return check_record(LegalBasis(code, reference, document_hash))


# --- cash tokens and fund units (docs/decisions/cash-tokens.md, funds.md) ------------------


def create_cash(
    code: str, name: str, decimals: int, supply_cap: int, currency: str, money: str
) -> CreateCash:
    """Create a cash instrument with its terms: ``currency`` (ISO 4217) and ``money``
    (``deposit``: sender a licensed bank; ``wholesale``: sender the central bank)."""
    return check_body(CreateCash(code, name, decimals, supply_cap, currency, money))


def set_cash_terms(instrument: str, currency: str, money: str) -> SetCashTerms:
    """Declare a cash instrument's terms once, before its first mint (sender: its issuer);
    from then on every mint needs a fresh deposit reference and every burn a payout one."""
    return check_body(SetCashTerms(instrument, currency, money))


def set_cash_limits(
    instrument: str,
    holder_max: int = 0,
    tx_max: int = 0,
    non_resident_tx_max: int = 0,
    non_resident_day_max: int = 0,
    home_country: str = "MY",
) -> SetCashLimits:
    """Set the central bank's limits on a cash instrument, in its minor units (0: none).
    Sender: an agency with cash in its scope."""
    return check_body(
        SetCashLimits(
            instrument, holder_max, tx_max, non_resident_tx_max, non_resident_day_max, home_country
        )
    )


def set_dealing_terms(
    instrument: str,
    cash_instrument: str,
    cash_account: str,
    dealing_account: str,
    cutoff_ms_of_day: int,
    min_subscription: int = 0,
    gate_bps: int = 10_000,
) -> SetDealingTerms:
    """Set a fund's dealing terms once (sender: its manager): the cash it deals in, its cash
    and dealing accounts, the daily cut-off (ms after 00:00 UTC), the minimum subscription
    and the redemption gate in basis points of units outstanding (10,000: none)."""
    return check_body(
        SetDealingTerms(
            instrument,
            cash_instrument,
            cash_account,
            dealing_account,
            cutoff_ms_of_day,
            min_subscription,
            gate_bps,
        )
    )


def publish_nav(
    instrument: str, cash_instrument: str, nav_minor: int, valuation_ms: int
) -> PublishNav:
    """Publish a fund's NAV per whole unit in minor units of ``cash_instrument``, valued at
    block time ``valuation_ms``. Sender: the manager or its agent."""
    return check_body(PublishNav(instrument, cash_instrument, nav_minor, valuation_ms))


def subscribe(instrument: str, account: str, amount: int) -> Subscribe:
    """Order units of a fund for ``amount`` of its cash from the sender's ``account``."""
    return check_body(Subscribe(instrument, account, amount))


def redeem(instrument: str, account: str, units: int) -> Redeem:
    """Order the redemption of ``units`` of a fund from the sender's ``account``."""
    return check_body(Redeem(instrument, account, units))


def cancel_fund_order(instrument: str, order: int) -> CancelFundOrder:
    """Cancel the sender's queued fund order ``order`` before its cut-off."""
    return check_body(CancelFundOrder(instrument, order))


def deal(instrument: str) -> Deal:
    """Settle a fund's due orders at its latest NAV. Sender: the manager or its agent."""
    return check_body(Deal(instrument))
