"""sese.025 and pacs.009 export: a settled DvP gives documents that validate against the
shipped schemas and carry the right amounts, instrument, accounts and settlement date, the
same bytes every time; what is not a settled DvP, or cannot be written, is refused."""

from __future__ import annotations

import pytest
from lxml import etree
from msgspec import structs

from rantai.core import codes
from rantai.core.records import Instrument
from rantai.core.settlement import Instruction, Leg
from rantai.iso20022 import (
    NOT_DVP,
    PACS009,
    SESE025,
    Iso20022Error,
    IsoMapping,
    check_document,
    dvp_of,
    export_pacs009,
    export_sese025,
)

SETTLED_MS = 1_767_229_205_123  # 2026-01-01T01:00:05.123Z
INSTRUMENTS = {
    "BOND1": Instrument("BOND1", "bond", "Bond 1", 2, "issuer", 0, 0, 1),
    "MYR.BANK": Instrument("MYR.BANK", "cash", "Ringgit deposit", 2, "bank", 0, 0, 1),
    "BOND2": Instrument("BOND2", "bond", "Bond 2", 0, "issuer2", 0, 0, 1),
}
LEGS = (
    Leg("inv-1:main", "inv-0:main", "BOND1", 100_00),
    Leg("inv-0:main", "inv-1:main", "MYR.BANK", 250_50),
)
SETTLED = Instruction(
    id="ab" * 32,
    proposer="inv-0",
    legs=LEGS,
    affirmers=("inv-0", "inv-1"),
    deadline_ms=SETTLED_MS + 86_400_000,
    cycle="",
    state="settled",
    affirmed_by=("inv-0", "inv-1"),
    failed_leg=-1,
    failed_code="",
    proposed_height=5,
)
MAPPING = IsoMapping(instruments={"MYBOND1A0001": "BOND1"}, currencies={"MYR": "MYR.BANK"})


def parsed(raw: bytes, message: str) -> tuple[etree._Element, dict[str, str]]:
    root = etree.fromstring(raw)
    check_document(root, message)  # raises unless valid against the shipped schema
    return root, {"m": f"urn:iso:std:iso:20022:tech:xsd:{message}"}


def test_sese025_confirms_the_delivery() -> None:
    raw = export_sese025(dvp_of(SETTLED, INSTRUMENTS, SETTLED_MS), MAPPING)
    root, ns = parsed(raw, SESE025)
    conf = "m:SctiesSttlmTxConf"

    def text(path: str) -> str | None:
        return root.findtext(f"{conf}/{path}", namespaces=ns)

    assert text("m:TxIdDtls/m:AcctSvcrTxId") == "ab" * 16
    assert (text("m:TxIdDtls/m:SctiesMvmntTp"), text("m:TxIdDtls/m:Pmt")) == ("DELI", "APMT")
    assert text("m:TradDtls/m:FctvSttlmDt/m:Dt/m:Dt") == "2026-01-01"
    assert text("m:FinInstrmId/m:ISIN") == "MYBOND1A0001"
    assert text("m:QtyAndAcctDtls/m:SttldQty/m:Qty/m:Unit") == "100.00"
    assert text("m:QtyAndAcctDtls/m:SfkpgAcct/m:Id") == "inv-1:main"
    assert text("m:QtyAndAcctDtls/m:CshAcct/m:Prtry") == "inv-1:main"
    assert text("m:RcvgSttlmPties/m:Pty1/m:Id/m:PrtryId/m:Id") == "inv-0"
    assert text("m:RcvgSttlmPties/m:Pty1/m:SfkpgAcct/m:Id") == "inv-0:main"
    amount = root.find(f"{conf}/m:SttldAmt/m:Amt", ns)
    assert amount is not None and (amount.text, amount.get("Ccy")) == ("250.50", "MYR")
    assert text("m:SttldAmt/m:CdtDbtInd") == "CRDT"


def test_sese025_for_the_receiver_and_without_an_isin() -> None:
    mapping = IsoMapping(currencies={"MYR": "MYR.BANK"}, accounts={"SAFE-0": "inv-0:main"})
    raw = export_sese025(dvp_of(SETTLED, INSTRUMENTS, SETTLED_MS), mapping, side="RECE")
    root, ns = parsed(raw, SESE025)
    conf = "m:SctiesSttlmTxConf"
    assert root.findtext(f"{conf}/m:FinInstrmId/m:OthrId/m:Id", namespaces=ns) == "BOND1"
    assert root.findtext(f"{conf}/m:FinInstrmId/m:OthrId/m:Tp/m:Prtry", namespaces=ns) == "RANTAI"
    assert root.findtext(f"{conf}/m:QtyAndAcctDtls/m:SfkpgAcct/m:Id", namespaces=ns) == "SAFE-0"
    other = f"{conf}/m:DlvrgSttlmPties/m:Pty1/m:SfkpgAcct/m:Id"
    assert root.findtext(other, namespaces=ns) == "inv-1:main"
    assert root.findtext(f"{conf}/m:SttldAmt/m:CdtDbtInd", namespaces=ns) == "DBIT"


