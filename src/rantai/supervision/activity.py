"""Activity reports for supervisors: flows between investor groups, daily volume, settlement
fails, travel-rule records, and the agencies' access log. Pure functions over records that
``rantai.supervision.scan`` reads from committed blocks (or that a test makes by hand); each
report has ``to_json()`` and a ``*_csv`` function, so the API and the dashboard show the same
figures.

What counts as a movement here: every ``transfer`` event (plain, batch and travel transfers)
and every ``settlement_leg`` event (gross settlement), in minor units of their instrument.
Mints and burns are issuance, not trading, and are left out; a netting cycle's
``net_movement`` events are per account, not between two parties, and are left out too.

Days are calendar days in UTC+8 (Malaysia), computed on integers from the block time.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from rantai.core.dates import day_of as civil_day_of
from rantai.store.base import AccessLogRecord
from rantai.supervision.events import CommittedMovement

__all__ = [
    "CATEGORY_GROUPS",
    "RESIDENCY_GROUPS",
    "AccessLogReport",
    "DayVolume",
    "FailsReport",
    "FlowCell",
    "FlowMovement",
    "FlowReport",
    "PartyGroups",
    "SettlementFail",
    "TravelRecord",
    "access_log_csv",
    "access_log_report",
    "category_group",
    "day_of",
    "daily_volume",
    "daily_volume_csv",
    "fails_csv",
    "fails_report",
    "flow_report",
    "flows_csv",
    "residency_group",
    "travel_csv",
]


RETAIL, INSTITUTIONAL, UNCLASSIFIED = "retail", "institutional", "unclassified"
RESIDENT, NON_RESIDENT = "resident", "non_resident"
CATEGORY_GROUPS: Final = (RETAIL, INSTITUTIONAL, UNCLASSIFIED)
RESIDENCY_GROUPS: Final = (RESIDENT, NON_RESIDENT, UNCLASSIFIED)

FAILED, CANCELLED, EXPIRED = "failed", "cancelled", "expired"
FAIL_OUTCOMES: Final = (FAILED, CANCELLED, EXPIRED)


def day_of(at_ms: int) -> str:
    """The Malaysian (UTC+8) calendar day of block time ``at_ms``, as ``YYYY-MM-DD``: the
    chain's own day (``rantai.core.dates.day_of``), which schedules and record dates use."""
    return civil_day_of(at_ms).isoformat()


def category_group(category: str | None) -> str:
    """``retail`` for a retail investor; ``institutional`` for every other counting
    ``investor_category`` (sophisticated, accredited, institutional: the investors the
    securities rules treat as not retail); ``unclassified`` without a counting claim."""
    if category is None:
        return UNCLASSIFIED
    return RETAIL if category == RETAIL else INSTITUTIONAL


def residency_group(residency: str | None, home_country: str) -> str:
    """``resident`` when the counting ``residency`` claim is ``home_country``."""
    if residency is None:
        return UNCLASSIFIED
    return RESIDENT if residency == home_country else NON_RESIDENT


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


# -- flows ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartyGroups:
    """A party's groups as of one movement: category group and residency group."""

    category: str
    residency: str


@dataclass(frozen=True, slots=True)
class FlowMovement:
    """A movement with the groups of its source and destination owners at its height."""

    movement: CommittedMovement
    source: PartyGroups
    destination: PartyGroups


@dataclass(frozen=True, slots=True)
class FlowCell:
    """Units moved from one group to another, and how many movements."""

    from_group: str
    to_group: str
    amount: int
    count: int


@dataclass(frozen=True, slots=True)
class FlowReport:
    """Flows of one instrument over heights ``from_height`` to ``to_height`` (inclusive),
    as two matrices (cells with no movement left out), each in group order."""

    instrument: str
    from_height: int
    to_height: int
    by_category: tuple[FlowCell, ...]
    by_residency: tuple[FlowCell, ...]

    def to_json(self) -> dict[str, Any]:
        def cells(found: tuple[FlowCell, ...]) -> list[dict[str, Any]]:
            return [
                {"from": c.from_group, "to": c.to_group, "amount": c.amount, "count": c.count}
                for c in found
            ]

        return {
            "instrument": self.instrument,
            "from_height": self.from_height,
            "to_height": self.to_height,
            "by_category": cells(self.by_category),
            "by_residency": cells(self.by_residency),
        }


