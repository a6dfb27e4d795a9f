"""Settlement instructions through the real API over a real node: a DvP proposed, affirmed by
both payers and settled, each state as the routes show it; who may read; listings; and the
ISO 20022 routes (sese.023 in, sese.025 and pacs.009 out) on the same instruction."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import anyio.from_thread
import httpx
import pytest
from lxml import etree
from tests.api.support import COUNTERPARTY, OTHER, OWNER, World, read_as
from tests.node.harness import send
from tests.sdk.test_e2e import PortalTransport
from tests.support import key_of

from rantai import sdk
from rantai.api import create_app
from rantai.core import codes
from rantai.core.ids import account_id
from rantai.core.jsonform import body_from_json
from rantai.core.kinds.policies import PauseInstrument
from rantai.core.kinds.settlement import AffirmSettlement, CancelSettlement, ProposeSettlement
from rantai.core.kinds.transfers import Transfer
from rantai.core.records import balance_key
from rantai.core.settlement import Leg
from rantai.iso20022 import PACS009, SESE025, check_document
from rantai.node.indexes import Indexes

pytestmark = pytest.mark.anyio

FIXTURES = Path(__file__).parent.parent / "iso20022" / "fixtures"
BUYER, SELLER = OWNER, COUNTERPARTY  # inv-0 holds MYR.BANK; inv-1 holds BOND1
ISIN = "MYBOND1A0001"  # the mapping the tests give for BOND1 (ISIN-shaped)
MAPPING = f"instrument={ISIN}:BOND1&currency=MYR:MYR.BANK"
DAY_MS = 86_400_000


def dvp(world: World, units: int = 100_00, cash: int = 250_00) -> ProposeSettlement:
    """BOND1 from the seller against MYR.BANK from the buyer, due in a day of block time."""
    head = world.node.ledger.head
    assert head is not None
    return ProposeSettlement(
        legs=(
            Leg(account_id(SELLER), account_id(BUYER), "BOND1", units),
            Leg(account_id(BUYER), account_id(SELLER), "MYR.BANK", cash),
        ),
        deadline_ms=head.timestamp_ms + DAY_MS,
        cycle="",
    )


def propose(world: World, body: ProposeSettlement, sender: str = BUYER) -> str:
    """Propose ``body``; the instruction id (the proposing transaction's id)."""
    assert send(world.node, [(sender, body)]) == [codes.OK]
    found = [
        key[len("settlement/") :]
        for key, record in world.node.ledger.values.items()
        if key.startswith("settlement/")
        and record.legs == body.legs
        and record.deadline_ms == body.deadline_ms
    ]
    assert len(found) == 1
    return found[0]


def settle(world: World, instruction: str) -> None:
    assert send(world.node, [(SELLER, AffirmSettlement(instruction))]) == [codes.OK]
    assert send(world.node, [(BUYER, AffirmSettlement(instruction))]) == [codes.OK]


async def get(client: httpx.AsyncClient, world: World, reader: str | None, target: str) -> dict:
    response = await read_as(client, world, reader, target)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_dvp_shows_each_state_until_settled(
    client: httpx.AsyncClient, world: World
) -> None:
    body = dvp(world)
    instruction = propose(world, body)
    target = f"/v1/settlements/{instruction}"

    shown = await get(client, world, BUYER, target)
    assert shown["state"] == "proposed"
    assert shown["id"] == instruction and shown["proposer"] == BUYER
    assert shown["legs"] == [
        {
            "source": "inv-1:main",
            "destination": "inv-0:main",
            "instrument": "BOND1",
            "amount": 10000,
        },
        {
            "source": "inv-0:main",
            "destination": "inv-1:main",
            "instrument": "MYR.BANK",
            "amount": 25000,
        },
    ]
    assert shown["affirmers"] == [BUYER, SELLER] and shown["affirmed_by"] == []
    assert shown["deadline_ms"] == body.deadline_ms and shown["cycle"] == ""
    assert shown["failed_leg"] is None and shown["failed_code"] is None
    assert shown["settled_height"] is None

    assert send(world.node, [(SELLER, AffirmSettlement(instruction))]) == [codes.OK]
    shown = await get(client, world, SELLER, target)
    assert (shown["state"], shown["affirmed_by"]) == ("proposed", [SELLER])

    values = world.node.ledger.values
    cash_before = values.get(balance_key(account_id(BUYER), "MYR.BANK"), 0)
    assert send(world.node, [(BUYER, AffirmSettlement(instruction))]) == [codes.OK]
    shown = await get(client, world, SELLER, target)
    assert shown["state"] == "settled" and shown["affirmed_by"] == [BUYER, SELLER]
    assert shown["settled_height"] == world.node.ledger.head.height == shown["height"]
    assert values.get(balance_key(account_id(BUYER), "MYR.BANK"), 0) == cash_before - 250_00


async def test_a_failed_instruction_shows_its_leg_and_code(
    client: httpx.AsyncClient, world: World
) -> None:
    instruction = propose(world, dvp(world))
    assert send(world.node, [(SELLER, AffirmSettlement(instruction))]) == [codes.OK]
    assert send(world.node, [("issuer", PauseInstrument("BOND1"))]) == [codes.OK]
    assert send(world.node, [(BUYER, AffirmSettlement(instruction))]) == [codes.OK]
    shown = await get(client, world, BUYER, f"/v1/settlements/{instruction}")
    assert (shown["state"], shown["failed_leg"], shown["failed_code"]) == ("failed", 0, "paused")


async def test_cancelled_and_expired_are_shown(client: httpx.AsyncClient, world: World) -> None:
    cancelled = propose(world, dvp(world, units=1_00))
    assert send(world.node, [(BUYER, CancelSettlement(cancelled))]) == [codes.OK]
    head = world.node.ledger.head
    assert head is not None
    short = ProposeSettlement(dvp(world, units=2_00).legs, head.timestamp_ms + 3_000, "")
    expiring = propose(world, short)
    shown = await get(client, world, BUYER, f"/v1/settlements/{cancelled}")
    assert shown["state"] == "cancelled"
    assert (await get(client, world, BUYER, f"/v1/settlements/{expiring}"))["state"] == "proposed"
    while world.node.ledger.head.timestamp_ms < short.deadline_ms:  # one second per block
        assert send(
            world.node, [(OTHER, Transfer(account_id(OTHER), account_id(BUYER), "BOND1", 1, ""))]
        ) == [codes.OK]
    assert (await get(client, world, BUYER, f"/v1/settlements/{expiring}"))["state"] == "expired"
    page = await get(client, world, BUYER, "/v1/settlements?state=expired")
    assert [item["id"] for item in page["items"]] == [expiring]


# The readers of one DvP moving BOND1 (a bond) against MYR.BANK (cash): its parties, the
# agencies whose scope covers a bond or cash; not another investor, an issuer not on it, the
# ministry (empty scope), the operator.
READERS = {
    BUYER: 200,
    SELLER: 200,
    "SC": 200,
    "BNM": 200,
    OTHER: 403,
    "issuer": 403,
    "issuer2": 403,
    "registrar": 403,
    "MOD": 403,
    "operator": 403,
}


async def test_who_may_read_an_instruction(client: httpx.AsyncClient, world: World) -> None:
    instruction = propose(world, dvp(world))
    for reader, status in READERS.items():
        response = await read_as(client, world, reader, f"/v1/settlements/{instruction}")
        assert response.status_code == status, (reader, response.text)
        if status == 403:
            assert response.json()["code"] == "forbidden"
    unsigned = await read_as(client, world, None, f"/v1/settlements/{instruction}")
    assert unsigned.status_code == 401
    unknown = await read_as(client, world, BUYER, "/v1/settlements/" + "ab" * 32)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    bad = await read_as(client, world, BUYER, "/v1/settlements/XYZ")
    assert (bad.status_code, bad.json()["code"]) == (400, "bad_query")


async def test_listings_show_what_each_reader_may_see(
    client: httpx.AsyncClient, world: World
) -> None:
    first = propose(world, dvp(world, units=1_00))
    second = propose(world, dvp(world, units=2_00), sender=SELLER)
    settle(world, second)
    both = sorted([first, second])

    async def ids(reader: str, query: str = "") -> list[str]:
        page = await get(client, world, reader, f"/v1/settlements{query}")
        return [item["id"] for item in page["items"]]

    assert await ids(BUYER) == both
    assert await ids("SC") == both and await ids("BNM") == both
    assert await ids(OTHER) == [] and await ids("MOD") == [] and await ids("issuer") == []
    assert await ids(BUYER, "?state=settled") == [second]
    assert await ids(BUYER, "?state=proposed") == [first]
    assert await ids("SC", f"?party={SELLER}") == both
    assert await ids("SC", f"?party={OTHER}") == []
    page = await get(client, world, BUYER, "/v1/settlements?limit=1")
    assert [item["id"] for item in page["items"]] == both[:1] and page["next"] == both[0]
    rest = await get(client, world, BUYER, f"/v1/settlements?limit=1&after={page['next']}")
    assert [item["id"] for item in rest["items"]] == both[1:] and rest["next"] is None
    bad = await read_as(client, world, BUYER, "/v1/settlements?state=lost")
    assert (bad.status_code, bad.json()["code"]) == (400, "bad_query")


async def test_the_index_is_rebuilt_from_state_on_restart(world: World) -> None:
    instruction = propose(world, dvp(world))
    rebuilt = Indexes.build(world.node.ledger.values)
    assert instruction in rebuilt.settlements_by_party[BUYER]
    assert instruction in rebuilt.settlements_by_kind["cash"]
    assert rebuilt.settlements_by_kind == world.node.indexes.settlements_by_kind
    assert rebuilt.settlements_by_party == world.node.indexes.settlements_by_party


# --- ISO 20022 ----------------------------------------------------------------------------


async def test_a_settled_dvp_exports_to_sese025_and_pacs009(
    client: httpx.AsyncClient, world: World
) -> None:
    instruction = propose(world, dvp(world))
    not_yet = await read_as(
        client, world, BUYER, f"/v1/settlements/{instruction}/sese.025?{MAPPING}"
    )
    assert (not_yet.status_code, not_yet.json()["code"]) == (409, "instruction_closed")
    settle(world, instruction)
    settled_ms = world.node.ledger.head.timestamp_ms
    day = datetime.fromtimestamp(settled_ms // 1000, UTC).date().isoformat()

    response = await read_as(
        client, world, SELLER, f"/v1/settlements/{instruction}/sese.025?{MAPPING}"
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = etree.fromstring(response.content)
    check_document(root, SESE025)
    ns = {"m": f"urn:iso:std:iso:20022:tech:xsd:{SESE025}"}

    def text(path: str) -> str:
        return root.findtext(path, namespaces=ns)

    conf = "m:SctiesSttlmTxConf"
    assert text(f"{conf}/m:TxIdDtls/m:SctiesMvmntTp") == "DELI"
    assert text(f"{conf}/m:FinInstrmId/m:ISIN") == ISIN
    assert text(f"{conf}/m:QtyAndAcctDtls/m:SttldQty/m:Qty/m:Unit") == "100.00"
    assert text(f"{conf}/m:QtyAndAcctDtls/m:SfkpgAcct/m:Id") == "inv-1:main"
    assert text(f"{conf}/m:RcvgSttlmPties/m:Pty1/m:SfkpgAcct/m:Id") == "inv-0:main"
    assert text(f"{conf}/m:TradDtls/m:FctvSttlmDt/m:Dt/m:Dt") == day
    amount = root.find(f"{conf}/m:SttldAmt/m:Amt", ns)
    assert (amount.text, amount.get("Ccy")) == ("250.00", "MYR")
    assert text(f"{conf}/m:SttldAmt/m:CdtDbtInd") == "CRDT"
    assert instruction in text(f"{conf}/m:TradDtls/m:SttlmInstrPrcgAddtlDtls")

    receiver = await read_as(
        client, world, BUYER, f"/v1/settlements/{instruction}/sese.025?side=RECE&{MAPPING}"
    )
    receiving = etree.fromstring(receiver.content)
    assert receiving.findtext(f"{conf}/m:SttldAmt/m:CdtDbtInd", namespaces=ns) == "DBIT"

    response = await read_as(
        client, world, "BNM", f"/v1/settlements/{instruction}/pacs.009?{MAPPING}"
    )
    assert response.status_code == 200, response.text
    root = etree.fromstring(response.content)
    check_document(root, PACS009)
    ns = {"m": f"urn:iso:std:iso:20022:tech:xsd:{PACS009}"}
    tx = "m:FICdtTrf/m:CdtTrfTxInf"
    amount = root.find(f"{tx}/m:IntrBkSttlmAmt", ns)
    assert (amount.text, amount.get("Ccy")) == ("250.00", "MYR")
    assert root.findtext(f"{tx}/m:IntrBkSttlmDt", namespaces=ns) == day
    assert root.findtext(f"{tx}/m:DbtrAcct/m:Id/m:Othr/m:Id", namespaces=ns) == "inv-0:main"
    assert root.findtext(f"{tx}/m:CdtrAcct/m:Id/m:Othr/m:Id", namespaces=ns) == "inv-1:main"

    no_currency = await read_as(client, world, BUYER, f"/v1/settlements/{instruction}/pacs.009")
    assert (no_currency.status_code, no_currency.json()["code"]) == (400, "bad_field")
    outsider = await read_as(client, world, OTHER, f"/v1/settlements/{instruction}/pacs.009")
    assert outsider.status_code == 403


async def test_sese023_imports_and_the_body_settles(
    client: httpx.AsyncClient, world: World
) -> None:
    xml = (FIXTURES / "sese023_deli.xml").read_bytes()
    response = await client.post(
        f"/v1/iso20022/sese.023?{MAPPING}&account=SELLER-SAFE:inv-1:main",
        content=xml,
        headers={"Content-Type": "application/xml"},
    )
    assert response.status_code == 200, response.text
    fields = response.json()
    kind = fields.pop("kind")
    body = body_from_json(kind, fields)
    assert isinstance(body, ProposeSettlement)
    assert body.legs == (
        Leg("inv-1:main", "inv-0:main", "BOND1", 100_00),
        Leg("inv-0:main", "inv-1:main", "MYR.BANK", 250_50),
    )
    instruction = propose(world, body, sender=SELLER)
    settle(world, instruction)
    shown = await get(client, world, "SC", f"/v1/settlements/{instruction}")
    assert shown["state"] == "settled"


async def test_sese023_refusals_name_the_element(client: httpx.AsyncClient, world: World) -> None:
    cases = {
        "sese023_missing_settlement_date.xml": (400, "malformed", "SctiesSttlmTxInstr/TradDtls"),
        "sese023_wrong_type.xml": (400, "malformed", "QtyAndAcctDtls/SttlmQty/Qty/Unit"),
        "not_xml.txt": (400, "malformed", "Document"),
    }
    for name, (status, code, element) in cases.items():
        response = await client.post(
            f"/v1/iso20022/sese.023?{MAPPING}", content=(FIXTURES / name).read_bytes()
        )
        assert response.status_code == status, (name, response.text)
        assert response.json()["code"] == code
        assert element in response.json()["message"], (name, response.text)
    unmapped = await client.post(
        "/v1/iso20022/sese.023", content=(FIXTURES / "sese023_deli.xml").read_bytes()
    )
    assert (unmapped.status_code, unmapped.json()["code"]) == (400, "bad_field")
    assert "FinInstrmId/ISIN" in unmapped.json()["message"]
    huge = await client.post("/v1/iso20022/sese.023", content=b"<a>" + b" " * 300_000)
    assert (huge.status_code, huge.json()["code"]) == (413, "too_large")
    bad_pair = await client.post("/v1/iso20022/sese.023?currency=MYR", content=b"<a/>")
    assert (bad_pair.status_code, bad_pair.json()["code"]) == (400, "bad_query")


# --- the SDK over the same routes -----------------------------------------------------------


async def test_the_sdk_reads_instructions_and_their_messages(world: World) -> None:
    mapping = sdk.IsoMapping(
        instruments={ISIN: "BOND1"},
        currencies={"MYR": "MYR.BANK"},
        accounts={"SELLER-SAFE": "inv-1:main"},
        decimals={"BOND1": 2, "MYR.BANK": 2},
    )
    body = sdk.from_sese023((FIXTURES / "sese023_deli.xml").read_bytes(), mapping)
    instruction = propose(world, body, sender=SELLER)
    transport = httpx.ASGITransport(app=create_app(world.node))  # the wall clock signs reads
    async with sdk.AsyncClient(
        "http://rantai.test", party=BUYER, key=key_of(BUYER), transport=transport
    ) as client:
        found = await client.settlement(instruction)
        assert found is not None and found.state == "proposed" and found.legs == body.legs
        assert [s.id async for s in client.settlements(state="proposed")] == [instruction]
        with pytest.raises(sdk.ApiError) as refused:
            await client.sese025(instruction, mapping=mapping)
        assert (refused.value.status, refused.value.code) == (409, "instruction_closed")
        settle(world, instruction)
        found = await client.settlement(instruction)
        assert found is not None and found.state == "settled" and found.settled_height is not None
        assert [s.id async for s in client.settlements(state="proposed")] == []
        confirmation = await client.sese025(instruction, side="RECE", mapping=mapping)
        check_document(etree.fromstring(confirmation), SESE025)
        assert b"<SfkpgAcct><Id>inv-0:main</Id></SfkpgAcct>" in confirmation
        assert b'<SttldAmt><Amt Ccy="MYR">250.50</Amt><CdtDbtInd>DBIT</CdtDbtInd>' in confirmation
        transfer = await client.pacs009(instruction, mapping=mapping)
        check_document(etree.fromstring(transfer), PACS009)
        assert b"<DbtrAcct><Id><Othr><Id>inv-0:main</Id>" in transfer
        assert await client.settlement("cd" * 32) is None
    async with sdk.AsyncClient(
        "http://rantai.test", party=OTHER, key=key_of(OTHER), transport=transport
    ) as outsider:
        with pytest.raises(sdk.Forbidden):
            await outsider.settlement(instruction)
        assert [s async for s in outsider.settlements()] == []


def test_the_blocking_client_reads_the_same(world: World) -> None:
    instruction = propose(world, dvp(world))
    settle(world, instruction)
    mapping = sdk.IsoMapping(currencies={"MYR": "MYR.BANK"})
    with anyio.from_thread.start_blocking_portal() as portal:
        transport = PortalTransport(create_app(world.node), portal)
        with sdk.Client(
            "http://rantai.test", party=SELLER, key=key_of(SELLER), transport=transport
        ) as client:
            found = client.settlement(instruction)
            assert found is not None and found.state == "settled"
            assert [s.id for s in client.settlements(party=BUYER, page_size=1)] == [instruction]
            xml = client.sese025(instruction, mapping=mapping)
            check_document(etree.fromstring(xml), SESE025)
            assert b"<OthrId><Id>BOND1</Id><Tp><Prtry>RANTAI</Prtry></Tp></OthrId>" in xml
            check_document(etree.fromstring(client.pacs009(instruction, mapping=mapping)), PACS009)
