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

# --- claims, rules, enforcement, governance (the compliance issue) --------------------------
DAY_MS: Final = 86_400_000  # rolling windows count whole UTC days of block time

CLAIM_TOPIC_CHARS_MAX: Final = 32
CLAIM_VALUE_CHARS_MAX: Final = 64
TRUSTED_ISSUERS_MAX: Final = 16  # per claim topic, and per topic in an instrument's terms
TERMS_TOPICS_MAX: Final = 16

RULES_MAX: Final = 16  # rules per instrument
RULE_ITEMS_MAX: Final = 64  # topics, categories or countries in one rule
WINDOW_DAYS_MAX: Final = 366  # the longest rolling window; older day buckets are pruned

FREEZES_PER_PARTY_MAX: Final = 32  # freezes in force on one party and its accounts
AGENTS_MAX: Final = 16  # agents per issuer
TRANSFER_APPROVALS_MAX: Final = 1_000  # pending approvals of one conditional transfer

PROPOSAL_TTL_MS_MAX: Final = 90 * DAY_MS  # a proposal expires at most this long after it
NOTE_CHARS_MAX: Final = 500  # free text on proposals, approvals and vetoes

TRAVEL_READERS_MAX: Final = AGENCIES_MAX + 8
TRAVEL_CIPHERTEXT_BYTES_MAX: Final = 4 * 1024

CREDENTIAL_CHARS_MAX: Final = 8 * 1024  # a W3C VC as a compact JWS
CREDENTIAL_CLAIMS_MAX: Final = 8  # topics in one credential

# --- settlement (issue 5, section 6) --------------------------------------------------------
SETTLEMENT_LEGS_MAX: Final = 64  # legs in one settlement instruction
SETTLEMENT_TTL_MS_MAX: Final = 90 * DAY_MS  # an instruction's deadline at most this far ahead
EARMARKS_MAX: Final = 256  # instructions earmarking units of one instrument in one account
CYCLE_INSTRUCTIONS_MAX: Final = 256  # instructions queued for one settlement cycle
CYCLE_ID_CHARS_MAX: Final = 32
BOOK_ORDERS_MAX: Final = 256  # orders in one book-building book (one per account)

# --- dates, calendars and coupon schedules (docs/decisions/day-counts.md) -------------------
CALENDAR_NAME_CHARS_MAX: Final = 32
CALENDAR_HOLIDAYS_MAX: Final = 2_000  # listed holidays in one business-day calendar
SCHEDULE_PERIODS_MAX: Final = 1_200  # coupon periods in one schedule (100 years monthly)
RECORD_DAYS_MAX: Final = 30  # business days between a record date and its payment date

# --- lifecycle (issue 5, section 5) ---------------------------------------------------------
OPEN_RECORDS_MAX: Final = 8  # open record dates per instrument; each costs a read per write
PURPOSE_CHARS_MAX: Final = 200
BALLOT_OPTIONS_MAX: Final = 16
BALLOT_TTL_MS_MAX: Final = 366 * DAY_MS  # a ballot closes at most a year after it opens

# --- fund units (issue 5, part 4) -----------------------------------------------------------
FUND_ORDERS_MAX: Final = 256  # queued subscriptions and redemptions of one fund
GATE_BPS_MAX: Final = 10_000  # a redemption gate of 100% of units outstanding: no gate
OPTION_DATES_MAX: Final = 64  # call and put dates of one bond or sukuk
