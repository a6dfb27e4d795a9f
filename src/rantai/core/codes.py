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
