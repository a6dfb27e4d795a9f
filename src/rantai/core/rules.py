"""Compliance rules: small pure checks that an instrument applies to every movement.

An instrument's ``Policy`` (at ``policy/<instrument>``) holds its ordered rules, its terms
and its status (paused by the issuer, suspended by governance). Each rule is a tagged record
with its own reason code and a ``check`` that returns ``None`` (pass) or the reason text of
its failure. ``rantai.core.compliance`` runs them in list order: for execution it stops at
the first failure; for a dry run it runs them all. A rule reads state but never writes it,
except in ``record``, which runs after a movement succeeded (rolling windows, approvals).

A rule applies to the movement kinds in its ``applies_to``: ``mint`` (units into an
account), ``transfer`` (account to account), ``burn`` (units out of an account).

**Tracking.** The first time an instrument gets a policy, the policy is *tracked* if the
instrument has no units yet (supply 0); ``credit`` and ``debit`` then keep per-identity
holdings and the holder count (``rantai.core.holdings``) from that moment. Rules that need
those (``needs_tracking``: max_balance, max_holders, min_holding) are refused on an untracked
policy (``needs_tracking``), since the counts could not be correct without a scan.

| tag (code ``rule:<tag>``) | fields | applies to |
|---|---|---|
| ``eligibility`` | topics, kyc_level_min, sender, receiver | mint, transfer |
| ``investor_category`` | allowed | mint, transfer |
| ``residency`` | allow, countries | mint, transfer |
| ``max_balance`` | amount | mint, transfer |
| ``max_holders`` | count | mint, transfer |
| ``min_holding`` | amount | mint, transfer, burn |
| ``lot_size`` | lot | mint, transfer, burn |
| ``lockup`` | until_ms | transfer |
| ``volume_limit`` | amount, period_days | transfer |
| ``supply_cap`` | amount | mint |
| ``shariah`` | (none) | mint, transfer |
| ``retail_limit`` | per_issuer_max, total_max, unit_price_minor, period_days | mint, transfer |
| ``conditional_transfer`` | (none) | transfer |
| ``travel_rule`` | threshold | transfer |
"""

from __future__ import annotations

from typing import ClassVar, Final

import msgspec

from rantai.core import codes, limits
from rantai.core.claims import INVESTOR_CATEGORIES, Claim, check_topic, find_claim
from rantai.core.controls import Suspension
from rantai.core.encoding import encode
from rantai.core.errors import Malformed
from rantai.core.holdings import holder_count, holding
from rantai.core.records import Instrument
from rantai.core.state import StateView, register_namespace
from rantai.core.windows import (
    add_to_window,
    retail_issuer_key,
    retail_key,
    volume_key,
    window_sum,
)
from rantai.crypto.hashing import sha256

__all__ = [
    "DEFAULT_TERMS",
    "AnyRule",
    "ConditionalTransfer",
    "Eligibility",
    "Holder",
    "InvestorCategories",
    "Lockup",
    "LotSize",
    "MaxBalance",
    "MaxHolders",
    "MinHolding",
    "Move",
    "Policy",
    "Residency",
    "RetailLimit",
    "Rule",
    "ShariahOnly",
    "SupplyCap",
    "Terms",
    "TopicIssuers",
    "TravelRule",
    "VolumeLimit",
    "check_policy_form",
    "new_policy",
    "policy_key",
    "transfer_approval_key",
]

MINT, TRANSFER, BURN = "mint", "transfer", "burn"
_IN: Final = frozenset({MINT, TRANSFER})
_ALL: Final = frozenset({MINT, TRANSFER, BURN})
_OUT: Final = frozenset({TRANSFER})


class Move(msgspec.Struct, frozen=True):
    """One movement as the rules see it. Parties are the accounts' owners.

    Not stored and never encoded; a struct rather than a dataclass because it is built for
    every movement, and a frozen dataclass costs ten times as much to build.
    """

    kind: str  # mint | transfer | burn
    instrument: Instrument
    source: str  # account; "" for a mint
    source_party: str
    destination: str  # account; "" for a burn
    destination_party: str
    amount: int
    timestamp_ms: int
    travel: bool = False  # the transaction carries travel-rule data

    @property
    def internal(self) -> bool:
        """Between two accounts of one party: its holding does not change."""
        return self.source_party == self.destination_party


