"""Stable reason codes, in the order their checks run.

A code never changes meaning once released; clients switch on it. Checks run in the order
listed, so one bad input always gives the same code (the first that applies).

**Stateless** (``Malformed``): the envelope is refused before ordering and never reaches a
block. A block that contains one fails replay.

**Stateful**: the transaction is in a block; its receipt carries the code and it changes
nothing else, except that a transaction past the nonce check uses up its nonce so the signed
envelope can never be replayed (see docs/decisions/nonces.md).
"""

from __future__ import annotations

from typing import Final

OK: Final = "ok"

# --- stateless, in order ------------------------------------------------------------------
TOO_LARGE: Final = "too_large"  # envelope longer than ENVELOPE_BYTES_MAX
MALFORMED: Final = "malformed"  # not a decodable envelope of the right shape
UNKNOWN_KIND: Final = "unknown_kind"  # body tag names no transaction kind
NON_CANONICAL: Final = "non_canonical"  # decodes, but is not the canonical encoding
WRONG_CHAIN: Final = "wrong_chain"  # chain id is not this chain's
BAD_SIGNATURE: Final = "bad_signature"  # signature does not verify under the given key
BAD_AMOUNT: Final = "bad_amount"  # zero, negative, or above AMOUNT_MAX
TOO_MANY_ITEMS: Final = "too_many_items"  # a list above its bound in limits.py
BAD_FIELD: Final = "bad_field"  # an id, name or number out of its documented form

STATELESS_ORDER: Final = (
    TOO_LARGE,
    MALFORMED,
    UNKNOWN_KIND,
    NON_CANONICAL,
    WRONG_CHAIN,
    BAD_SIGNATURE,
    BAD_AMOUNT,
    TOO_MANY_ITEMS,
    BAD_FIELD,
)

# --- stateful: sender checks, in order, then each kind's own checks ---------------------------
GENESIS_ONLY: Final = "genesis_only"  # a genesis transaction after height 0, or other at 0
UNKNOWN_SENDER: Final = "unknown_sender"  # no party with the sender id
KEY_NOT_AUTHORIZED: Final = "key_not_authorized"  # the signing key is not the sender's
BAD_NONCE: Final = "bad_nonce"  # nonce is not the sender's next nonce
NOT_AUTHORIZED: Final = "not_authorized"  # the sender lacks the role or ownership needed
UNKNOWN_PARTY: Final = "unknown_party"
UNKNOWN_ACCOUNT: Final = "unknown_account"
UNKNOWN_INSTRUMENT: Final = "unknown_instrument"
UNKNOWN_KEY: Final = "unknown_key"  # the key to revoke is not the party's
ALREADY_EXISTS: Final = "already_exists"  # party, account or instrument id taken
KEY_IN_USE: Final = "key_in_use"  # the key already belongs to a party
LAST_KEY: Final = "last_key"  # revoking it would leave the party without a key
ROLE_HELD: Final = "role_held"
ROLE_NOT_HELD: Final = "role_not_held"
SELF_TRANSFER: Final = "self_transfer"  # from and to are the same account
INSUFFICIENT_BALANCE: Final = "insufficient_balance"
BALANCE_OVERFLOW: Final = "balance_overflow"  # the credit would exceed AMOUNT_MAX
SUPPLY_CAP_EXCEEDED: Final = "supply_cap_exceeded"

# --- compliance: every movement (mint, transfer, burn), in this order --------------------
# After a kind's own checks (unknown_*, not_authorized, self_transfer, supply_cap_exceeded),
# ``rantai.core.compliance`` runs: market_halted, instrument_suspended, paused, sanctioned
# (source, then destination), frozen (source, then destination), the instrument's rules in
# its list order (each rule's own ``rule:*`` code), insufficient_balance, frozen_amount,
# earmarked (settlement, below), then balance_overflow. A forced transfer (governance) skips
# all of them but the balance.
MARKET_HALTED: Final = "market_halted"  # a circuit breaker halts the instrument's asset class
INSTRUMENT_SUSPENDED: Final = "instrument_suspended"  # governance suspended the instrument
PAUSED: Final = "paused"  # the issuer (or its agent) paused transfers of the instrument
SANCTIONED: Final = "sanctioned"  # a trusted screener revoked the party's sanctions screening
FROZEN: Final = "frozen"  # the party or account is frozen (for all, or for this instrument)
FROZEN_AMOUNT: Final = "frozen_amount"  # the amount exceeds the balance less frozen units

