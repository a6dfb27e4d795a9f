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