def test_pacs009_carries_the_cash_leg() -> None:
    raw = export_pacs009(dvp_of(SETTLED, INSTRUMENTS, SETTLED_MS), MAPPING)
    root, ns = parsed(raw, PACS009)
    tx = "m:FICdtTrf/m:CdtTrfTxInf"
    assert (
        root.findtext("m:FICdtTrf/m:GrpHdr/m:CreDtTm", namespaces=ns) == "2026-01-01T01:00:05.123Z"
    )
    assert root.findtext("m:FICdtTrf/m:GrpHdr/m:NbOfTxs", namespaces=ns) == "1"
    amount = root.find(f"{tx}/m:IntrBkSttlmAmt", ns)
    assert amount is not None and (amount.text, amount.get("Ccy")) == ("250.50", "MYR")
    assert root.findtext(f"{tx}/m:IntrBkSttlmDt", namespaces=ns) == "2026-01-01"
    assert root.findtext(f"{tx}/m:Dbtr/m:FinInstnId/m:Othr/m:Id", namespaces=ns) == "inv-0"
    assert root.findtext(f"{tx}/m:DbtrAcct/m:Id/m:Othr/m:Id", namespaces=ns) == "inv-0:main"
    assert root.findtext(f"{tx}/m:Cdtr/m:FinInstnId/m:Othr/m:Id", namespaces=ns) == "inv-1"
    assert root.findtext(f"{tx}/m:CdtrAcct/m:Id/m:Othr/m:Id", namespaces=ns) == "inv-1:main"
    assert root.findtext(f"{tx}/m:PmtId/m:EndToEndId", namespaces=ns) == "ab" * 16


def test_exports_are_the_same_bytes_every_time() -> None:
    dvp = dvp_of(SETTLED, INSTRUMENTS, SETTLED_MS)
    assert export_sese025(dvp, MAPPING) == export_sese025(dvp, MAPPING)
    assert export_pacs009(dvp, MAPPING) == export_pacs009(dvp, MAPPING)


def test_legs_in_either_order_and_whole_units() -> None:
    legs = (
        Leg("inv-0:main", "inv-1:main", "MYR.BANK", 7),
        Leg("inv-1:main", "inv-0:main", "BOND2", 3),
    )
    dvp = dvp_of(structs.replace(SETTLED, legs=legs), INSTRUMENTS, SETTLED_MS)
    assert (dvp.securities.instrument, dvp.cash.instrument) == ("BOND2", "MYR.BANK")
    root, ns = parsed(export_sese025(dvp, MAPPING), SESE025)
    unit = "m:SctiesSttlmTxConf/m:QtyAndAcctDtls/m:SttldQty/m:Qty/m:Unit"
    assert root.findtext(unit, namespaces=ns) == "3"
    assert root.findtext("m:SctiesSttlmTxConf/m:SttldAmt/m:Amt", namespaces=ns) == "0.07"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"state": "affirmed"}, codes.INSTRUCTION_CLOSED),
        ({"legs": LEGS[:1]}, NOT_DVP),
        ({"legs": (LEGS[0], Leg("inv-1:main", "inv-0:main", "MYR.BANK", 1))}, NOT_DVP),
        ({"legs": (LEGS[0], Leg("inv-0:main", "inv-2:main", "MYR.BANK", 1))}, NOT_DVP),
        ({"legs": (LEGS[0], Leg("inv-0:main", "inv-1:main", "BOND2", 1))}, NOT_DVP),
    ],
)
def test_only_a_settled_dvp_is_exported(change: dict[str, object], code: str) -> None:
    with pytest.raises(Iso20022Error) as caught:
        dvp_of(structs.replace(SETTLED, **change), INSTRUMENTS, SETTLED_MS)
    assert caught.value.code == code


def test_what_cannot_be_written_is_refused() -> None:
    dvp = dvp_of(SETTLED, INSTRUMENTS, SETTLED_MS)
    with pytest.raises(Iso20022Error) as caught:
        export_pacs009(dvp, IsoMapping())
    assert (caught.value.code, caught.value.element) == (codes.BAD_FIELD, "IntrBkSttlmAmt")
    long_account = "investor-with-a-long-name:settlement"  # 36 characters: over Max35Text
    legs = (
        Leg(long_account, "inv-0:main", "BOND1", 1),
        Leg("inv-0:main", long_account, "MYR.BANK", 1),
    )
    long = dvp_of(structs.replace(SETTLED, legs=legs), INSTRUMENTS, SETTLED_MS)
    with pytest.raises(Iso20022Error) as caught:
        export_sese025(long, MAPPING)
    assert (caught.value.code, caught.value.element) == (codes.BAD_FIELD, "SfkpgAcct/Id")
    mapped = IsoMapping(currencies={"MYR": "MYR.BANK"}, accounts={"LONG-1": long_account})
    check_document(etree.fromstring(export_sese025(long, mapped)), SESE025)
    fine = {**INSTRUMENTS, "MYR.BANK": structs.replace(INSTRUMENTS["MYR.BANK"], decimals=6)}
    with pytest.raises(Iso20022Error) as caught:
        export_pacs009(dvp_of(SETTLED, fine, SETTLED_MS), MAPPING)
    assert caught.value.code == codes.BAD_AMOUNT
