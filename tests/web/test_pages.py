"""The dashboard's pages ask the API's policy: who sees which page, and agency views are on
the access log. In process, over the API tests' world (issuer ``issuer`` with BOND1; inv-0,
inv-1, inv-2 holding it; a bank with MYR.BANK held by inv-0)."""

from __future__ import annotations

import httpx
import pytest
from tests.api.support import World
from tests.node.harness import send
from tests.web.support import log_in

from rantai import sdk
from rantai.api import api_context
from rantai.core import codes
from rantai.core.kinds.instruments import Mint
from rantai.web.format import bar_chart, format_units

pytestmark = pytest.mark.anyio

PAGES = (
    "/",
    "/portfolio",
    "/instruments",
    "/instruments/BOND1",
    "/instruments/BOND1/register",
    "/instruments/BOND1/register.csv",
    "/explorer",
    "/explorer/blocks/1",
    "/alerts",
    "/governance",
    "/issuer",
)

# What each reader gets: 200, or 403 where the signed API would refuse the same data.
EXPECTED = {
    "inv-0": {"/instruments/BOND1/register": 403, "/instruments/BOND1/register.csv": 403,
              "/explorer/blocks/1": 403, "/alerts": 403, "/governance": 403, "/issuer": 403},
    "issuer": {"/explorer/blocks/1": 403, "/alerts": 403, "/governance": 403},
    "SC": {"/issuer": 403},
    "MOD": {"/instruments/BOND1/register": 403, "/instruments/BOND1/register.csv": 403,
            "/issuer": 403},
}  # fmt: skip


@pytest.mark.parametrize("party", sorted(EXPECTED))
async def test_each_page_answers_as_the_policy_says(client: httpx.AsyncClient, party: str) -> None:
    await log_in(client, party)
    for path in PAGES:
        answer = await client.get(path)
        assert answer.status_code == EXPECTED[party].get(path, 200), (party, path)


async def test_pages_need_a_session(client: httpx.AsyncClient) -> None:
    for path in PAGES:
        answer = await client.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")
    proof = await client.get("/web/proofs/balance/inv-0:main/BOND1")
    assert proof.status_code == 401


async def test_an_investor_sees_only_its_own_holdings(client: httpx.AsyncClient) -> None:
    await log_in(client, "inv-0")
    page = (await client.get("/portfolio")).text
    assert 'data-account="inv-0:main" data-instrument="BOND1"' in page
    assert 'data-account="inv-0:main" data-instrument="MYR.BANK"' in page
    assert 'data-account="inv-1' not in page
    assert (await client.get("/web/proofs/balance/inv-0:main/BOND1")).status_code == 200
    assert (await client.get("/web/proofs/balance/inv-1:main/BOND1")).status_code == 403


async def test_an_agency_sees_its_scope_only(client: httpx.AsyncClient) -> None:
    await log_in(client, "SC")  # securities: BOND1, not the bank's cash token
    page = (await client.get("/instruments/BOND1")).text
    assert "/instruments/BOND1/register.csv" in page
    register = (await client.get("/instruments/BOND1/register")).text
    assert "inv-0:main" in register and "inv-2:main" in register
    assert (await client.get("/instruments/MYR.BANK/register")).status_code == 403
    assert (await client.get("/web/proofs/balance/inv-0:main/MYR.BANK")).status_code == 403


async def test_agency_page_views_are_on_the_access_log(
    client: httpx.AsyncClient, world: World
) -> None:
    await log_in(client, "SC")
    await client.get("/instruments/BOND1/register")
    await log_in(client, "inv-0")
    await client.get("/portfolio")
    log = api_context(client._transport.app).access_log  # type: ignore[attr-defined]
    log.flush()
    entries = list(world.node.store.iter_access_log(0, 100))
    seen = {(e.party, e.path, e.status) for e in entries}
    assert ("SC", "/instruments/BOND1/register", 200) in seen
    assert all(e.party != "inv-0" for e in entries)  # investors' reads are not agency reads


async def test_language_by_query_then_cookie(client: httpx.AsyncClient) -> None:
    login = await client.get("/login?lang=ms")
    assert '<html lang="ms">' in login.text and "Log masuk" in login.text
    assert client.cookies.get("rantai_lang") == "ms"
    await log_in(client, "inv-0")
    page = (await client.get("/portfolio")).text
    assert '<html lang="ms">' in page and "Pegangan Saya" in page and "Buktikan baki saya" in page
    english = (await client.get("/portfolio?lang=en")).text
    assert '<html lang="en">' in english and "Prove my balance" in english


