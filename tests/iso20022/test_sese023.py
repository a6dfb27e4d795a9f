"""sese.023 import: valid fixtures become the right ``propose_settlement`` body; invalid ones
(missing element, wrong type, not XML, wrong version, entities, unmapped ids, amounts finer
than the instrument) are refused with a stable code naming the element."""

from __future__ import annotations

from pathlib import Path

import pytest

from rantai.core import codes
from rantai.core.kinds.settlement import ProposeSettlement
from rantai.core.settlement import Leg
from rantai.iso20022 import XML_BYTES_MAX, Iso20022Error, IsoMapping, deadline_of, import_sese023

FIXTURES = Path(__file__).parent / "fixtures"
JAN_3_2026_MS = 1_767_398_400_000  # 2026-01-03T00:00:00Z: the end of 2 January
MAPPING = IsoMapping(
    instruments={"MYBOND1A0001": "BOND1"},
    currencies={"MYR": "MYR.BANK"},
    accounts={"SELLER-SAFE": "inv-1:main"},
    decimals={"BOND1": 2, "MYR.BANK": 2},
)


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def refusal(name: str, mapping: IsoMapping = MAPPING) -> Iso20022Error:
    with pytest.raises(Iso20022Error) as caught:
        import_sese023(load(name), mapping)
    return caught.value


def test_a_delivery_becomes_securities_out_and_cash_in() -> None:
    body = import_sese023(load("sese023_deli.xml"), MAPPING)
    assert body == ProposeSettlement(
        legs=(
            Leg("inv-1:main", "inv-0:main", "BOND1", 100_00),
            Leg("inv-0:main", "inv-1:main", "MYR.BANK", 250_50),
        ),
        deadline_ms=JAN_3_2026_MS,
        cycle="",
    )


def test_a_receipt_by_proprietary_id_pays_from_its_cash_account() -> None:
    body = import_sese023(load("sese023_rece.xml"), MAPPING, cycle="T+1")
    assert body.legs == (
        Leg("inv-1:main", "inv-0:main", "BOND1", 12_50),
        Leg("inv-0:cash", "inv-1:main", "MYR.BANK", 1000_00),
    )
    assert (body.deadline_ms, body.cycle) == (JAN_3_2026_MS, "T+1")


def test_the_deadline_is_the_end_of_the_settlement_date() -> None:
    from datetime import date

    assert deadline_of(date(1970, 1, 1)) == 86_400_000
    assert deadline_of(date(2026, 1, 2)) == JAN_3_2026_MS


@pytest.mark.parametrize(
    ("name", "code", "element"),
    [
        # schema-invalid: the element the schema stops at is named
        ("sese023_missing_settlement_date.xml", codes.MALFORMED, "SctiesSttlmTxInstr/TradDtls"),
        (
            "sese023_wrong_type.xml",
            codes.MALFORMED,
            "SctiesSttlmTxInstr/QtyAndAcctDtls/SttlmQty/Qty/Unit",
        ),
        (
            "sese023_free_of_payment.xml",
            codes.MALFORMED,
            "SctiesSttlmTxInstr/SttlmTpAndAddtlParams/Pmt",
        ),
        (
            "sese023_no_counterparty.xml",
            codes.MALFORMED,
            "SctiesSttlmTxInstr/RcvgSttlmPties/Pty1/SfkpgAcct/Id",
        ),
        ("sese023_wrong_direction.xml", codes.MALFORMED, "SctiesSttlmTxInstr/SttlmAmt/CdtDbtInd"),
        ("sese023_wrong_version.xml", codes.MALFORMED, "Document"),
        ("not_xml.txt", codes.MALFORMED, "Document"),
        ("sese023_too_precise.xml", codes.BAD_AMOUNT, "SctiesSttlmTxInstr/SttlmAmt/Amt"),
    ],
)
def test_refusals_name_the_failing_element(name: str, code: str, element: str) -> None:
    error = refusal(name)
    assert (error.code, error.element) == (code, element), error.message
    assert error.message.startswith(element + ": ")


def test_the_schema_message_says_what_is_missing_or_wrong() -> None:
    assert "SttlmDt" in refusal("sese023_missing_settlement_date.xml").message
    assert "one hundred" in refusal("sese023_wrong_type.xml").message


def test_entities_are_never_expanded() -> None:
    error = refusal("sese023_entity.xml")
    assert (error.code, error.element) == (codes.MALFORMED, "Document")
    assert "DOCTYPE" in error.message


def test_unmapped_identifiers_are_bad_fields() -> None:
    no_isin = IsoMapping(currencies={"MYR": "MYR.BANK"}, decimals=MAPPING.decimals)
    error = refusal("sese023_deli.xml", no_isin)
    assert (error.code, error.element) == (codes.BAD_FIELD, "SctiesSttlmTxInstr/FinInstrmId/ISIN")
    no_currency = IsoMapping(
        instruments=MAPPING.instruments, accounts=MAPPING.accounts, decimals=MAPPING.decimals
    )
    error = refusal("sese023_deli.xml", no_currency)
    assert (error.code, error.element) == (codes.BAD_FIELD, "SctiesSttlmTxInstr/SttlmAmt/Amt")
    no_account = IsoMapping(
        instruments=MAPPING.instruments, currencies=MAPPING.currencies, decimals=MAPPING.decimals
    )
    error = refusal("sese023_deli.xml", no_account)  # SELLER-SAFE is no ledger account id
    assert (error.code, error.element) == (
        codes.BAD_FIELD,
        "SctiesSttlmTxInstr/QtyAndAcctDtls/SfkpgAcct/Id",
    )
    no_decimals = IsoMapping(
        instruments=MAPPING.instruments, currencies=MAPPING.currencies, accounts=MAPPING.accounts
    )
    assert refusal("sese023_deli.xml", no_decimals).code == codes.BAD_FIELD


def test_a_document_over_the_bound_is_too_large() -> None:
    raw = load("sese023_deli.xml").replace(b"<Desc>", b"<!--" + b" " * XML_BYTES_MAX + b"--><Desc>")
    with pytest.raises(Iso20022Error) as caught:
        import_sese023(raw, MAPPING)
    assert caught.value.code == codes.TOO_LARGE


def test_a_mapping_must_be_one_to_one() -> None:
    with pytest.raises(ValueError, match="mapped from two ids"):
        IsoMapping(instruments={"MYBOND1A0001": "BOND1", "XS0000000009": "BOND1"})