class Holder(msgspec.Struct, frozen=True):
    """A current holder as a what-if check sees it."""

    party: str
    units: int
    instrument: Instrument
    timestamp_ms: int


class TopicIssuers(msgspec.Struct, frozen=True, array_like=True):
    """An instrument's own narrower list of trusted issuers for one claim topic."""

    topic: str
    issuers: tuple[str, ...]


class Terms(msgspec.Struct, frozen=True, array_like=True):
    """What an instrument's issuer declares and governance may change."""

    shariah_certified: bool
    issuer_freeze: bool  # the issuer and its agents may freeze holders of this instrument
    issuers: tuple[TopicIssuers, ...]

    def issuers_for(self, topic: str) -> tuple[str, ...] | None:
        """The instrument's issuers for ``topic``, or None when it does not narrow them."""
        for entry in self.issuers:
            if entry.topic == topic:
                return entry.issuers
        return None

    def check_form(self) -> None:
        if len(self.issuers) > limits.TERMS_TOPICS_MAX:
            raise Malformed(codes.TOO_MANY_ITEMS, "too many topics in terms")
        topics = [e.topic for e in self.issuers]
        if len(set(topics)) != len(topics):
            raise Malformed(codes.BAD_FIELD, "terms: a topic once")
        for entry in self.issuers:
            check_topic(entry.topic)
            _check_items(entry.issuers, "issuers", limits.TRUSTED_ISSUERS_MAX)


DEFAULT_TERMS: Final = Terms(shariah_certified=False, issuer_freeze=False, issuers=())


def _check_items(items: tuple[str, ...], name: str, items_max: int = limits.RULE_ITEMS_MAX) -> None:
    if not 1 <= len(items) <= items_max:
        raise Malformed(codes.TOO_MANY_ITEMS, f"{name}: 1 to {items_max}")
    if len(set(items)) != len(items):
        raise Malformed(codes.BAD_FIELD, f"{name}: each once")


def _check_positive(value: int, name: str) -> None:
    if not 0 < value <= limits.AMOUNT_MAX:
        raise Malformed(codes.BAD_FIELD, f"{name}: 1 to {limits.AMOUNT_MAX}")


def _claim(view: StateView, party: str, topic: str, ts: int, terms: Terms) -> Claim | str:
    return find_claim(view, party, topic, ts, terms.issuers_for(topic))


class Rule(msgspec.Struct, frozen=True, array_like=True, tag=True):
    """A compliance rule. Subclasses set ``tag``, ``code`` and ``applies_to``."""

    code: ClassVar[str] = ""
    applies_to: ClassVar[frozenset[str]] = frozenset()
    needs_tracking: ClassVar[bool] = False

    def check_form(self) -> None:
        """Stateless checks of the parameters (bad_field, too_many_items)."""

    def check(self, view: StateView, move: Move, terms: Terms) -> str | None:
        """None when ``move`` passes; else the reason it fails."""
        return None

    def check_holder(self, view: StateView, holder: Holder, terms: Terms) -> str | None:
        """For a what-if: None when ``holder``'s current holding complies, else why not."""
        return None

    def check_register(self, instrument: Instrument, holders: int) -> str | None:
        """For a what-if: None when the instrument as a whole complies, else why not."""
        return None

    def record(self, view: StateView, move: Move, terms: Terms) -> None:
        """Update the rule's own state after ``move`` succeeded (most rules keep none)."""


