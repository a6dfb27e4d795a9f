"""Browser tests of the dashboard: a real node served on loopback, driven by Debian's Chromium.

The world is small and built with signed transactions through the node: the test harness's
market (issuer ``issuer`` with bond BOND1, investors inv-0, inv-1, inv-2), a transfer large
enough for the AML monitors to raise an alert, and an open proposal by SC to freeze inv-2's
account that a second agency may approve. The node's executor then runs in its thread and
uvicorn serves the API and the dashboard with demo logins for a few identities, exactly as
``rantai up --demo`` does.

Playwright drives ``/usr/bin/chromium`` (``make test`` installs it with apt when missing);
``playwright install`` is never run: nothing is downloaded. Every test saves a screenshot to
``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import playwright.sync_api as playwright_sync
import pytest
from tests.api.support import envelope
from tests.node.harness import market, new_node
from tests.support import GENESIS_MS, key_of

from rantai.cli.serve import serving_in_background
from rantai.core import codes
from rantai.core.actions import FreezeAccount
from rantai.core.governance import LegalBasis
from rantai.core.ids import account_id
from rantai.core.kinds.governance import Propose
from rantai.core.kinds.transfers import Transfer
from rantai.crypto.hashing import sha256
from rantai.node.datadir import ChainFiles, save_key
from rantai.node.node import Node
from rantai.web import DemoLogins

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
LARGE_MINOR = 2_000_000_000  # above the large-transfer monitor's default threshold
DAY_MS = 86_400_000
TIMEOUT_MS = 15_000


@dataclass(frozen=True)
class Site:
    url: str
    node: Node
    proposal: str  # hex id of SC's open proposal to freeze inv-2:main
    large_tx: str  # hex id of the large BOND1 transfer inv-0 -> inv-1


def _commit(node: Node, sender: str, body: Any) -> str:
    """Sign ``body`` as ``sender``, commit it in a block, and return its tx id (hex)."""
    raw = envelope(node, sender, body)
    assert node.submit([raw])[0].code == codes.OK
    node.produce_block()
    tx_id = sha256(raw)
    committed = node.receipt(tx_id)
    assert committed is not None and committed[1].code == codes.OK, committed
    return tx_id.hex()


def _build(data: Path) -> tuple[Node, str, str]:
    node = new_node(data)
    market(node, investors=3, minted=5_000_000_000)
    transfer = Transfer(account_id("inv-0"), account_id("inv-1"), "BOND1", LARGE_MINOR, "")
    large_tx = _commit(node, "inv-0", transfer)
    basis = LegalBasis("court_order", "HC-2026-001", sha256(b"order"))
    propose = Propose(
        FreezeAccount(account_id("inv-2")), basis, "court order", GENESIS_MS + 30 * DAY_MS, 0
    )
    return node, _commit(node, "SC", propose), large_tx


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    data = tmp_path_factory.mktemp("e2e") / "chain"
    node, proposal, large_tx = _build(data)
    keys = ChainFiles(data)
    for party in ("issuer", "inv-0", "inv-1"):  # genesis parties have key files already
        save_key(keys.key(party), party, key_of(party))
    demo = DemoLogins(keys.keys, ("SC", "BNM", "issuer", "inv-0"))
    node.start()
    try:
        with serving_in_background(node, demo_logins=demo) as url:
            yield Site(url, node, proposal, large_tx)
    finally:
        node.stop()
        node.store.close()


# Module-scoped: Playwright's sync API keeps an event loop running in this thread until it
# stops, which would break every later test that runs one.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None:  # fail, never skip: `make test` installs it
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium", False)
    with playwright_sync.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, site: Site, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context (no cookies, no sessionStorage) per test; a screenshot of
    where the test ended, pass or fail."""
    context = browser.new_context(base_url=site.url, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield opened
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        opened.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
        context.close()
    assert errors == [], f"script errors in the page: {errors}"


def demo_login(page: Any, party: str) -> None:
    """Log in through the login page's demo identity button (signs in the browser)."""
    page.goto("/login")
    page.get_by_role("button", name=f"Log in as {party}").click()
    page.wait_for_url("**/")
    page.get_by_text(f"Signed in as {party}").wait_for()
