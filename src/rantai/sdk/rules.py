"""Builders of compliance rules, one per rule kind, for ``set_rules`` and
``actions.change_rules``.

```python
from rantai import sdk
from rantai.sdk import rules

sdk.set_rules("SUKUK1", [
    rules.eligibility(["kyc", "sanctions_screened"], kyc_level_min=2),
    rules.investor_category(["sophisticated", "institutional"]),
    rules.max_holders(50),
    rules.travel_rule(threshold=1_000),
], sdk.terms(shariah_certified=True))
```

Each function is named after its rule's tag and takes the rule's fields in order
(docs/encoding.md, the rule table; what each rule checks is in ``rantai.core.rules``). Each
runs the rule's stateless checks and raises ``InvalidTransaction`` with the node's code. Amounts
are in the instrument's minor units; times are block times in milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable

from rantai.core.rules import (
    AnyRule,
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
    TravelRule,
    VolumeLimit,
)
from rantai.sdk._checks import check_record

__all__ = [
    "AnyRule",
    "conditional_transfer",
    "eligibility",
    "investor_category",
    "lockup",
    "lot_size",
    "max_balance",
    "max_holders",
    "min_holding",
    "residency",
    "retail_limit",
    "shariah",
    "supply_cap",
    "travel_rule",
    "volume_limit",
]


def eligibility(
    topics: Iterable[str] = (),
    kyc_level_min: int = 0,
    sender: bool = True,
    receiver: bool = True,
) -> Eligibility:
    """The parties hold a counting claim on each of ``topics`` and, if ``kyc_level_min`` is
    not 0, a ``kyc`` claim of at least that level. ``sender`` and ``receiver`` say whose
    claims are checked (both by default; a mint has no sender)."""
    return check_record(Eligibility(tuple(topics), kyc_level_min, sender, receiver))


def investor_category(allowed: Iterable[str]) -> InvestorCategories:
    """The receiver's ``investor_category`` claim is one of ``allowed`` (``retail``,
    ``sophisticated``, ``accredited``, ``institutional``)."""
    return check_record(InvestorCategories(tuple(allowed)))


def residency(allow: bool, countries: Iterable[str]) -> Residency:
    """The receiver resides in one of ``countries`` (``allow``) or in none of them (not
    ``allow``); ISO 3166-1 alpha-2 codes. An unknown residency fails either way."""
    return check_record(Residency(allow, tuple(countries)))


def max_balance(amount: int) -> MaxBalance:
    """A holder's units across all its accounts stay at most ``amount``."""
    return check_record(MaxBalance(amount))


def max_holders(count: int) -> MaxHolders:
    """At most ``count`` holders."""
    return check_record(MaxHolders(count))


def min_holding(amount: int) -> MinHolding:
    """No holding between zero and ``amount`` (exclusive) after any movement."""
    return check_record(MinHolding(amount))


def lot_size(lot: int) -> LotSize:
    """Every movement is a whole number of ``lot``s."""
    return check_record(LotSize(lot))


def lockup(until_ms: int) -> Lockup:
    """No transfer before block time ``until_ms`` (mint and burn are not locked)."""
    return check_record(Lockup(until_ms))


def volume_limit(amount: int, period_days: int) -> VolumeLimit:
    """A sender transfers at most ``amount`` in any rolling ``period_days``."""
    return check_record(VolumeLimit(amount, period_days))


def supply_cap(amount: int) -> SupplyCap:
    """Supply stays at most ``amount`` (below the instrument's own cap, if lower)."""
    return check_record(SupplyCap(amount))


def shariah() -> ShariahOnly:
    """A receiver with a ``shariah_only`` claim gets units only if the terms say the
    instrument is Shariah-certified."""
    return check_record(ShariahOnly())


def retail_limit(
    per_issuer_max: int, total_max: int, unit_price_minor: int, period_days: int
) -> RetailLimit:
    """A retail receiver invests at most ``per_issuer_max`` in one issuer and ``total_max``
    in all instruments with this rule, in any rolling ``period_days``; amounts in the
    reference currency's minor units, units valued at ``unit_price_minor`` each."""
    return check_record(RetailLimit(per_issuer_max, total_max, unit_price_minor, period_days))


def conditional_transfer() -> ConditionalTransfer:
    """Each transfer needs the issuer's or its agent's pre-approval (``approve_transfer``)."""
    return check_record(ConditionalTransfer())


def travel_rule(threshold: int) -> TravelRule:
    """A transfer of ``threshold`` units or more must be a ``travel_transfer``."""
    return check_record(TravelRule(threshold))