class Eligibility(Rule, frozen=True, tag="eligibility"):
    """Sender and/or receiver hold a counting claim on each topic (and a kyc level)."""

    code = codes.RULE_ELIGIBILITY
    applies_to = _IN

    topics: tuple[str, ...]
    kyc_level_min: int  # 0: no level required
    sender: bool  # transfers only: a mint has no sender holder
    receiver: bool

    def check_form(self) -> None:
        if self.topics:
            _check_items(self.topics, "topics")
        for topic in self.topics:
            check_topic(topic)
        if not 0 <= self.kyc_level_min <= 9:
            raise Malformed(codes.BAD_FIELD, "kyc_level_min: 0 to 9")
        if not (self.topics or self.kyc_level_min) or not (self.sender or self.receiver):
            raise Malformed(codes.BAD_FIELD, "eligibility: some claim, for some side")

    def check(self, view: StateView, move: Move, terms: Terms) -> str | None:
        if self.sender and move.kind == TRANSFER:
            problem = self._party(view, move.source_party, move.timestamp_ms, terms)
            if problem is not None:
                return f"sender {problem}"
        if self.receiver:
            problem = self._party(view, move.destination_party, move.timestamp_ms, terms)
            if problem is not None:
                return f"receiver {problem}"
        return None

    def check_holder(self, view: StateView, holder: Holder, terms: Terms) -> str | None:
        return self._party(view, holder.party, holder.timestamp_ms, terms)

    def _party(self, view: StateView, party: str, ts: int, terms: Terms) -> str | None:
        kyc: Claim | str | None = None
        for topic in self.topics:
            found = _claim(view, party, topic, ts, terms)
            if isinstance(found, str):
                return found
            if topic == "kyc":
                kyc = found
        if self.kyc_level_min:
            if kyc is None:
                kyc = _claim(view, party, "kyc", ts, terms)
            if isinstance(kyc, str):
                return kyc
            if int(kyc.value) < self.kyc_level_min:
                return f"{party}: kyc level {kyc.value} below {self.kyc_level_min}"
        return None


class InvestorCategories(Rule, frozen=True, tag="investor_category"):
    """The receiver's counting investor_category claim is one of ``allowed``."""

    code = codes.RULE_INVESTOR_CATEGORY
    applies_to = _IN

    allowed: tuple[str, ...]

    def check_form(self) -> None:
        _check_items(self.allowed, "allowed")
        if any(c not in INVESTOR_CATEGORIES for c in self.allowed):
            raise Malformed(codes.BAD_FIELD, f"allowed: among {INVESTOR_CATEGORIES}")

    def check(self, view: StateView, move: Move, terms: Terms) -> str | None:
        return self._party(view, move.destination_party, move.timestamp_ms, terms)

    def check_holder(self, view: StateView, holder: Holder, terms: Terms) -> str | None:
        return self._party(view, holder.party, holder.timestamp_ms, terms)

    def _party(self, view: StateView, party: str, ts: int, terms: Terms) -> str | None:
        found = _claim(view, party, "investor_category", ts, terms)
        if isinstance(found, str):
            return found
        if found.value not in self.allowed:
            return f"{party}: category {found.value} not allowed"
        return None


class Residency(Rule, frozen=True, tag="residency"):
    """The receiver's residency is in ``countries`` (allow) or not in it (deny).

    An unknown residency (no counting claim) fails either way.
    """

    code = codes.RULE_RESIDENCY
    applies_to = _IN

    allow: bool
    countries: tuple[str, ...]

    def check_form(self) -> None:
        _check_items(self.countries, "countries")
        if any(len(c) != 2 or not c.isascii() or not c.isupper() for c in self.countries):
            raise Malformed(codes.BAD_FIELD, "countries: ISO 3166-1 alpha-2 codes")

    def check(self, view: StateView, move: Move, terms: Terms) -> str | None:
        return self._party(view, move.destination_party, move.timestamp_ms, terms)

    def check_holder(self, view: StateView, holder: Holder, terms: Terms) -> str | None:
        return self._party(view, holder.party, holder.timestamp_ms, terms)

    def _party(self, view: StateView, party: str, ts: int, terms: Terms) -> str | None:
        found = _claim(view, party, "residency", ts, terms)
        if isinstance(found, str):
            return found
        if (found.value in self.countries) != self.allow:
            return f"{party}: residency {found.value} not allowed"
        return None


