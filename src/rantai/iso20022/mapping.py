"""How identifiers in ISO 20022 messages map to ledger ids, in both directions.

A message names a security by ISIN (or a proprietary id), money by currency code, and
accounts by the ids the market uses; the ledger names instruments by code and accounts as
``<party>:<name>``. ``IsoMapping`` holds the pairs, and defaults that need no pair:

| message | ledger | default without a pair |
|---|---|---|
| ``FinInstrmId/ISIN`` | instrument code | none: an ISIN must be mapped |
| ``FinInstrmId/OthrId/Id`` with ``Tp/Prtry`` = ``RANTAI`` | instrument code | the id is the code |
| ``Amt/@Ccy`` | cash instrument code | none: a currency must be mapped |
| ``SfkpgAcct/Id``, ``CshAcct/Prtry``, ``DbtrAcct``, ``CdtrAcct`` | account id | the id itself |

``decimals`` gives each instrument's decimals, needed to turn decimal text into minor units
(the API reads them from the ledger; an SDK caller passes them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from rantai.core import codes
from rantai.core.errors import Malformed
from rantai.core.ids import check_account_id, check_instrument_code
from rantai.iso20022.errors import Iso20022Error

__all__ = ["PROPRIETARY_SCHEME", "IsoMapping"]

PROPRIETARY_SCHEME: Final = "RANTAI"  # OthrId/Tp/Prtry naming a ledger instrument code


def _inverse(pairs: Mapping[str, str], what: str) -> dict[str, str]:
    inverse: dict[str, str] = {}
    for outside, inside in sorted(pairs.items()):
        if inside in inverse:
            raise ValueError(f"{what}: {inside!r} is mapped from two ids")
        inverse[inside] = outside
    return inverse


@dataclass(frozen=True, slots=True)
class IsoMapping:
    """Identifier pairs (message id -> ledger id) and instrument decimals.

    ``instruments``: ISIN or proprietary id -> instrument code; ``currencies``: ISO 4217
    code -> cash instrument code; ``accounts``: account id in messages -> ledger account id;
    ``decimals``: instrument code -> decimals. Each direction must be one to one.
    """

    instruments: Mapping[str, str] = field(default_factory=dict)
    currencies: Mapping[str, str] = field(default_factory=dict)
    accounts: Mapping[str, str] = field(default_factory=dict)
    decimals: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _inverse(self.instruments, "instruments")
        _inverse(self.currencies, "currencies")
        _inverse(self.accounts, "accounts")

    # --- message -> ledger -----------------------------------------------------------------

    def instrument_of(self, identifier: str, proprietary: bool, element: str) -> str:
        """The instrument code an ISIN (or a ``RANTAI`` proprietary id) names.

        Raises Iso20022Error(bad_field) when it maps to nothing.
        """
        code = self.instruments.get(identifier)
        if code is None and proprietary:
            code = identifier
        if code is None:
            raise Iso20022Error(codes.BAD_FIELD, element, f"no instrument mapped for {identifier}")
        return _checked_code(code, element)

    def cash_of(self, currency: str, element: str) -> str:
        """The cash instrument of ``currency``. Raises Iso20022Error(bad_field)."""
        code = self.currencies.get(currency)
        if code is None:
            raise Iso20022Error(codes.BAD_FIELD, element, f"no cash instrument for {currency}")
        return _checked_code(code, element)

    def account_of(self, identifier: str, element: str) -> str:
        """The ledger account a message's account id names (itself unless mapped).

        Raises Iso20022Error(bad_field) when the result is not an account id.
        """
        account = self.accounts.get(identifier, identifier)
        try:
            check_account_id(account, element)
        except Malformed:
            raise Iso20022Error(
                codes.BAD_FIELD, element, f"{identifier!r} is not a mapped or ledger account id"
            ) from None
        return account

    def decimals_of(self, code: str, element: str) -> int:
        """The decimals of instrument ``code``. Raises Iso20022Error(bad_field)."""
        decimals = self.decimals.get(code)
        if decimals is None:
            raise Iso20022Error(codes.BAD_FIELD, element, f"decimals of {code} not known")
        return decimals

    # --- ledger -> message -----------------------------------------------------------------

    def isin_of(self, code: str) -> str | None:
        """The id mapped to instrument ``code`` (an ISIN or proprietary id), if any."""
        return _inverse(self.instruments, "instruments").get(code)

    def currency_of(self, code: str, element: str) -> str:
        """The currency of cash instrument ``code``. Raises Iso20022Error(bad_field)."""
        currency = _inverse(self.currencies, "currencies").get(code)
        if currency is None:
            raise Iso20022Error(codes.BAD_FIELD, element, f"no currency mapped for {code}")
        return currency

    def account_id_of(self, account: str, element: str, chars_max: int) -> str:
        """The message id of ledger ``account`` (itself unless mapped), at most ``chars_max``
        characters. Raises Iso20022Error(bad_field) when it does not fit."""
        identifier = _inverse(self.accounts, "accounts").get(account, account)
        if len(identifier) > chars_max:
            raise Iso20022Error(
                codes.BAD_FIELD, element, f"{account} is over {chars_max} characters: map it"
            )
        return identifier


def _checked_code(code: str, element: str) -> str:
    try:
        check_instrument_code(code, element)
    except Malformed:
        message = f"{code!r} is not an instrument code"
        raise Iso20022Error(codes.BAD_FIELD, element, message) from None
    return code