RULE_ELIGIBILITY: Final = "rule:eligibility"  # a required claim is missing, expired or revoked
RULE_INVESTOR_CATEGORY: Final = "rule:investor_category"  # receiver's category not allowed
RULE_RESIDENCY: Final = "rule:residency"  # receiver's residency not allowed (or unknown)
RULE_MAX_BALANCE: Final = "rule:max_balance"  # receiver's holding (all accounts) above the max
RULE_MAX_HOLDERS: Final = "rule:max_holders"  # a new holder beyond the maximum number
RULE_MIN_HOLDING: Final = "rule:min_holding"  # a holding left or made between zero and the min
RULE_LOT_SIZE: Final = "rule:lot_size"  # amount not a multiple of the lot
RULE_LOCKUP: Final = "rule:lockup"  # transfer before the end of the lock-up
RULE_VOLUME_LIMIT: Final = "rule:volume_limit"  # sender's volume in the rolling window above max
RULE_SUPPLY_CAP: Final = "rule:supply_cap"  # mint beyond the rule's cap
RULE_SHARIAH: Final = "rule:shariah"  # a shariah_only holder receiving an uncertified instrument
RULE_RETAIL_LIMIT: Final = "rule:retail_limit"  # retail investment above a rolling limit
RULE_CONDITIONAL: Final = "rule:conditional_transfer"  # transfer without an agent's approval
RULE_TRAVEL: Final = "rule:travel_rule"  # at or above the threshold without travel data

TRAVEL_INCOMPLETE: Final = "travel_incomplete"  # travel data lacks a required reader's copy

# --- claims, rules and issuer powers (after the sender checks, in each kind's order) ---------
UNTRUSTED_ISSUER: Final = "untrusted_issuer"  # the issuer is not trusted for the claim topic
UNKNOWN_CLAIM: Final = "unknown_claim"  # no claim by the sender on that party and topic
BAD_CREDENTIAL: Final = "bad_credential"  # a verifiable credential's signature or terms fail
BAD_TIME: Final = "bad_time"  # an expiry or validity time already past, or beyond its bound
RULES_LOCKED: Final = "rules_locked"  # rules set by the issuer only before the first mint
NEEDS_TRACKING: Final = "needs_tracking"  # a holding rule on an instrument minted before rules
NO_CHANGE: Final = "no_change"  # the action would change nothing (already paused, trusted ...)

# --- governance: propose, approve, veto -------------------------------------------------
UNKNOWN_PROPOSAL: Final = "unknown_proposal"
PROPOSAL_CLOSED: Final = "proposal_closed"  # executed, vetoed or reversed already
PROPOSAL_EXPIRED: Final = "proposal_expired"  # block time at or past the proposal's expiry
ALREADY_APPROVED: Final = "already_approved"  # this agency approved the proposal already
NOT_REVERSIBLE: Final = "not_reversible"  # the referenced proposal is not of the right action
NOT_ACTIVE: Final = "not_active"  # the freeze or suspension to lift is no longer in force

# --- settlement: propose, affirm, cancel, retry, cycles (issue 5) ---------------------------
# ``earmarked`` is a compliance code: it runs after frozen_amount, for every movement out of
# an account with earmarks in force (docs/decisions/settlement.md).
EARMARKED: Final = "earmarked"  # the amount exceeds the balance less frozen and earmarked units
UNKNOWN_INSTRUCTION: Final = "unknown_instruction"  # no settlement instruction with that id
INSTRUCTION_CLOSED: Final = "instruction_closed"  # not in a state that allows the action
INSTRUCTION_EXPIRED: Final = "instruction_expired"  # block time at or past its deadline
ALREADY_AFFIRMED: Final = "already_affirmed"  # this party affirmed the instruction already
CYCLE_CLOSED: Final = "cycle_closed"  # the settlement cycle ran already
UNKNOWN_CYCLE: Final = "unknown_cycle"  # no instruction was queued for the cycle

# --- book-building (primary issuance, issue 5) --------------------------------------------
UNKNOWN_BOOK: Final = "unknown_book"  # no book with that id
BOOK_CLOSED: Final = "book_closed"  # orders after the book closed, or a second allocation
BOOK_OPEN: Final = "book_open"  # allocation before the book closed
OVER_ALLOCATED: Final = "over_allocated"  # an allocation to an account above its order

