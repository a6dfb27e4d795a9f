"""Export a settled DvP instruction as sese.025 (its confirmation) and pacs.009 (its cash leg).

Only a settled instruction of two legs is exported, one leg moving a non-cash instrument
(the securities leg) and one a cash instrument (the cash leg) the other way, between the
same two parties: a DvP. The documents are built from the ledger's record alone and are the
same bytes every time (the creation time written is the settlement block's time, not the
wall clock), and each is validated against the shipped schema before it is returned.

| element | from |
|---|---|
| ``AcctSvcrTxId``, ``MsgId``, ``InstrId``, ``EndToEndId`` | the id's first 32 hex digits |
| ``SttlmInstrPrcgAddtlDtls``, ``RmtInf/Ustrd`` | ``Rantai instruction <full id>`` |
| ``FctvSttlmDt``, ``IntrBkSttlmDt``, ``CreDtTm`` | the settling block's time (UTC) |
| ``FinInstrmId`` | the ISIN mapped to the security, else ``OthrId`` (code, ``RANTAI``) |
| ``SttldQty/Qty/Unit``, ``SttldAmt``, ``IntrBkSttlmAmt`` | the legs' amounts as decimal text |
| accounts and parties | ledger ids, or the ids mapped to them (``IsoMapping``) |

Refusals (``Iso20022Error``): instruction_closed (not settled), not_dvp (not such a DvP),
bad_field when a currency is not mapped for the cash instrument or an id does not fit its
element (35 characters; map long account ids), bad_amount when an amount cannot be written
exactly (a cash instrument with more than 5 decimals).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from lxml import etree

from rantai.core import codes
from rantai.core.ids import account_owner
from rantai.core.records import Instrument
from rantai.core.settlement import SETTLED, Instruction, Leg
from rantai.iso20022.amounts import text_from_minor
from rantai.iso20022.errors import NOT_DVP, Iso20022Error
from rantai.iso20022.mapping import PROPRIETARY_SCHEME, IsoMapping
from rantai.iso20022.schemas import PACS009, SESE025, check_document, namespace

__all__ = ["DvP", "dvp_of", "export_pacs009", "export_sese025"]

CASH_KIND: Final = "cash"
CASH_DECIMALS_MAX: Final = 5  # ActiveCurrencyAndAmount has at most 5 fraction digits
REFERENCE_CHARS: Final = 32  # of the 64 hex digits of an instruction id; Max35Text fits 35
_ISIN: Final = re.compile(r"[A-Z]{2}[A-Z0-9]{9}[0-9]")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class DvP:
    """A settled instruction read as delivery versus payment."""

    instruction: Instruction
    securities: Leg
    cash: Leg
    security: Instrument
    money: Instrument
    settled_ms: int  # time of the block that settled it


def dvp_of(instruction: Instruction, instruments: dict[str, Instrument], settled_ms: int) -> DvP:
    """``instruction`` as a DvP; ``instruments`` holds the legs' instruments by code.

    Raises Iso20022Error: instruction_closed (not settled), not_dvp.
    """
    if instruction.state != SETTLED:
        raise Iso20022Error(codes.INSTRUCTION_CLOSED, "instruction", f"is {instruction.state}")
    legs = instruction.legs
    kinds = [instruments[leg.instrument].kind == CASH_KIND for leg in legs]
    if len(legs) != 2 or sorted(kinds) != [False, True]:
        raise Iso20022Error(NOT_DVP, "legs", "not one securities leg and one cash leg")
    securities, cash = (legs[1], legs[0]) if kinds[0] else (legs[0], legs[1])
    if (account_owner(securities.source), account_owner(securities.destination)) != (
        account_owner(cash.destination),
        account_owner(cash.source),
    ):
        raise Iso20022Error(NOT_DVP, "legs", "the cash leg does not pay the deliverer")
    return DvP(
        instruction,
        securities,
        cash,
        instruments[securities.instrument],
        instruments[cash.instrument],
        settled_ms,
    )


class _Builder:
    """Elements in one message's namespace."""

    def __init__(self, message: str) -> None:
        self.ns = namespace(message)

    def root(self) -> etree._Element:
        return etree.Element(etree.QName(self.ns, "Document").text, nsmap={None: self.ns})  # type: ignore[dict-item]

    def sub(
        self, parent: etree._Element, path: str, text: str | None = None, **attrs: str
    ) -> etree._Element:
        """Append the chain of elements ``path`` (``A/B/C``) under ``parent``; the last one
        gets ``text`` and ``attrs``."""
        element = parent
        for step in path.split("/"):
            element = etree.SubElement(element, etree.QName(self.ns, step).text)
        element.text = text
        for name, value in attrs.items():
            element.set(name, value)
        return element


