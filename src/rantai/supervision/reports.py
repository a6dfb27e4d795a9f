"""Reports over a holder register: concentration (top holders, Herfindahl-Hirschman index) and
the register itself as CSV. Pure functions over ``(account, units)`` rows; the API reads the
register at the height asked for and hands it here.

The HHI is the sum of the squared market shares in percent, so it runs from near 0 (dispersed)
to 10,000 (one holder). Computed on integers: ``sum(units**2) * 10_000 // supply**2``, rounded
down, so no float touches a figure a supervisor may cite. Holders are identities (parties):
accounts of one owner are summed, as the max-holders rule counts them.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

__all__ = ["Concentration", "concentration", "register_csv"]

HHI_MAX: Final = 10_000
TOP_MAX: Final = 100


@dataclass(frozen=True, slots=True)
class Concentration:
    """How concentrated an instrument's holdings are, at one height."""

    holders: int
    supply: int
    hhi: int  # 0 to 10,000, rounded down
    top: tuple[tuple[str, int], ...]  # (party, units), largest first, ties by party id


def concentration(rows: Iterable[tuple[str, int]], top: int = 10) -> Concentration:
    """The concentration of the holdings ``rows`` (account, units), per owning party."""
    if not 0 < top <= TOP_MAX:
        raise ValueError(f"top: 1 to {TOP_MAX}")
    per_party: dict[str, int] = defaultdict(int)
    for account, units in rows:
        if units > 0:
            per_party[account.rsplit(":", 1)[0]] += units
    supply = sum(per_party.values())
    hhi = 0 if supply == 0 else sum(u * u for u in per_party.values()) * HHI_MAX // supply**2
    ranked = sorted(per_party.items(), key=lambda item: (-item[1], item[0]))
    return Concentration(len(per_party), supply, hhi, tuple(ranked[:top]))


def register_csv(instrument: str, height: int, rows: Iterable[tuple[str, int]]) -> str:
    """The register as CSV: one row per account, with the instrument and height on each."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["instrument", "height", "account", "units_minor"])
    for account, units in rows:
        writer.writerow([instrument, height, account, units])
    return out.getvalue()