# --- cash tokens and fund units (issue 5, parts 1 and 4) -----------------------------------
# cash_tx_cap, cash_holder_cap and non_resident_limit are compliance codes: for a cash
# instrument with central-bank limits they run after the instrument's rules and before
# insufficient_balance (docs/decisions/cash-tokens.md).
CASH_TX_CAP: Final = "cash_tx_cap"  # a movement of cash above the central bank's per-tx cap
CASH_HOLDER_CAP: Final = "cash_holder_cap"  # the receiver would hold more than the holder cap
NON_RESIDENT_LIMIT: Final = "non_resident_limit"  # a non-resident's movement above a cap
NOT_CASH: Final = "not_cash"  # the instrument is not a cash instrument
TERMS_LOCKED: Final = "terms_locked"  # cash or debt terms: set once, before the first unit
REFERENCE_REQUIRED: Final = "reference_required"  # a cash mint or burn without its reference
REFERENCE_USED: Final = "reference_used"  # the deposit reference minted this cash already
NOT_FUND: Final = "not_fund"  # the instrument is not a fund
NO_DEALING_TERMS: Final = "no_dealing_terms"  # the fund's dealing terms are not set
WRONG_CASH_INSTRUMENT: Final = "wrong_cash_instrument"  # not the fund's dealing currency
BELOW_MINIMUM: Final = "below_minimum"  # a subscription below the fund's minimum
UNKNOWN_ORDER: Final = "unknown_order"  # no queued fund order with that id
PAST_CUTOFF: Final = "past_cutoff"  # cancelling an order at or after its dealing's cut-off
NO_NAV: Final = "no_nav"  # dealing before any NAV was published
ALREADY_DEALT: Final = "already_dealt"  # the latest NAV was dealt at already
DEALING_TOO_SMALL: Final = "dealing_too_small"  # a fill rounds to zero units or zero cash

# --- lifecycle: record dates, distributions, ballots (issue 5, section 5) -------------------
RECORD_NOT_FINAL: Final = "record_not_final"  # read in the block that took the record date
RECORD_CLOSED: Final = "record_closed"  # the record date was closed; its snapshot is gone
UNKNOWN_RECORD: Final = "unknown_record"  # no record date of that name on the instrument
OPEN_RECORDS_LIMIT: Final = "open_records_limit"  # OPEN_RECORDS_MAX record dates open already
NO_HOLDERS: Final = "no_holders"  # nobody held the instrument at the record
WRONG_DISTRIBUTION_KIND: Final = "wrong_distribution_kind"  # e.g. a coupon on a sukuk
UNKNOWN_DISTRIBUTION: Final = "unknown_distribution"
NOTHING_OWED: Final = "nothing_owed"  # no unpaid amount of that distribution to the account
UNKNOWN_BALLOT: Final = "unknown_ballot"
BALLOT_CLOSED: Final = "ballot_closed"  # a vote at or after the close, or a second close
BALLOT_OPEN: Final = "ballot_open"  # closing before the ballot's closing time
ALREADY_VOTED: Final = "already_voted"  # the account voted in this ballot already
NO_UNITS_AT_RECORD: Final = "no_units_at_record"  # the account held nothing at the record
UNKNOWN_OPTION: Final = "unknown_option"  # the option number is not one of the ballot's

# --- bonds and sukuk (issue 5, sections 2 and 3) -----------------------------------------
NO_BOND_TERMS: Final = "no_bond_terms"  # the instrument has no bond or sukuk terms
BOND_REDEEMED: Final = "bond_redeemed"  # redeemed or dissolved already
NOT_CERTIFIED: Final = "not_certified"  # a sukuk without a Shariah certification in force
NOT_DUE: Final = "not_due"  # before the payment, maturity, call or put date
WRONG_PERIOD: Final = "wrong_period"  # not the first unpaid period
RECORD_TOO_EARLY: Final = "record_too_early"  # the record date was taken before its date
NO_FIXING: Final = "no_fixing"  # the oracle has not published the rate fixing needed
PROFIT_NOT_DECLARED: Final = "profit_not_declared"  # musharakah/mudarabah: declare it first
PERIODS_UNPAID: Final = "periods_unpaid"  # redemption before every due period is paid
NOT_AN_OPTION_DATE: Final = "not_an_option_date"  # no call or put on that date in the terms
NO_INCOME: Final = "no_income"  # a zero-coupon instrument has no periodic payments
WRONG_INSTRUMENT_KIND: Final = "wrong_instrument_kind"  # e.g. a sukuk structure on a bond
PARTIAL_TOO_LARGE: Final = "partial_too_large"  # a partial redemption of all the face left