class MaxBalance(Rule, frozen=True, tag="max_balance"):
    """The receiver's holding across all its accounts stays at most ``amount``."""

    code = codes.RULE_MAX_BALANCE
    applies_to = _IN
    needs_tracking = True

    amount: int

    def check_form(self) -> None:
        _check_positive(self.amount, "amount")

    def check(self, view: StateView, move: Move, terms: Terms) -> str | None:
        if move.internal:
            return None
        after = holding(view, move.instrument.code, move.destination_party) + move.amount
        if after > self.amount:
            return f"{move.destination_party} would hold {after} > {self.amount}"
        return None

    def check_holder(self, view: StateView, holder: Holder, terms: Terms) -> str | None:
        if holder.units > self.amount:
            return f"{holder.party} holds {holder.units} > {self.amount}"
        return None


class MaxHolders(Rule, frozen=True, tag="max_holders"):
    """A new holder is admitted only while the holders stay at most ``count``."""

    code = codes.RULE_MAX_HOLDERS
    applies_to = _IN
    needs_tracking = True

    count: int

    def check_form(self) -> None:
        _check_positive(self.count, "count")

    def check(self, view: StateView, move: Move, terms: Terms) -> str | None:
        code = move.instrument.code
        if move.internal or holding(view, code, move.destination_party) > 0:
            return None
        leaving = bool(move.source_party) and holding(view, code, move.source_party) == move.amount
        after = holder_count(view, code) + 1 - leaving
        if after > self.count:
            return f"{move.destination_party} would be holder {after} of at most {self.count}"
        return None

    def check_register(self, instrument: Instrument, holders: int) -> str | None:
        if holders > self.count:
            return f"{holders} holders > {self.count}"
        return None


class MinHolding(Rule, frozen=True, tag="min_holding"):
    """No movement leaves or makes a holding between zero and ``amount`` (exclusive)."""

    code = codes.RULE_MIN_HOLDING
    applies_to = _ALL
    needs_tracking = True

    amount: int

    def check_form(self) -> None:
        _check_positive(self.amount, "amount")

    def check(self, view: StateView, move: Move, terms: Terms) -> str | None:
        if move.internal:
            return None
        code = move.instrument.code
        if move.source_party:
            left = holding(view, code, move.source_party) - move.amount
            if 0 < left < self.amount:
                return f"{move.source_party} would keep {left} < {self.amount}"
        if move.destination_party:
            after = holding(view, code, move.destination_party) + move.amount
            if after < self.amount:
                return f"{move.destination_party} would hold {after} < {self.amount}"
        return None

    def check_holder(self, view: StateView, holder: Holder, terms: Terms) -> str | None:
        if holder.units < self.amount:
            return f"{holder.party} holds {holder.units} < {self.amount}"
        return None


class LotSize(Rule, frozen=True, tag="lot_size"):
    """Every movement is a whole number of lots."""

    code = codes.RULE_LOT_SIZE
    applies_to = _ALL

    lot: int

    def check_form(self) -> None:
        _check_positive(self.lot, "lot")

    def check(self, view: StateView, move: Move, terms: Terms) -> str | None:
        if move.amount % self.lot:
            return f"{move.amount} is not a multiple of the lot {self.lot}"
        return None


class Lockup(Rule, frozen=True, tag="lockup"):
    """No transfer while block time is before ``until_ms`` (mint and burn are not locked)."""

    code = codes.RULE_LOCKUP
    applies_to = _OUT

    until_ms: int

    def check_form(self) -> None:
        if not 0 < self.until_ms <= limits.TIMESTAMP_MS_MAX:
            raise Malformed(codes.BAD_FIELD, "until_ms: a positive block time")

    def check(self, view: StateView, move: Move, terms: Terms) -> str | None:
        if move.timestamp_ms < self.until_ms:
            return f"locked up until {self.until_ms}"
        return None


