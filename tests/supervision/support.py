"""Movements made by hand and a context of party facts, for the pure monitor tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from pathlib import Path

from rantai.supervision import Alert, CommittedMovement, Monitor

SAMPLE_LIST = Path(__file__).parent / "data" / "un_consolidated_sample.xml"
T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
HOUR_MS = 3_600_000
_TX = itertools.count(1)


def move(
    source: str,
    destination: str,
    amount: int,
    at_ms: int,
    *,
    instrument: str = "MYR",
    kind: str = "transfer",
) -> CommittedMovement:
    """A committed movement between the parties' ``main`` accounts (``""``: none)."""
    n = next(_TX)
    return CommittedMovement(
        kind,
        n,
        at_ms,
        f"{n:064x}",
        0,
        f"{source}:main" if source else "",
        f"{destination}:main" if destination else "",
        instrument,
        amount,
    )


class Facts:
    """A ``MonitorContext`` from dicts."""

    def __init__(
        self, residency: Mapping[str, str] | None = None, names: Mapping[str, str] | None = None
    ) -> None:
        self._residency = dict(residency or {})
        self._names = dict(names or {})

    def residency(self, party: str) -> str | None:
        return self._residency.get(party)

    def party_name(self, party: str) -> str | None:
        return self._names.get(party)


def feed(
    monitor: Monitor, movements: Iterable[CommittedMovement], ctx: Facts | None = None
) -> list[Alert]:
    """Every alert ``monitor`` raises over ``movements``, in order."""
    facts = ctx or Facts()
    return [alert for m in movements for alert in monitor.observe(m, facts)]