async def test_html_pages_forbid_outside_scripts(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "<script>" not in page.text  # no inline script: every script is a file
    assert (await client.get("/static/js/rantai.js")).status_code == 200


async def test_the_api_is_unchanged_under_v1(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/chain")).status_code == 200
    assert (await client.get("/health")).json()["status"] == "ok"


@pytest.mark.parametrize(
    "amount, decimals, shown",
    [(0, 2, "0.00"), (5, 2, "0.05"), (123456, 2, "1,234.56"), (-7, 3, "-0.007"),
     (10**20, 0, "100,000,000,000,000,000,000"), (2**63, 2, "92,233,720,368,547,758.08")],
)  # fmt: skip
def test_amounts_are_shown_without_floats(amount: int, decimals: int, shown: str) -> None:
    assert format_units(amount, decimals) == shown


def test_bars_scale_to_the_largest_value() -> None:
    chart = bar_chart([("a", 10, "10"), ("b", 5, "5"), ("c", 0, "0"), ("d", 1, "1")])
    widths = [bar.width for bar in chart.bars]
    assert widths[0] == chart.plot_width and widths[1] == chart.plot_width // 2
    assert widths[2] == 0 and widths[3] >= 1  # a non-zero value stays visible


async def test_volume_per_day_for_the_issuer_and_agencies_only(client: httpx.AsyncClient) -> None:
    await log_in(client, "SC")
    page = (await client.get("/instruments/BOND1")).text
    assert "Transfer volume per day" in page
    assert "0.07" in page  # the world's one transfer: 7 minor units of BOND1
    await log_in(client, "inv-0")
    assert "Transfer volume per day" not in (await client.get("/instruments/BOND1")).text


async def test_a_bonds_page_shows_its_lifecycle_calendar(
    client: httpx.AsyncClient, world: World
) -> None:
    terms = sdk.bond_terms(
        cash="MYR.BANK",
        payer="issuer2:main",
        residue_account="issuer2:main",
        face=100,
        issue_date="2026-03-16",
        maturity_date="2027-03-16",
        months_per_period=6,
        income=sdk.income("fixed", 385),
        calendar=sdk.calendar("MY", holidays=["2026-09-16"]),
    )
    assert send(world.node, [("issuer2", sdk.set_bond_terms("BOND2", terms))]) == [codes.OK]
    await log_in(client, "inv-0")
    page = (await client.get("/instruments/BOND2")).text
    assert "Lifecycle calendar" in page and "coupon every period" in page
    # 16 Sep 2026 is a holiday: the payment moves to the 17th, its record date to the 15th.
    assert "<td>2026-09-15</td><td>2026-09-17</td><td>Due</td>" in page
    assert "Maturity: 2027-03-16 at 100.00% of the outstanding face" in page
    malay = (await client.get("/instruments/BOND2?lang=ms")).text
    assert "Kalendar kitaran hayat" in malay and "kupon setiap tempoh" in malay
    assert "Lifecycle calendar" not in (await client.get("/instruments/BOND1")).text


async def test_distributions_received_show_the_payment_in_its_cash_units(
    client: httpx.AsyncClient, world: World
) -> None:
    node = world.node
    assert send(node, [("bank", Mint("MYR.BANK", "issuer:main", 1_000_000, "float"))]) == [codes.OK]
    assert send(node, [("issuer", sdk.take_record("BOND1", "c1", "coupon 1"))]) == [codes.OK]
    body = sdk.distribute(
        "BOND1", "c1", "coupon", "MYR.BANK", "issuer:main", 300_000, residue_account="issuer:main"
    )
    assert send(node, [("issuer", body)]) == [codes.OK]
    await log_in(client, "inv-0")
    page = (await client.get("/portfolio")).text
    # inv-0 held 999,993 of the 3,000,000 units: floor(300,000 x 999,993 / 3,000,000) sen.
    assert '<td>coupon</td><td class="num">999.99</td><td>MYR.BANK</td>' in page
    malay = (await client.get("/portfolio?lang=ms")).text
    assert "<td>kupon</td>" in malay
    await log_in(client, "issuer")
    console = (await client.get("/issuer?lang=en")).text
    assert '<td>inv-0:main</td><td>coupon</td><td class="num">999.99</td>' in console
