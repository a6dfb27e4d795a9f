"""Concentration and register reports: exact integer figures, and the routes' access rules."""

from __future__ import annotations

import csv
import io

import pytest

from rantai.supervision.reports import concentration, register_csv


def test_hhi_runs_from_dispersed_to_one_holder() -> None:
    assert concentration([("a:main", 5)]).hhi == 10_000
    assert concentration([("a:main", 5), ("b:main", 5)]).hhi == 5_000
    assert concentration([(f"p{i}:main", 1) for i in range(100)]).hhi == 100
    assert concentration([]).hhi == 0 and concentration([]).holders == 0


def test_hhi_rounds_down_and_sums_an_owners_accounts() -> None:
    # Shares 1/3 and 2/3: (1 + 4) / 9 * 10,000 = 5,555.5..., rounded down.
    found = concentration([("a:main", 1), ("b:main", 1), ("b:other", 1)])
    assert found.hhi == 5_555 and found.holders == 2 and found.supply == 3
    assert found.top == (("b", 2), ("a", 1))


def test_top_holders_largest_first_ties_by_party() -> None:
    found = concentration([("c:main", 2), ("a:main", 2), ("b:main", 9)], top=2)
    assert found.top == (("b", 9), ("a", 2))
    with pytest.raises(ValueError, match="top"):
        concentration([], top=0)


def test_register_csv_rows() -> None:
    rows = list(csv.reader(io.StringIO(register_csv("BOND1", 7, [("a:main", 5), ("b:main", 1)]))))
    assert rows == [
        ["instrument", "height", "account", "units_minor"],
        ["BOND1", "7", "a:main", "5"],
        ["BOND1", "7", "b:main", "1"],
    ]