def _date_time(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def _reference(dvp: DvP) -> str:
    return dvp.instruction.id[:REFERENCE_CHARS]


def _fits(value: str, element: str, chars_max: int = 35) -> str:
    if len(value) > chars_max:
        raise Iso20022Error(codes.BAD_FIELD, element, f"{value!r} is over {chars_max} characters")
    return value


def _money(dvp: DvP, mapping: IsoMapping, element: str) -> tuple[str, str]:
    """(currency, decimal text) of the cash leg."""
    if dvp.money.decimals > CASH_DECIMALS_MAX:
        raise Iso20022Error(
            codes.BAD_AMOUNT, element, f"{dvp.money.code} has over {CASH_DECIMALS_MAX} decimals"
        )
    currency = mapping.currency_of(dvp.money.code, element)
    return currency, text_from_minor(dvp.cash.amount, dvp.money.decimals)


def _finish(root: etree._Element, message: str) -> bytes:
    try:
        check_document(root, message)
    except Iso20022Error as exc:
        raise Iso20022Error(codes.BAD_FIELD, exc.element, exc.reason) from None
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def export_sese025(dvp: DvP, mapping: IsoMapping, side: str = "DELI") -> bytes:
    """The sese.025.001.11 confirmation of ``dvp`` for the deliverer (``side`` ``DELI``) or
    the receiver (``RECE``) of the securities, validated. Raises Iso20022Error."""
    if side not in ("DELI", "RECE"):
        raise ValueError("side: DELI or RECE")
    m = _Builder(SESE025)
    root = m.root()
    conf = m.sub(root, "SctiesSttlmTxConf")
    ids = m.sub(conf, "TxIdDtls")
    m.sub(ids, "AcctOwnrTxId", "NONREF")  # the owner's own reference is not on the ledger
    m.sub(ids, "AcctSvcrTxId", _reference(dvp))
    m.sub(ids, "SctiesMvmntTp", side)
    m.sub(ids, "Pmt", "APMT")
    trade = m.sub(conf, "TradDtls")
    m.sub(trade, "FctvSttlmDt/Dt/Dt", _date_time(dvp.settled_ms).date().isoformat())
    m.sub(trade, "SttlmInstrPrcgAddtlDtls", f"Rantai instruction {dvp.instruction.id}")
    _security_id(m, m.sub(conf, "FinInstrmId"), dvp, mapping)
    leg = dvp.securities
    own, other = (leg.source, leg.destination) if side == "DELI" else (leg.destination, leg.source)
    own_cash = dvp.cash.destination if side == "DELI" else dvp.cash.source
    quantity = m.sub(conf, "QtyAndAcctDtls")
    m.sub(quantity, "SttldQty/Qty/Unit", text_from_minor(leg.amount, dvp.security.decimals))
    m.sub(quantity, "SfkpgAcct/Id", mapping.account_id_of(own, "SfkpgAcct/Id", 35))
    m.sub(quantity, "CshAcct/Prtry", mapping.account_id_of(own_cash, "CshAcct/Prtry", 34))
    m.sub(conf, "SttlmParams/SctiesTxTp/Cd", "TRAD")
    parties = m.sub(conf, "RcvgSttlmPties" if side == "DELI" else "DlvrgSttlmPties")
    party = m.sub(parties, "Pty1")
    proprietary = m.sub(party, "Id/PrtryId")
    m.sub(proprietary, "Id", _fits(account_owner(other), "Pty1/Id/PrtryId/Id"))
    m.sub(proprietary, "Issr", PROPRIETARY_SCHEME)
    m.sub(party, "SfkpgAcct/Id", mapping.account_id_of(other, "Pty1/SfkpgAcct/Id", 35))
    currency, amount = _money(dvp, mapping, "SttldAmt/Amt")
    settled = m.sub(conf, "SttldAmt")
    m.sub(settled, "Amt", amount, Ccy=currency)
    m.sub(settled, "CdtDbtInd", "CRDT" if side == "DELI" else "DBIT")
    return _finish(root, SESE025)


def _security_id(m: _Builder, parent: etree._Element, dvp: DvP, mapping: IsoMapping) -> None:
    mapped = mapping.isin_of(dvp.security.code)
    if mapped is not None and _ISIN.fullmatch(mapped):
        m.sub(parent, "ISIN", mapped)
        return
    other = m.sub(parent, "OthrId")
    m.sub(other, "Id", _fits(dvp.security.code, "FinInstrmId/OthrId/Id"))
    m.sub(other, "Tp/Prtry", PROPRIETARY_SCHEME)


def export_pacs009(dvp: DvP, mapping: IsoMapping) -> bytes:
    """The pacs.009.001.11 credit transfer of ``dvp``'s cash leg, validated: debtor the
    payer of the cash, creditor the deliverer of the securities. Raises Iso20022Error."""
    m = _Builder(PACS009)
    root = m.root()
    transfer = m.sub(root, "FICdtTrf")
    header = m.sub(transfer, "GrpHdr")
    settled_at = _date_time(dvp.settled_ms)
    m.sub(header, "MsgId", _reference(dvp))
    m.sub(header, "CreDtTm", settled_at.strftime("%Y-%m-%dT%H:%M:%S.") + _millis(settled_at))
    m.sub(header, "NbOfTxs", "1")
    m.sub(header, "SttlmInf/SttlmMtd", "CLRG")
    tx = m.sub(transfer, "CdtTrfTxInf")
    payment = m.sub(tx, "PmtId")
    m.sub(payment, "InstrId", _reference(dvp))
    m.sub(payment, "EndToEndId", _reference(dvp))
    currency, amount = _money(dvp, mapping, "IntrBkSttlmAmt")
    m.sub(tx, "IntrBkSttlmAmt", amount, Ccy=currency)
    m.sub(tx, "IntrBkSttlmDt", settled_at.date().isoformat())
    cash = dvp.cash
    for role, account in (("Dbtr", cash.source), ("Cdtr", cash.destination)):
        agent = m.sub(tx, f"{role}/FinInstnId/Othr")
        m.sub(agent, "Id", _fits(account_owner(account), f"{role}/FinInstnId/Othr/Id"))
        m.sub(agent, "Issr", PROPRIETARY_SCHEME)
        other = m.sub(tx, f"{role}Acct/Id/Othr")
        m.sub(other, "Id", mapping.account_id_of(account, f"{role}Acct/Id/Othr/Id", 34))
        m.sub(other, "Issr", PROPRIETARY_SCHEME)
    m.sub(tx, "RmtInf/Ustrd", f"Rantai instruction {dvp.instruction.id}")
    return _finish(root, PACS009)


def _millis(moment: datetime) -> str:
    return f"{moment.microsecond // 1000:03d}Z"