class VolumeLimit(Rule, frozen=True, tag="volume_limit"):
    """A sender transfers at most ``amount`` in any rolling ``period_days`` (all its accounts)."""

    code = codes.RULE_VOLUME_LIMIT
    applies_to = _OUT

    amount: int
    period_days: int

    def check_form(self) -> None:
        _check_positive(self.amount, "amount")
        if not 1 <= self.period_days <= limits.WINDOW_DAYS_MAX:
            raise Malformed(codes.BAD_FIELD, f"period_days: 1 to {limits.WINDOW_DAYS_MAX}")

    def check(self, view: StateView, move: Move, terms: Terms) -> str | None:
        key = volume_key(move.instrument.code, move.source_party)
        sent = window_sum(view, key, move.timestamp_ms, self.period_days)
        if sent + move.amount > self.amount:
            return f"{move.source_party} sent {sent}; {move.amount} more exceeds {self.amount}"
        return None

    def record(self, view: StateView, move: Move, terms: Terms) -> None:
        key = volume_key(move.instrument.code, move.source_party)
        add_to_window(view, key, move.timestamp_ms, move.amount)


class SupplyCap(Rule, frozen=True, tag="supply_cap"):
    """Supply stays at most ``amount`` (a cap governance may lower below the instrument's)."""

    code = codes.RULE_SUPPLY_CAP
    applies_to = frozenset({MINT})

    amount: int

    def check_form(self) -> None:
        _check_positive(self.amount, "amount")

    def check(self, view: StateView, move: Move, terms: Terms) -> str | None:
        after = move.instrument.supply + move.amount
        if after > self.amount:
            return f"supply would be {after} > {self.amount}"
        return None

    def check_register(self, instrument: Instrument, holders: int) -> str | None:
        if instrument.supply > self.amount:
            return f"supply {instrument.supply} > {self.amount}"
        return None


class ShariahOnly(Rule, frozen=True, tag="shariah"):
    """A receiver with a counting ``shariah_only`` claim gets only a certified instrument."""

    code = codes.RULE_SHARIAH
    applies_to = _IN

    def check(self, view: StateView, move: Move, terms: Terms) -> str | None:
        return self._party(view, move.destination_party, move.timestamp_ms, terms)

    def check_holder(self, view: StateView, holder: Holder, terms: Terms) -> str | None:
        return self._party(view, holder.party, holder.timestamp_ms, terms)

    def _party(self, view: StateView, party: str, ts: int, terms: Terms) -> str | None:
        if terms.shariah_certified:
            return None
        if isinstance(_claim(view, party, "shariah_only", ts, terms), Claim):
            return f"{party} accepts only Shariah-certified instruments"
        return None


