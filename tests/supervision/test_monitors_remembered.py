"""What the monitors remember to be cheap per movement changes no alert: over long seeded
random sequences, each gives exactly the alerts of its definition, or of a fresh monitor."""

from __future__ import annotations

import random
from collections import defaultdict

from tests.supervision.support import HOUR_MS, SAMPLE_LIST, T0_MS, Facts, move

from rantai.supervision import (
    Alert,
    CommittedMovement,
    HighRiskJurisdiction,
    HighRiskJurisdictionConfig,
    RoundTrip,
    RoundTripConfig,
    Velocity,
    VelocityConfig,
    load_sanctions_list,
)
from rantai.supervision.monitors import DAY_MS

PARTIES = [f"p{i}" for i in range(12)]


def random_movements(seed: int, count: int) -> list[CommittedMovement]:
    """Transfers between a few parties in two instruments, time moving on by up to two days
    (often not at all: movements of one block), the odd burst of large amounts."""
    rng = random.Random(seed)
    at_ms = T0_MS
    moves = []
    for _ in range(count):
        at_ms += rng.choice((0, 0, HOUR_MS, 5 * HOUR_MS, DAY_MS, 2 * DAY_MS))
        source, destination = rng.sample(PARTIES, 2)
        amount = rng.randint(1, 100) * (50 if rng.random() < 0.05 else 1)
        moves.append(move(source, destination, amount, at_ms, instrument=rng.choice("AB")))
    return moves


def velocity_by_definition(config: VelocityConfig, moves: list[CommittedMovement]) -> list[tuple]:
    """The velocity alerts of ``moves`` from the monitor's docstring, over every movement seen
    (time never goes back here, and no party is forgotten)."""
    outflows: dict[tuple[str, str], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    first: dict[tuple[str, str], int] = {}
    fired: set[tuple[str, str, int]] = set()
    found = []
    for m in moves:
        window = m.at_ms // config.window_ms
        key = (m.source_party, m.instrument)
        first.setdefault(key, window)
        outflows[key][window] += m.amount
        if window - first[key] < config.history_windows_min or (*key, window) in fired:
            continue
        current = outflows[key][window]
        past = sum(outflows[key][w] for w in range(window - config.history_windows, window))
        if current * config.history_windows > config.factor * past:
            fired.add((*key, window))
            found.append((m.source_party, m.tx_id, current, past // config.history_windows))
    return found


def test_velocity_gives_the_alerts_of_its_definition() -> None:
    config = VelocityConfig(window_ms=DAY_MS, history_windows=5, history_windows_min=2, factor=3)
    for seed in range(5):
        moves = random_movements(seed, 3_000)
        monitor = Velocity(config)
        alerts = [a for m in moves for a in monitor.observe(m, Facts())]
        got = [
            (a.parties[0], a.txs[0], a.facts["window_total"], a.facts["average"]) for a in alerts
        ]
        expected = velocity_by_definition(config, moves)
        assert len(expected) > 20  # the sequence does exercise the monitor
        assert got == expected


def round_trips_by_definition(
    config: RoundTripConfig, moves: list[CommittedMovement]
) -> list[tuple]:
    """The round trips of ``moves``: each return matched with the oldest leg the other way
    that is unmatched, within the window and within the tolerance (no leg or pair forgotten)."""
    legs: dict[tuple[str, str, str], list[CommittedMovement]] = defaultdict(list)
    found = []
    for m in moves:
        a, b = m.source_party, m.destination_party
        cutoff = m.at_ms - config.window_ms
        out = next(
            (
                leg
                for leg in legs[(b, a, m.instrument)]
                if leg.at_ms >= cutoff
                and leg.amount * (100 - config.tolerance_pct)
                <= m.amount * 100
                <= leg.amount * (100 + config.tolerance_pct)
            ),
            None,
        )
        if out is None:
            legs[(a, b, m.instrument)].append(m)
        else:
            legs[(b, a, m.instrument)].remove(out)
            found.append(((b, a), (out.tx_id, m.tx_id), out.amount, m.amount))
    return found


def test_round_trip_gives_the_alerts_of_its_definition() -> None:
    config = RoundTripConfig(window_ms=100 * DAY_MS, tolerance_pct=20, legs_max=10_000)
    for seed in range(5):
        moves = random_movements(seed, 3_000)
        monitor = RoundTrip(config)
        alerts = [a for m in moves for a in monitor.observe(m, Facts())]
        got = [(a.parties, a.txs, a.facts["out"], a.facts["back"]) for a in alerts]
        expected = round_trips_by_definition(config, moves)
        assert len(expected) > 50
        assert got == expected


def test_high_risk_gives_the_alerts_of_a_fresh_monitor_as_names_and_residency_change() -> None:
    listed = load_sanctions_list(SAMPLE_LIST)
    config = HighRiskJurisdictionConfig(high_risk_countries=frozenset({"IR"}), sanctions=listed)
    names = ["Aminah", "Arnold Testers", "Sample Maritime", "Beatrice", "Arnie Testerson"]
    countries = ["MY", "IR", "KP", "SG", "SO"]
    rng = random.Random(7)
    remembering = HighRiskJurisdiction(config)
    got: list[Alert] = []
    expected: list[Alert] = []
    facts = Facts()
    for i, m in enumerate(random_movements(8, 2_000)):
        if i % 10 == 0:  # a block that renames parties and changes their residency
            facts = Facts(
                residency={p: rng.choice(countries) for p in rng.sample(PARTIES, 6)},
                names={p: rng.choice(names) for p in rng.sample(PARTIES, 6)},
            )
        got += remembering.observe(m, facts)
        expected += HighRiskJurisdiction(config).observe(m, facts)
    assert len(expected) > 100
    assert got == expected


def test_round_trip_forgets_the_pair_least_recently_used() -> None:
    monitor = RoundTrip(RoundTripConfig(pairs_max=2))
    at = T0_MS
    remembered = [move("a", "b", 100, at), move("c", "d", 100, at), move("a", "b", 100, at)]
    crowding = move("e", "f", 100, at + HOUR_MS)  # a third pair: c -> d is the least recent
    back = move("b", "a", 100, at + 2 * HOUR_MS)
    forgotten = move("d", "c", 100, at + 3 * HOUR_MS)
    moves = [*remembered, crowding, back, forgotten]
    alerts = [a for m in moves for a in monitor.observe(m, Facts())]
    assert [a.txs for a in alerts] == [(remembered[0].tx_id, back.tx_id)]
