"""Every bound the core enforces, in one place. Exceeding one is a rejection, never a crash."""

from __future__ import annotations

from typing import Final

# Amounts are integers in an instrument's minor units. The bound keeps every balance, supply
# and sum of two amounts inside a signed 64-bit integer (PostgreSQL BIGINT, most languages).
AMOUNT_MAX: Final = 10**18
DECIMALS_MAX: Final = 18

ENVELOPE_BYTES_MAX: Final = 64 * 1024
NONCE_MAX: Final = 2**63 - 1
TIMESTAMP_MS_MAX: Final = 2**63 - 1

PARTY_ID_CHARS_MAX: Final = 64
ACCOUNT_NAME_CHARS_MAX: Final = 32
INSTRUMENT_CODE_CHARS_MAX: Final = 32
NAME_CHARS_MAX: Final = 200
MEMO_CHARS_MAX: Final = 200
REFERENCE_CHARS_MAX: Final = 200

PARTY_KEYS_MAX: Final = 8
PARTY_ROLES_MAX: Final = 16
BATCH_TRANSFERS_MAX: Final = 256
GENESIS_PARTIES_MAX: Final = 1_000
AGENCIES_MAX: Final = 16

BLOCK_TXS_MAX: Final = 10_000
