"""A market for lifecycle tests: a bank issuing ringgit, an issuer, investors holding cash, a
Shariah adviser, an oracle; helpers to move block time to a civil date and to check that
every sen is accounted for."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.support import Chain

from rantai import sdk
from rantai.core import codes
from rantai.core.block import Receipt
from rantai.core.ids import account_id
from rantai.core.kinds.instruments import CreateInstrument, Mint
from rantai.core.kinds.parties import GrantRole, OpenAccount
from rantai.core.kinds.settlement import AffirmSettlement, ProposeSettlement
from rantai.core.settlement import Leg

DAY_MS = 86_400_000
MYT_MS = 8 * 3_600_000
ISSUER = account_id("issuer")
RESIDUE = account_id("issuer", "residue")
CHARITY = account_id("charity")
CASH = "MYR"
CASH_EACH = 10**9  # RM 10 million per investor, in sen


def at(day: str, hour: int = 10) -> int:
    """Block time at ``hour`` o'clock Malaysia time on ``day``."""
    days = (date.fromisoformat(day) - date(1970, 1, 1)).days
    return days * DAY_MS - MYT_MS + hour * 3_600_000


def ok(receipt: Receipt) -> Receipt:
    assert receipt.code == codes.OK, receipt
    return receipt


def events(receipt: Receipt, name: str) -> list[dict[str, Any]]:
    return [e.attrs for e in receipt.events if e.name == name]


class LifecycleMarket(Chain):
    def __init__(self, investors: int = 5) -> None:
        super().__init__()
        self.register("bank", (), "organisation")
        ok(self.run("BNM", GrantRole("bank", "cash_issuer")))
        ok(self.run("bank", CreateInstrument(CASH, "cash", "Ringgit deposit token", 2, 10**17)))
        self.register("issuer", ("issuer",), "organisation")
        ok(self.run("issuer", OpenAccount("residue", "own")))
        self.register("charity", (), "organisation")
        self.register("adviser", (), "organisation")
        ok(self.run("SC", GrantRole("adviser", "shariah_adviser")))
        self.register("oracle", (), "organisation")
        ok(self.run("BNM", GrantRole("oracle", "oracle")))
        ok(self.run("bank", Mint(CASH, ISSUER, 10**12, "issuer deposit")))
        self.investors = [account_id(f"inv-{i}") for i in range(investors)]
        for i, account in enumerate(self.investors):
            self.register(f"inv-{i}")
            ok(self.run("bank", Mint(CASH, account, CASH_EACH, f"deposit {i}")))

    def on(self, day: str, hour: int = 10) -> None:
        self.now_ms = at(day, hour) - 1_000  # the next block is stamped one second later

    def dvp(self, seller: str, buyer: str, instrument: str, units: int, price: int) -> str:
        """A secondary trade, delivery versus payment, affirmed by both sides."""
        legs = (Leg(seller, buyer, instrument, units), Leg(buyer, seller, CASH, price))
        proposal = ok(self.run(_owner(seller), ProposeSettlement(legs, self.now_ms + DAY_MS, "")))
        instruction = proposal.tx_id.hex()
        ok(self.run(_owner(seller), AffirmSettlement(instruction)))
        receipt = ok(self.run(_owner(buyer), AffirmSettlement(instruction)))
        assert events(receipt, "settlement_settled"), receipt
        return instruction

    def holdings(self, instrument: str) -> dict[str, int]:
        suffix = f"/{instrument}"
        return {
            k[4 : -len(suffix)]: v
            for k, v in self.ledger.values.items()
            if k.startswith("bal/") and k.endswith(suffix)
        }

    def supply(self, instrument: str) -> int:
        value: int = self.ledger.values[f"inst/{instrument}"].supply
        return value

    def assert_balanced(self, *instruments: str) -> None:
        """Every instrument's supply is the sum of its balances, to the sen."""
        for code in (CASH, *instruments):
            assert self.supply(code) == sum(self.holdings(code).values()), code


def _owner(account: str) -> str:
    return account.rsplit(":", 1)[0]


def my_calendar(*holidays: str) -> Any:
    return sdk.calendar("MY-KL", (6, 7), holidays)
