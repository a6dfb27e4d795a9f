"""Each monitor fires on its crafted pattern and stays quiet on a near miss."""

from __future__ import annotations

from tests.supervision.support import HOUR_MS, SAMPLE_LIST, T0_MS, Facts, feed, move

from rantai.supervision import (
    CommittedMovement,
    DormantAccount,
    DormantAccountConfig,
    HighRiskJurisdiction,
    HighRiskJurisdictionConfig,
    LargeTransfer,
    LargeTransferConfig,
    RoundTrip,
    RoundTripConfig,
    Structuring,
    StructuringConfig,
    Velocity,
    VelocityConfig,
    load_sanctions_list,
)
from rantai.supervision.monitors import DAY_MS, default_monitors

# -- large transfers ---------------------------------------------------------------------------


def large() -> LargeTransfer:
    return LargeTransfer(LargeTransferConfig(threshold_minor=1_000, per_instrument={"BOND": 50}))


def test_large_transfer_fires_at_the_threshold() -> None:
    m = move("a", "b", 1_000, T0_MS)
    [alert] = feed(large(), [m])
    assert (alert.monitor, alert.parties, alert.txs) == ("large_transfer", ("a", "b"), (m.tx_id,))
    assert alert.facts["threshold"] == 1_000
    assert 60 <= alert.score < 100
    [bond] = feed(large(), [move("a", "b", 50, T0_MS, instrument="BOND")])  # its own threshold
    assert bond.facts["threshold"] == 50


def test_large_transfer_is_quiet_just_below() -> None:
    moves = [
        move("a", "b", 999, T0_MS),
        move("a", "b", 49, T0_MS, instrument="BOND"),
        move("", "b", 10**9, T0_MS, kind="mint"),  # issuance is not a transfer
    ]
    assert feed(large(), moves) == []


# -- structuring -------------------------------------------------------------------------------


def structuring() -> Structuring:
    return Structuring(
        StructuringConfig(threshold_minor=1_000, band_pct=10, count_min=3, window_ms=DAY_MS)
    )


def test_structuring_fires_on_three_just_under_in_a_day() -> None:
    moves = [
        move("a", "b", 950, T0_MS),
        move("a", "c", 990, T0_MS + 5 * HOUR_MS),
        move("a", "d", 900, T0_MS + 20 * HOUR_MS),
        move("a", "e", 999, T0_MS + 21 * HOUR_MS),  # the window emptied: one alert per run
    ]
    [alert] = feed(structuring(), moves)
    assert alert.monitor == "structuring"
    assert alert.parties == ("a", "b", "c", "d")
    assert alert.txs == tuple(m.tx_id for m in moves[:3])
    assert (alert.facts["count"], alert.facts["total"]) == (3, 2_840)


def test_structuring_is_quiet_below_the_band_outside_the_window_or_at_the_threshold() -> None:
    below_band = [
        move("a", "b", 950, T0_MS),
        move("a", "b", 990, T0_MS + HOUR_MS),
        move("a", "b", 899, T0_MS + 2 * HOUR_MS),
    ]
    spread_out = [
        move("p", "b", 950, T0_MS),
        move("p", "b", 990, T0_MS + HOUR_MS),
        move("p", "b", 950, T0_MS + DAY_MS),  # the first has left the window
    ]
    at_threshold = [move("q", "b", 1_000, T0_MS + i * HOUR_MS) for i in range(3)]
    two_instruments = [
        move("r", "b", 950, T0_MS),
        move("r", "b", 950, T0_MS + HOUR_MS),
        move("r", "b", 950, T0_MS + HOUR_MS, instrument="USD"),
    ]
    monitor = structuring()
    assert feed(monitor, below_band + spread_out + at_threshold + two_instruments) == []


# -- velocity ----------------------------------------------------------------------------------


def velocity() -> Velocity:
    return Velocity(VelocityConfig(history_windows=10, history_windows_min=3, factor=5))


def history(party: str) -> list[CommittedMovement]:
    """100 a day for 10 days: an average of 100 per day."""
    return [move(party, "b", 100, T0_MS + day * DAY_MS) for day in range(10)]


def test_velocity_fires_above_factor_times_own_average() -> None:
    day10 = T0_MS + 10 * DAY_MS
    burst = [move("a", "b", 300, day10), move("a", "c", 201, day10 + HOUR_MS)]
    [alert] = feed(velocity(), [*history("a"), *burst, move("a", "d", 500, day10 + 2 * HOUR_MS)])
    assert (alert.monitor, alert.parties, alert.txs) == ("velocity", ("a",), (burst[1].tx_id,))
    assert (alert.facts["window_total"], alert.facts["average"]) == (501, 100)