class RetailLimit(Rule, frozen=True, tag="retail_limit"):
    """A retail receiver invests at most ``per_issuer_max`` in one issuer's instruments and
    ``total_max`` in all instruments with this rule, in any rolling ``period_days``.

    Amounts are in the reference currency's minor units (sen): units are valued at
    ``unit_price_minor`` per whole unit, rounded up. A party without a counting
    investor_category claim is treated as retail.
    """

    code = codes.RULE_RETAIL_LIMIT
    applies_to = _IN

    per_issuer_max: int
    total_max: int
    unit_price_minor: int
    period_days: int

    def check_form(self) -> None:
        for value, name in (
            (self.per_issuer_max, "per_issuer_max"),
            (self.total_max, "total_max"),
            (self.unit_price_minor, "unit_price_minor"),
        ):
            _check_positive(value, name)
        if not 1 <= self.period_days <= limits.WINDOW_DAYS_MAX:
            raise Malformed(codes.BAD_FIELD, f"period_days: 1 to {limits.WINDOW_DAYS_MAX}")

    def _value(self, move: Move) -> int:
        scale: int = 10**move.instrument.decimals
        return -(-move.amount * self.unit_price_minor // scale)

    def _applies(self, view: StateView, move: Move, terms: Terms) -> bool:
        if move.internal:
            return False
        found = _claim(view, move.destination_party, "investor_category", move.timestamp_ms, terms)
        return isinstance(found, str) or found.value == "retail"

    def check(self, view: StateView, move: Move, terms: Terms) -> str | None:
        if not self._applies(view, move, terms):
            return None
        party, issuer, ts = move.destination_party, move.instrument.issuer, move.timestamp_ms
        value = self._value(move)
        per_issuer = window_sum(view, retail_issuer_key(party, issuer), ts, self.period_days)
        if per_issuer + value > self.per_issuer_max:
            return f"{party}: {per_issuer} + {value} in {issuer} > {self.per_issuer_max}"
        total = window_sum(view, retail_key(party), ts, self.period_days)
        if total + value > self.total_max:
            return f"{party}: {total} + {value} in total > {self.total_max}"
        return None

    def record(self, view: StateView, move: Move, terms: Terms) -> None:
        if not self._applies(view, move, terms):
            return
        party, value = move.destination_party, self._value(move)
        add_to_window(
            view, retail_issuer_key(party, move.instrument.issuer), move.timestamp_ms, value
        )
        add_to_window(view, retail_key(party), move.timestamp_ms, value)


def transfer_approval_key(instrument: str, source: str, destination: str, amount: int) -> str:
    """Where an agent's pre-approval of one transfer is counted."""
    digest = sha256(encode((source, destination, instrument, amount)))
    return f"preapproval/{instrument}/{digest.hex()}"


class ConditionalTransfer(Rule, frozen=True, tag="conditional_transfer"):
    """Each transfer needs an agent's pre-approval of exactly it; the transfer uses it up."""

    code = codes.RULE_CONDITIONAL
    applies_to = _OUT

    def _key(self, move: Move) -> str:
        return transfer_approval_key(
            move.instrument.code, move.source, move.destination, move.amount
        )

    def check(self, view: StateView, move: Move, terms: Terms) -> str | None:
        if not view.get(self._key(move)):
            return "no approval of this transfer by the issuer or its agents"
        return None

    def record(self, view: StateView, move: Move, terms: Terms) -> None:
        key = self._key(move)
        left: int = view.get(key) - 1
        if left:
            view.put(key, left)
        else:
            view.delete(key)


class TravelRule(Rule, frozen=True, tag="travel_rule"):
    """A transfer of ``threshold`` units or more carries travel-rule data (FATF R.16)."""

    code = codes.RULE_TRAVEL
    applies_to = _OUT

    threshold: int

    def check_form(self) -> None:
        _check_positive(self.threshold, "threshold")

    def check(self, view: StateView, move: Move, terms: Terms) -> str | None:
        if move.amount >= self.threshold and not move.travel:
            return f"{move.amount} >= {self.threshold} needs travel-rule data"
        return None


AnyRule = (
    Eligibility
    | InvestorCategories
    | Residency
    | MaxBalance
    | MaxHolders
    | MinHolding
    | LotSize
    | Lockup
    | VolumeLimit
    | SupplyCap
    | ShariahOnly
    | RetailLimit
    | ConditionalTransfer
    | TravelRule
)


class Policy(msgspec.Struct, frozen=True, array_like=True):
    """An instrument's rules, terms and status."""

    rules: tuple[AnyRule, ...]
    terms: Terms
    tracked: bool  # created at supply 0: holdings and holder counts are kept
    paused: bool  # by the issuer or an agent: transfers stop, mint and burn go on
    suspension: Suspension | None  # by governance: every movement stops


def policy_key(instrument: str) -> str:
    return f"policy/{instrument}"


def new_policy(instrument: Instrument) -> Policy:
    """The policy an instrument gets when it first needs one: no rules, tracked if unminted."""
    return Policy((), DEFAULT_TERMS, instrument.supply == 0, False, None)


def check_policy_form(rules: tuple[AnyRule, ...], terms: Terms) -> None:
    """Stateless checks of a rule list and terms. Raises Malformed."""
    if len(rules) > limits.RULES_MAX:
        raise Malformed(codes.TOO_MANY_ITEMS, f"at most {limits.RULES_MAX} rules")
    for rule in rules:
        rule.check_form()
    terms.check_form()


register_namespace("policy", Policy)
register_namespace("preapproval", int)