def flow_report(
    instrument: str, from_height: int, to_height: int, movements: Iterable[FlowMovement]
) -> FlowReport:
    """The flow matrices of ``instrument`` over the movements given (others are skipped)."""
    category: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    residency: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for flow in movements:
        if flow.movement.instrument != instrument:
            continue
        for cells, key in (
            (category, (flow.source.category, flow.destination.category)),
            (residency, (flow.source.residency, flow.destination.residency)),
        ):
            cell = cells[key]
            cell[0] += flow.movement.amount
            cell[1] += 1
    return FlowReport(
        instrument,
        from_height,
        to_height,
        _cells(category, CATEGORY_GROUPS),
        _cells(residency, RESIDENCY_GROUPS),
    )


def _cells(found: dict[tuple[str, str], list[int]], order: Sequence[str]) -> tuple[FlowCell, ...]:
    rank = {group: i for i, group in enumerate(order)}
    keys = sorted(found, key=lambda k: (rank[k[0]], rank[k[1]]))
    return tuple(FlowCell(a, b, found[a, b][0], found[a, b][1]) for a, b in keys)


def flows_csv(report: FlowReport) -> str:
    """One row per non-empty cell of both matrices."""
    rows = [
        (report.instrument, report.from_height, report.to_height, dimension, c.from_group,
         c.to_group, c.amount, c.count)
        for dimension, cells in (("category", report.by_category),
                                 ("residency", report.by_residency))
        for c in cells
    ]  # fmt: skip
    header = ("instrument", "from_height", "to_height", "dimension", "from_group", "to_group",
              "amount_minor", "count")  # fmt: skip
    return _csv(header, rows)


# -- daily volume --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DayVolume:
    """One UTC+8 day of an instrument: units moved, movements, distinct parties."""

    day: str
    amount: int
    count: int
    parties: int

    def to_json(self) -> dict[str, Any]:
        return {"day": self.day, "amount": self.amount, "count": self.count,
                "parties": self.parties}  # fmt: skip


def daily_volume(instrument: str, movements: Iterable[CommittedMovement]) -> tuple[DayVolume, ...]:
    """Volume of ``instrument`` per day, in day order; days without a movement left out.
    Parties are the owners of the source and destination accounts."""
    amount: Counter[str] = Counter()
    count: Counter[str] = Counter()
    parties: dict[str, set[str]] = defaultdict(set)
    for m in movements:
        if m.instrument != instrument:
            continue
        day = day_of(m.at_ms)
        amount[day] += m.amount
        count[day] += 1
        parties[day].update(p for p in (m.source_party, m.destination_party) if p)
    return tuple(DayVolume(d, amount[d], count[d], len(parties[d])) for d in sorted(count))


def daily_volume_csv(instrument: str, days: Iterable[DayVolume]) -> str:
    return _csv(
        ("instrument", "day", "amount_minor", "count", "parties"),
        ((instrument, d.day, d.amount, d.count, d.parties) for d in days),
    )


# -- settlement fails ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SettlementFail:
    """An instruction that failed, was cancelled or expired.

    ``tx_id`` is the transaction that failed or cancelled it (``""`` for an expiry, which no
    transaction causes: ``height`` is then the first block at or past the deadline, and
    ``at_ms`` the deadline). ``leg`` and ``code`` are the failing leg and its reason code
    (``None`` and ``""`` unless failed). ``parties``: the proposer and the legs' owners.
    """

    outcome: str
    height: int
    at_ms: int
    tx_id: str
    instruction: str
    leg: int | None
    code: str
    parties: tuple[str, ...]
    instruments: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "height": self.height,
            "at_ms": self.at_ms,
            "day": day_of(self.at_ms),
            "tx_id": self.tx_id or None,
            "instruction": self.instruction,
            "leg": self.leg,
            "code": self.code or None,
            "parties": list(self.parties),
            "instruments": list(self.instruments),
        }


@dataclass(frozen=True, slots=True)
class FailsReport:
    """Settlement fails in order, and their counts per day and per party, per outcome."""

    items: tuple[SettlementFail, ...]
    by_day: tuple[tuple[str, dict[str, int]], ...]
    by_party: tuple[tuple[str, dict[str, int]], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "items": [f.to_json() for f in self.items],
            "by_day": [{"day": d, **counts} for d, counts in self.by_day],
            "by_party": [{"party": p, **counts} for p, counts in self.by_party],
        }