def test_velocity_is_quiet_at_the_limit_and_without_history() -> None:
    day10 = T0_MS + 10 * DAY_MS
    at_limit = [move("a", "b", 300, day10), move("a", "c", 200, day10 + HOUR_MS)]  # 500 = 5 x 100
    newcomer = [move("n", "b", 10, T0_MS), move("n", "b", 10**6, T0_MS + 2 * DAY_MS)]
    assert feed(velocity(), [*history("a"), *at_limit, *newcomer]) == []


# -- round-tripping ----------------------------------------------------------------------------


def round_trip() -> RoundTrip:
    return RoundTrip(RoundTripConfig(window_ms=7 * DAY_MS, tolerance_pct=10))


def test_round_trip_fires_when_a_similar_amount_comes_back() -> None:
    out = move("a", "b", 1_000, T0_MS)
    back = move("b", "a", 950, T0_MS + 3 * DAY_MS)
    [alert] = feed(round_trip(), [out, move("b", "c", 1_000, T0_MS + HOUR_MS), back])
    assert (alert.monitor, alert.parties, alert.txs) == (
        "round_trip",
        ("a", "b"),
        (out.tx_id, back.tx_id),
    )
    assert (alert.facts["out"], alert.facts["back"]) == (1_000, 950)


def test_round_trip_is_quiet_for_other_amounts_late_returns_and_other_instruments() -> None:
    moves = [
        move("a", "b", 1_000, T0_MS),
        move("b", "a", 890, T0_MS + HOUR_MS),  # 11% less
        move("c", "d", 1_000, T0_MS),
        move("d", "c", 1_000, T0_MS + 7 * DAY_MS + 1),  # a millisecond past the window
        move("e", "f", 1_000, T0_MS),
        move("f", "e", 1_000, T0_MS + HOUR_MS, instrument="USD"),
        move("g", "h", 1_000, T0_MS),
        move("g", "h", 1_000, T0_MS + HOUR_MS),  # the same direction again is no return
    ]
    assert feed(round_trip(), moves) == []


# -- sanctioned or high-risk jurisdictions -----------------------------------------------------


def jurisdictions() -> HighRiskJurisdiction:
    listed = load_sanctions_list(SAMPLE_LIST)
    return HighRiskJurisdiction(
        HighRiskJurisdictionConfig(high_risk_countries=frozenset({"IR"}), sanctions=listed)
    )


def test_high_risk_fires_on_residency_and_on_a_listed_name() -> None:
    facts = Facts(
        residency={"a": "MY", "k": "KP", "i": "IR"},
        names={"a": "Aminah", "s": "Sample Shipping Trading Co", "k": "Kim"},
    )
    by_country = move("a", "k", 10, T0_MS)  # KP: a country of the list
    configured = move("i", "a", 10, T0_MS)  # IR: configured
    by_name = move("s", "a", 10, T0_MS)
    alerts = feed(jurisdictions(), [by_country, configured, by_name], facts)
    assert [(a.parties, a.score) for a in alerts] == [(("k",), 70), (("i",), 70), (("s",), 95)]
    assert alerts[0].facts["destination_country"] == "KP"
    assert alerts[2].facts["source_listed"] == "KPe.950"


def test_high_risk_is_quiet_for_other_countries_and_near_names() -> None:
    facts = Facts(
        residency={"a": "MY", "k": "KR", "n": "SG"},
        names={"a": "Arnold Testers", "k": "Sample Shipping", "n": "Beatrice"},
    )
    moves = [move("a", "k", 10, T0_MS), move("k", "n", 10, T0_MS), move("u", "a", 10, T0_MS)]
    assert feed(jurisdictions(), moves, facts) == []


# -- dormant accounts --------------------------------------------------------------------------


def dormant() -> DormantAccount:
    return DormantAccount(DormantAccountConfig(dormant_ms=180 * DAY_MS))


def test_dormant_account_fires_when_it_wakes_up() -> None:
    wake = move("a", "b", 10, T0_MS + 180 * DAY_MS)
    [alert] = feed(dormant(), [move("", "a", 10, T0_MS, kind="mint"), wake])
    assert (alert.monitor, alert.parties, alert.txs) == ("dormant_account", ("a",), (wake.tx_id,))
    assert alert.facts["idle_ms"] == 180 * DAY_MS


def test_dormant_account_is_quiet_just_before_and_for_new_accounts() -> None:
    moves = [
        move("", "a", 10, T0_MS, kind="mint"),
        move("a", "b", 10, T0_MS + 180 * DAY_MS - 1),
        move("c", "b", 10, T0_MS + 400 * DAY_MS),  # never seen before: new, not dormant
        move("b", "a", 10, T0_MS + 400 * DAY_MS),  # b received just now: active
    ]
    assert feed(dormant(), moves) == []


def test_default_monitors_have_distinct_names() -> None:
    names = [m.name for m in default_monitors()]
    assert len(set(names)) == len(names) == 6
