"""Import a sese.023 (SecuritiesSettlementTransactionInstruction) DvP as a settlement proposal.

A sese.023 is one side's instruction: "deliver (``DELI``) or receive (``RECE``) this quantity
of this security against (``APMT``) this amount of cash". It becomes a two-leg
``ProposeSettlement`` (``rantai.core.kinds.settlement``), securities leg first:

| ``SctiesMvmntTp`` | securities leg | cash leg |
|---|---|---|
| ``DELI`` | own ``SfkpgAcct`` -> ``RcvgSttlmPties/Pty1/SfkpgAcct`` | other -> own ``CshAcct`` |
| ``RECE`` | ``DlvrgSttlmPties/Pty1/SfkpgAcct`` -> own ``SfkpgAcct`` | own ``CshAcct`` -> other |

The own cash account defaults to the own safekeeping account, the counterparty's cash
account is its safekeeping account (a ledger account holds every instrument). The deadline is
the end (00:00 UTC of the next day) of the intended settlement date ``TradDtls/SttlmDt``.

Refusals, in order (``Iso20022Error``, naming the element): the checks of
``rantai.iso20022.schemas`` (too_large, malformed), then malformed for what the schema cannot
say (no security id, no counterparty for the direction, the cash direction contradicting the
securities direction), then bad_field for ids the mapping cannot resolve (security, currency,
accounts, decimals) and bad_amount for quantities and amounts (zero, too precise, too large),
in document order, and last the body's own form checks (``check_form``).
"""

from __future__ import annotations

from datetime import date
from typing import Final

from lxml import etree

from rantai.core import codes
from rantai.core.errors import Malformed
from rantai.core.kinds.settlement import ProposeSettlement
from rantai.core.settlement import Leg
from rantai.iso20022.amounts import minor_from_text
from rantai.iso20022.errors import Iso20022Error
from rantai.iso20022.mapping import PROPRIETARY_SCHEME, IsoMapping
from rantai.iso20022.schemas import SESE023, namespace, parse_document

__all__ = ["deadline_of", "import_sese023"]

DAY_MS: Final = 86_400_000
_EPOCH: Final = date(1970, 1, 1)
_ROOT: Final = "SctiesSttlmTxInstr"
_CASH_DIRECTION: Final = {"DELI": "CRDT", "RECE": "DBIT"}  # the instructing side's cash


class _Reader:
    """Finds elements by paths of local names in the sese.023 namespace."""

    def __init__(self, message: etree._Element) -> None:
        self.message = message
        self.ns = {"m": namespace(SESE023)}

    def find(self, path: str) -> etree._Element | None:
        steps = "/".join(f"m:{step}" for step in path.split("/"))
        return self.message.find(steps, self.ns)

    def text(self, path: str) -> str | None:
        found = self.find(path)
        return None if found is None or found.text is None else found.text.strip()

    def require(self, path: str, why: str) -> str:
        value = self.text(path)
        if value is None:
            raise Iso20022Error(codes.MALFORMED, f"{_ROOT}/{path}", f"missing: {why}")
        return value


def deadline_of(settlement_date: date) -> int:
    """Block time (ms since the epoch, UTC) at the end of ``settlement_date``."""
    return ((settlement_date - _EPOCH).days + 1) * DAY_MS


