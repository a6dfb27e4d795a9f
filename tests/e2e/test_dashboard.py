"""The dashboard in Chromium: login by signed challenge, scopes, in-page proofs, review and
approval, languages, keyboard use. Fixtures and the world: conftest.py."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from tests.api.support import envelope
from tests.e2e.conftest import Site, demo_login
from tests.support import key_of

from rantai import sdk
from rantai.core import codes
from rantai.core.ids import account_id
from rantai.core.kinds.governance import Approve
from rantai.core.kinds.transfers import Transfer
from rantai.crypto.hashing import sha256

SUPERVISOR_WAIT_S = 10


def _flip_hex(text: str) -> str:
    """``text`` with its last hex digit changed."""
    return text[:-1] + ("0" if text[-1] != "0" else "1")


def test_agency_reviews_an_alert_and_approves_a_proposal(page: Any, site: Site) -> None:
    demo_login(page, "BNM")

    # The large transfer's alert: the supervisor may still be catching up, so look again.
    deadline = time.monotonic() + SUPERVISOR_WAIT_S
    page.goto("/alerts")
    while page.locator("article.alert").count() == 0 and time.monotonic() < deadline:
        time.sleep(0.3)
        page.reload()
    alert = page.locator("article.alert").filter(has_text="Large transfer").first
    assert "Open" in alert.locator(".badge").inner_text()
    assert site.large_tx[:12] in alert.inner_text()

    alert.get_by_label("Action").select_option("review")
    alert.get_by_role("button", name="Record").click()
    page.get_by_text(re.compile(r"Alert \d+ updated\.")).wait_for()
    alert = page.locator("article.alert").filter(has_text="Large transfer").first
    assert "Under review" in alert.locator(".badge").inner_text()

    # Dismissing needs a reason: the workflow's refusal is shown, nothing changes.
    alert.get_by_label("Action").select_option("dismiss")
    alert.get_by_role("button", name="Record").click()
    page.get_by_text("Not done (reason_required).").wait_for()
    alert = page.locator("article.alert").filter(has_text="Large transfer").first
    alert.get_by_label("Action").select_option("dismiss")
    alert.get_by_label("Reason").fill("known institutional rebalancing")
    alert.get_by_role("button", name="Record").click()
    page.get_by_text(re.compile(r"Alert \d+ updated\.")).wait_for()
    page.goto("/alerts?status=dismissed")
    dismissed = page.locator("article.alert").filter(has_text="Large transfer").first
    assert "Dismissed" in dismissed.locator(".badge").inner_text()
    dismissed.get_by_text("History").click()
    assert "known institutional rebalancing" in dismissed.inner_text()

    # Approve SC's proposal: signed in the browser, submitted, committed.
    page.goto("/governance")
    card = page.locator(f"#proposal-{site.proposal}")
    assert "1 of 2: SC" in card.inner_text()
    card.get_by_label("Note with your approval (optional)").fill("seen the order")
    card.get_by_role("button", name="Approve").click()
    result = card.locator(".proof-result.ok")
    result.wait_for()
    assert result.inner_text().startswith("Approved: transaction")
    approval = result.get_attribute("data-tx")
    assert approval is not None and re.fullmatch("[0-9a-f]{64}", approval)

    # On the chain, as the API shows it (proofs checked by the SDK).
    with sdk.Client(site.url, party="BNM", key=key_of("BNM")) as client:
        tx = client.transaction(bytes.fromhex(approval))
    assert tx is not None and tx.sender == "BNM" and tx.receipt.code == codes.OK
    assert tx.body == Approve(site.proposal, "seen the order")
    page.reload()
    card = page.locator(f"#proposal-{site.proposal}")
    assert "Executed" in card.locator(".badge").inner_text()
    assert card.get_by_role("button", name="Approve").count() == 0


def test_investor_sees_only_own_holdings_and_proves_a_balance(page: Any, site: Site) -> None:
    demo_login(page, "inv-0")
    page.goto("/portfolio")
    holdings = page.locator("#holdings")
    rows = holdings.locator("tbody tr")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-account") == "inv-0:main"
    assert "inv-1" not in holdings.inner_text()
    assert "inv-2" not in holdings.inner_text()
    # Another investor's balance and the agencies' pages are refused, as by the API.
    assert page.request.get("/web/proofs/balance/inv-1:main/BOND1").status == 403
    assert page.goto("/alerts").status == 403
    assert page.goto("/explorer/blocks/1").status == 403

    page.goto("/portfolio")
    button = page.get_by_role("button", name="Prove my balance")
    result = page.locator("#holdings .proof-result")
    button.click()
    page.get_by_text(re.compile(r"^Verified at height \d+$")).wait_for()
    assert "ok" in (result.get_attribute("class") or "")

    # A tampered proof (one sibling hash changed) must fail in the page.
    def tamper(route: Any) -> None:
        answer = route.fetch()
        data = json.loads(answer.text())
        siblings = data["proof"]["siblings"]
        at = next(i for i, s in enumerate(siblings) if s)
        siblings[at] = _flip_hex(siblings[at])
        route.fulfill(response=answer, body=json.dumps(data))

    page.route("**/web/proofs/balance/**", tamper)
    button.click()
    page.get_by_text(re.compile(r"^Verification failed")).wait_for()
    assert "bad" in (result.get_attribute("class") or "")

    # So must a proof whose amount was changed (the value no longer encodes it).
    page.unroute("**/web/proofs/balance/**")

    def inflate(route: Any) -> None:
        answer = route.fetch()
        data = json.loads(answer.text())
        data["amount"] += 1
        route.fulfill(response=answer, body=json.dumps(data))

    page.route("**/web/proofs/balance/**", inflate)
    button.click()
    page.get_by_text(re.compile(r"^Verification failed")).wait_for()


def test_transaction_inclusion_is_verified_in_the_page(page: Any, site: Site) -> None:
    demo_login(page, "SC")
    page.goto(f"/explorer/tx/{site.large_tx}")
    page.get_by_role("button", name="Verify inclusion").click()
    page.get_by_text(re.compile(r"^Verified: included in block \d+$")).wait_for()

    def tamper(route: Any) -> None:
        answer = route.fetch()
        data = json.loads(answer.text())
        data["receipt"]["code"] = "insufficient_balance"
        route.fulfill(response=answer, body=json.dumps(data))

    page.route("**/web/proofs/tx/**", tamper)
    page.get_by_role("button", name="Verify inclusion").click()
    page.get_by_text(re.compile(r"^Verification failed")).wait_for()


def test_overview_feed_shows_new_blocks_live(page: Any, site: Site) -> None:
    demo_login(page, "SC")
    page.get_by_text("Live: new blocks appear as they are committed.").wait_for()
    raw = envelope(
        site.node, "inv-1", Transfer(account_id("inv-1"), account_id("inv-0"), "BOND1", 1, "")
    )
    assert site.node.submit([raw])[0].code == codes.OK
    height, receipt = site.node.wait([sha256(raw)], 10)[sha256(raw)]
    assert receipt.code == codes.OK
    page.wait_for_function(
        "h => document.getElementById('head-height').textContent === h", arg=str(height)
    )
    assert page.locator("#feed tbody tr").first.locator("td").first.inner_text() == str(height)
    assert page.locator("figure.chart svg rect").count() >= 1  # the supply chart


def test_language_switches_to_bahasa_malaysia(page: Any, site: Site) -> None:
    demo_login(page, "inv-0")
    page.get_by_role("link", name="Bahasa Malaysia").click()
    page.wait_for_url("**/?lang=ms")
    assert page.locator("html").get_attribute("lang") == "ms"
    nav = page.get_by_role("navigation", name="Utama")
    assert "Pegangan Saya" in nav.inner_text()
    assert "Gambaran keseluruhan" in page.locator("h1").inner_text()
    assert "Papan Pemuka" in page.locator("header").inner_text()
    # Remembered in a cookie: the next page is Malay without asking again.
    page.goto("/portfolio")
    assert page.get_by_role("button", name="Buktikan baki saya").count() == 1
    body = page.locator("body").inner_text()
    assert "Baki" in body and "Sejarah" in body
    assert "My holdings" not in body and "Prove my balance" not in body
    page.get_by_role("button", name="Buktikan baki saya").click()
    page.get_by_text(re.compile(r"^Disahkan pada ketinggian \d+$")).wait_for()


def test_login_form_works_with_the_keyboard(page: Any, site: Site) -> None:
    page.goto("/login")
    for _ in range(15):  # past the skip link, the brand and the language links
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "party":
            break
    assert page.evaluate("document.activeElement.id") == "party"
    page.keyboard.type("inv-1")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "seed"
    page.keyboard.type(key_of("inv-1").seed.hex())
    page.keyboard.press("Enter")
    page.wait_for_url("**/")
    page.get_by_text("Signed in as inv-1").wait_for()


def test_a_key_that_is_not_the_partys_is_refused(page: Any, site: Site) -> None:
    page.goto("/login")
    page.get_by_label("Party id").fill("inv-1")
    page.get_by_label("Private key (64 hexadecimal characters)").fill(key_of("inv-0").seed.hex())
    page.get_by_role("button", name="Sign and log in").click()
    page.get_by_text(re.compile("^Login refused")).wait_for()
    assert page.context.cookies() == [] or all(
        c["name"] != "rantai_session" for c in page.context.cookies()
    )


def test_the_api_docs_render_in_the_browser(page: Any, site: Site) -> None:
    """Swagger UI and ReDoc draw the API from the node's own assets, under the page's CSP."""
    page.goto("/docs")
    page.get_by_text("/v1/transactions").first.wait_for()
    page.goto("/redoc")
    page.get_by_text("/v1/transactions").first.wait_for()