def fails_report(fails: Iterable[SettlementFail]) -> FailsReport:
    """Count ``fails`` per UTC+8 day and per party (each party of the instruction)."""
    items = tuple(fails)
    days: dict[str, Counter[str]] = defaultdict(Counter)
    parties: dict[str, Counter[str]] = defaultdict(Counter)
    for fail in items:
        days[day_of(fail.at_ms)][fail.outcome] += 1
        for party in fail.parties:
            parties[party][fail.outcome] += 1

    def counts(found: Counter[str]) -> dict[str, int]:
        return {outcome: found[outcome] for outcome in FAIL_OUTCOMES}

    return FailsReport(
        items,
        tuple((d, counts(days[d])) for d in sorted(days)),
        tuple((p, counts(parties[p])) for p in sorted(parties)),
    )


def fails_csv(report: FailsReport) -> str:
    """One row per fail (the per-day and per-party counts are sums of these rows)."""
    return _csv(
        ("outcome", "height", "day", "at_ms", "tx_id", "instruction", "leg", "code", "parties",
         "instruments"),
        ((f.outcome, f.height, day_of(f.at_ms), f.at_ms, f.tx_id, f.instruction,
          "" if f.leg is None else f.leg, f.code, " ".join(f.parties), " ".join(f.instruments))
         for f in report.items),
    )  # fmt: skip


# -- travel-rule records -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TravelRecord:
    """A committed transfer that carried travel-rule data. ``commitment`` is the digest of
    the sealed payload (``rantai.core.travel.travel_commitment``); the payload itself stays
    sealed to its readers and is never part of a report."""

    tx_id: str
    height: int
    at_ms: int
    instrument: str
    amount: int
    source: str
    destination: str
    commitment: str
    readers: tuple[str, ...]

    @property
    def originator(self) -> str:
        return self.source.rsplit(":", 1)[0]

    @property
    def beneficiary(self) -> str:
        return self.destination.rsplit(":", 1)[0]

    def to_json(self) -> dict[str, Any]:
        return {
            "tx_id": self.tx_id,
            "height": self.height,
            "at_ms": self.at_ms,
            "instrument": self.instrument,
            "amount": self.amount,
            "originator": self.originator,
            "beneficiary": self.beneficiary,
            "source": self.source,
            "destination": self.destination,
            "commitment": self.commitment,
            "readers": list(self.readers),
        }


def travel_csv(records: Iterable[TravelRecord]) -> str:
    return _csv(
        ("tx_id", "height", "at_ms", "instrument", "amount_minor", "originator", "beneficiary",
         "source", "destination", "commitment"),
        ((r.tx_id, r.height, r.at_ms, r.instrument, r.amount, r.originator, r.beneficiary,
          r.source, r.destination, r.commitment) for r in records),
    )  # fmt: skip


# -- the access log ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccessLogReport:
    """Entries of the access log in a time window (of one agency, if asked), and how many
    reads each agency made in it."""

    items: tuple[AccessLogRecord, ...]
    by_agency: tuple[tuple[str, int], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "items": [
                {"seq": r.seq, "at_ms": r.at_ms, "party": r.party, "method": r.method,
                 "path": r.path, "query": r.query, "status": r.status, "hash": r.hash.hex()}
                for r in self.items
            ],
            "by_agency": [{"agency": a, "reads": n} for a, n in self.by_agency],
        }  # fmt: skip


def access_log_report(
    records: Iterable[AccessLogRecord],
    *,
    agency: str | None = None,
    from_ms: int | None = None,
    to_ms: int | None = None,
) -> AccessLogReport:
    """The entries with ``from_ms <= at_ms < to_ms`` (bounds optional), of ``agency`` if
    given, in seq order."""
    items = tuple(
        r
        for r in records
        if (agency is None or r.party == agency)
        and (from_ms is None or r.at_ms >= from_ms)
        and (to_ms is None or r.at_ms < to_ms)
    )
    reads = Counter(r.party for r in items)
    return AccessLogReport(items, tuple(sorted(reads.items())))


def access_log_csv(report: AccessLogReport) -> str:
    return _csv(
        ("seq", "at_ms", "party", "method", "path", "query", "status", "hash"),
        ((r.seq, r.at_ms, r.party, r.method, r.path, r.query, r.status, r.hash.hex())
         for r in report.items),
    )  # fmt: skip