def import_sese023(raw: bytes, mapping: IsoMapping, cycle: str = "") -> ProposeSettlement:
    """The settlement proposal a sese.023.001.11 DvP instruction describes.

    Parameters:
        raw: the XML document, as bytes.
        mapping: how the message's identifiers map to ledger ids (``IsoMapping``).
        cycle: the settlement cycle to queue the instruction for; empty for gross.

    Raises Iso20022Error in the order of the module docstring.
    """
    reader = _Reader(parse_document(raw, SESE023)[0])
    movement = reader.require("SttlmTpAndAddtlParams/SctiesMvmntTp", "movement type")
    security = _security_of(reader, mapping)
    counterparty_path = "RcvgSttlmPties" if movement == "DELI" else "DlvrgSttlmPties"
    counterparty_id = reader.require(
        f"{counterparty_path}/Pty1/SfkpgAcct/Id", f"a {movement} instruction names the other side"
    )
    direction = reader.require("SttlmAmt/CdtDbtInd", "cash direction")
    if direction != _CASH_DIRECTION[movement]:
        raise Iso20022Error(
            codes.MALFORMED,
            f"{_ROOT}/SttlmAmt/CdtDbtInd",
            f"{movement} against payment must be {_CASH_DIRECTION[movement]}, not {direction}",
        )
    unit_path = "QtyAndAcctDtls/SttlmQty/Qty/Unit"
    quantity = minor_from_text(
        reader.require(unit_path, "quantity"),
        mapping.decimals_of(security, f"{_ROOT}/FinInstrmId"),
        f"{_ROOT}/{unit_path}",
    )
    own_id = reader.require("QtyAndAcctDtls/SfkpgAcct/Id", "own safekeeping account")
    own = mapping.account_of(own_id, f"{_ROOT}/QtyAndAcctDtls/SfkpgAcct/Id")
    own_cash_id = reader.text("QtyAndAcctDtls/CshAcct/Prtry")
    own_cash = (
        own
        if own_cash_id is None
        else mapping.account_of(own_cash_id, f"{_ROOT}/QtyAndAcctDtls/CshAcct/Prtry")
    )
    other = mapping.account_of(counterparty_id, f"{_ROOT}/{counterparty_path}/Pty1/SfkpgAcct/Id")
    cash, amount = _cash_of(reader, mapping)
    if movement == "DELI":
        legs = (Leg(own, other, security, quantity), Leg(other, own_cash, cash, amount))
    else:
        legs = (Leg(other, own, security, quantity), Leg(own_cash, other, cash, amount))
    settlement_date = _date_of(reader.require("TradDtls/SttlmDt/Dt/Dt", "settlement date"))
    body = ProposeSettlement(legs=legs, deadline_ms=deadline_of(settlement_date), cycle=cycle)
    try:
        body.check_form()
    except Malformed as exc:
        raise Iso20022Error(exc.code, _ROOT, str(exc)) from None
    return body


def _date_of(text: str) -> date:
    """The calendar date of an ``xs:date`` (its time zone, if any, is dropped)."""
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise Iso20022Error(
            codes.MALFORMED, f"{_ROOT}/TradDtls/SttlmDt/Dt/Dt", f"not a date: {text[:40]!r}"
        ) from None


def _security_of(reader: _Reader, mapping: IsoMapping) -> str:
    """The instrument code of ``FinInstrmId``: its ISIN, else its proprietary id."""
    isin = reader.text("FinInstrmId/ISIN")
    if isin is not None:
        return mapping.instrument_of(isin, False, f"{_ROOT}/FinInstrmId/ISIN")
    other = reader.text("FinInstrmId/OthrId/Id")
    if other is None:
        raise Iso20022Error(codes.MALFORMED, f"{_ROOT}/FinInstrmId", "missing: ISIN or OthrId")
    scheme = reader.text("FinInstrmId/OthrId/Tp/Prtry")
    return mapping.instrument_of(
        other, scheme == PROPRIETARY_SCHEME, f"{_ROOT}/FinInstrmId/OthrId/Id"
    )


def _cash_of(reader: _Reader, mapping: IsoMapping) -> tuple[str, int]:
    """The cash instrument and amount in minor units of ``SttlmAmt/Amt``."""
    element = reader.find("SttlmAmt/Amt")
    where = f"{_ROOT}/SttlmAmt/Amt"
    if element is None or element.text is None:
        raise Iso20022Error(codes.MALFORMED, where, "missing: settlement amount")
    cash = mapping.cash_of(str(element.get("Ccy")), where)
    amount = minor_from_text(element.text, mapping.decimals_of(cash, where), where)
    return cash, amount
