"""AML monitors: small, pure, deterministic classes over committed movements.

Each monitor has a frozen, typed config and one method, ``observe(movement, ctx)``, that
returns the alerts the movement raises (usually none). A monitor keeps what it needs in memory,
bounded: per-party windows pruned by time and capped in length, and at most ``parties_max``
parties (the least recently seen is forgotten first). Output depends only on the movements fed
in, in order, and on ``ctx`` (the ledger state at the movement's height), so replaying the
chain rebuilds the same alerts (``rantai.supervision.supervisor``).

| monitor | fires when |
|---|---|
| ``large_transfer`` | one transfer of at least ``threshold_minor`` |
| ``structuring`` | ``count_min`` transfers just under the threshold within ``window_ms`` |
| ``velocity`` | a window's outflow over ``factor`` x the party's own average |
| ``round_trip`` | A -> B, then B -> A of a similar amount, within ``window_ms`` |
| ``high_risk_jurisdiction`` | a party resides in a high-risk country or is on the list |
| ``dormant_account`` | an account idle for ``dormant_ms`` sends a transfer |

Amounts are integers in each instrument's minor units; thresholds may differ per instrument
(``per_instrument``). Scores are integers from 0 to 100.

A monitor that remembers movements can also write what it remembers (``checkpoint``) and
take it back (``restore``), so a restarted supervisor resumes from its last checkpoint
instead of replaying the chain from genesis (docs/decisions/supervision-checkpoints.md). A
checkpoint names the monitor's config: one taken under another config is refused, and the
supervisor replays instead, since what a monitor remembers depends on its config.
"""

from __future__ import annotations

import struct
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Generic, Protocol, TypeVar, runtime_checkable

import msgspec

from rantai.core._values import NativeValueTable
from rantai.supervision.events import CommittedMovement
from rantai.supervision.sanctions import SanctionsList

__all__ = [
    "DAY_MS",
    "Alert",
    "Checkpointed",
    "DormantAccount",
    "DormantAccountConfig",
    "HighRiskJurisdiction",
    "HighRiskJurisdictionConfig",
    "LargeTransfer",
    "LargeTransferConfig",
    "Monitor",
    "MonitorContext",
    "RoundTrip",
    "RoundTripConfig",
    "Structuring",
    "StructuringConfig",
    "Velocity",
    "VelocityConfig",
    "default_monitors",
]

DAY_MS: Final = 86_400_000
PARTIES_MAX: Final = 100_000
NAMES_MAX: Final = 100_000  # registered names whose sanctions match is remembered
SCORE_MAX: Final = 100

_K = TypeVar("_K")
_V = TypeVar("_V")


@dataclass(frozen=True, slots=True)
class Alert:
    """What a monitor found: who, which transactions, how suspicious, and the facts."""

    monitor: str
    height: int
    at_ms: int
    parties: tuple[str, ...]
    txs: tuple[str, ...]  # hex ids, in order of commitment
    score: int
    facts: Mapping[str, str | int] = field(default_factory=dict)


class MonitorContext(Protocol):
    """Ledger facts about parties at the height of the movement being observed."""

    def residency(self, party: str) -> str | None:
        """The party's country (ISO 3166-1 alpha-2) from its residency claim, or ``None``."""
        ...

    def party_name(self, party: str) -> str | None:
        """The party's registered name, or ``None``."""
        ...


class Monitor(Protocol):
    """A pluggable monitor: a name and ``observe``."""

    name: str

    def observe(self, movement: CommittedMovement, ctx: MonitorContext) -> list[Alert]:
        """The alerts ``movement`` raises, given everything observed before it."""
        ...


@runtime_checkable
class Checkpointed(Protocol):
    """A monitor whose memory can be written and taken back (see the module docstring)."""

    def checkpoint(self) -> bytes:
        """What the monitor remembers, with its config, as bytes."""
        ...

    def restore(self, checkpoint: bytes) -> bool:
        """Take back a ``checkpoint``; False (and nothing changed) when it was taken under
        another config or cannot be read."""
        ...


def _checkpoint(config: object, entries: object) -> bytes:
    """A checkpoint: ``[repr(config), entries]``, the entries in the monitor's order."""
    return msgspec.msgpack.encode((repr(config), entries))


def _entries_of(checkpoint: bytes, config: object, entries_type: Any) -> Any:
    """The entries of ``checkpoint``, as ``entries_type``, if it was taken under ``config``;
    else None. The entries are decoded once, straight to their type: at a million accounts
    an untyped copy first would cost hundreds of MB."""
    try:
        taken_under, entries = msgspec.msgpack.decode(checkpoint, type=tuple[str, msgspec.Raw])
        if taken_under != repr(config):
            return None
        return msgspec.msgpack.decode(entries, type=entries_type)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


class _Lru(Generic[_K, _V]):
    """A map that forgets its least recently used entries beyond ``size_max``."""

    def __init__(self, size_max: int) -> None:
        self._items: OrderedDict[_K, _V] = OrderedDict()
        self._size_max = size_max

    def items(self) -> list[tuple[_K, _V]]:
        """Every entry, least recently used first. (Not the ``OrderedDict`` itself for an
        encoder: msgspec reads one in insertion order, not the order ``move_to_end`` keeps.)"""
        return list(self._items.items())

    def replace(self, items: Iterable[tuple[_K, _V]]) -> None:
        """Hold ``items`` (least recently used first) and nothing else."""
        self._items = OrderedDict(items)
        while len(self._items) > self._size_max:
            self._items.popitem(last=False)

    def get(self, key: _K) -> _V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def get_or_add(self, key: _K, make: Callable[[], _V]) -> _V:
        """``get``, or else ``put`` a new ``make()``: one lookup where a ``get`` and a ``put``
        of the same key would make two."""
        value = self._items.get(key)
        if value is None:
            value = make()
            self.put(key, value)
        else:
            self._items.move_to_end(key)
        return value

    def put(self, key: _K, value: _V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._size_max:
            self._items.popitem(last=False)

    def pop(self, key: _K) -> None:
        self._items.pop(key, None)


def _threshold(default: int, per_instrument: Mapping[str, int], instrument: str) -> int:
    return per_instrument.get(instrument, default)


def _score(base: int, excess: int, scale: int) -> int:
    """``base`` plus up to ``SCORE_MAX - base`` as ``excess`` grows to ``scale``."""
    if scale <= 0:
        return base
    return min(SCORE_MAX, base + (SCORE_MAX - base) * min(excess, scale) // scale)


# -- large transfers ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LargeTransferConfig:
    threshold_minor: int = 1_000_000_000
    per_instrument: Mapping[str, int] = field(default_factory=dict)


class LargeTransfer:
    """A single transfer at or above the threshold. Score 60, up to 100 at 10x."""

    name = "large_transfer"

    def __init__(self, config: LargeTransferConfig | None = None) -> None:
        self.config = config or LargeTransferConfig()

    def checkpoint(self) -> bytes:
        return b""  # it remembers nothing

    def restore(self, checkpoint: bytes) -> bool:
        return checkpoint == b""

    def observe(self, movement: CommittedMovement, ctx: MonitorContext) -> list[Alert]:
        if movement.kind != "transfer":
            return []
        c = self.config
        threshold = _threshold(c.threshold_minor, c.per_instrument, movement.instrument)
        if movement.amount < threshold:
            return []
        m = movement
        return [
            Alert(
                self.name,
                m.height,
                m.at_ms,
                (m.source_party, m.destination_party),
                (m.tx_id,),
                _score(60, m.amount - threshold, 9 * threshold),
                {"instrument": m.instrument, "amount": m.amount, "threshold": threshold},
            )
        ]


# -- structuring -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StructuringConfig:
    threshold_minor: int = 1_000_000_000
    per_instrument: Mapping[str, int] = field(default_factory=dict)
    band_pct: int = 10  # "just under": from threshold x (100 - band_pct)% up to the threshold
    count_min: int = 3
    window_ms: int = DAY_MS
    parties_max: int = PARTIES_MAX


class Structuring:
    """Several transfers just under the threshold from one party in one instrument, within
    a window: the pattern of splitting a reportable amount. Score 70, up to 100 at 2x
    ``count_min``. The window is emptied when it fires, so one run raises one alert."""

    name = "structuring"

    def __init__(self, config: StructuringConfig | None = None) -> None:
        self.config = config or StructuringConfig()
        self._windows: _Lru[tuple[str, str], deque[CommittedMovement]] = _Lru(
            self.config.parties_max
        )

    def checkpoint(self) -> bytes:
        return _checkpoint(self.config, [(k, list(w)) for k, w in self._windows.items()])

    def restore(self, checkpoint: bytes) -> bool:
        Entry = tuple[tuple[str, str], list[CommittedMovement]]  # noqa: N806
        entries = _entries_of(checkpoint, self.config, list[Entry])
        if entries is None:
            return False
        self._windows.replace((k, deque(w, maxlen=self.config.count_min)) for k, w in entries)
        return True

    def observe(self, movement: CommittedMovement, ctx: MonitorContext) -> list[Alert]:
        c = self.config
        m = movement
        if m.kind != "transfer":
            return []
        threshold = _threshold(c.threshold_minor, c.per_instrument, m.instrument)
        if not threshold * (100 - c.band_pct) <= m.amount * 100 < threshold * 100:
            return []
        key = (m.source_party, m.instrument)
        window = self._windows.get(key) or deque(maxlen=c.count_min)
        while window and window[0].at_ms <= m.at_ms - c.window_ms:
            window.popleft()
        window.append(m)
        self._windows.put(key, window)
        if len(window) < c.count_min:
            return []
        self._windows.pop(key)
        parties = tuple(dict.fromkeys((m.source_party, *(w.destination_party for w in window))))
        return [
            Alert(
                self.name,
                m.height,
                m.at_ms,
                parties,
                tuple(w.tx_id for w in window),
                _score(70, len(window) - c.count_min, c.count_min),
                {
                    "instrument": m.instrument,
                    "count": len(window),
                    "total": sum(w.amount for w in window),
                    "threshold": threshold,
                },
            )
        ]


# -- velocity ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VelocityConfig:
    window_ms: int = DAY_MS
    history_windows: int = 30  # the baseline: the average outflow over this many windows
    history_windows_min: int = 7  # a party seen for fewer windows has no baseline yet
    factor: int = 5
    amount_min_minor: int = 0  # outflows below this never fire
    parties_max: int = PARTIES_MAX


class _Outflow(msgspec.Struct, gc=False):
    # Not tracked by the cyclic collector (it refers to no container but a dict of ints):
    # a hundred thousand of them otherwise made every full collection walk them all.
    first_window: int
    totals: dict[int, int]  # window index -> outflow in it (the last history_windows + 1)
    fired_window: int = -1
    # The total of ``totals`` before window ``past_window``: only an outflow of another
    # window changes it, so it is summed (and old windows pruned) when the window changes.
    past_window: int | None = None
    past: int = 0


class Velocity:
    """A party's outflow of one instrument in the current window above ``factor`` times its
    own average per window over the previous ``history_windows``. One alert per party and
    window; score 60, up to 100 at 4x the limit."""

    name = "velocity"

    def __init__(self, config: VelocityConfig | None = None) -> None:
        self.config = config or VelocityConfig()
        self._parties: _Lru[tuple[str, str], _Outflow] = _Lru(self.config.parties_max)

    def checkpoint(self) -> bytes:
        return _checkpoint(self.config, self._parties.items())

    def restore(self, checkpoint: bytes) -> bool:
        entries = _entries_of(checkpoint, self.config, list[tuple[tuple[str, str], _Outflow]])
        if entries is None:
            return False
        self._parties.replace((k, flow) for k, flow in entries)
        return True

    def observe(self, movement: CommittedMovement, ctx: MonitorContext) -> list[Alert]:
        c = self.config
        m = movement
        if m.kind != "transfer":
            return []
        window = m.at_ms // c.window_ms
        key = (m.source_party, m.instrument)
        flow = self._parties.get_or_add(key, lambda: _Outflow(window, {}))
        flow.totals[window] = flow.totals.get(window, 0) + m.amount
        if flow.past_window != window:
            for old in [w for w in flow.totals if w < window - c.history_windows]:
                del flow.totals[old]
            flow.past_window = window
            flow.past = sum(total for w, total in flow.totals.items() if w < window)
        if window - flow.first_window < c.history_windows_min or flow.fired_window == window:
            return []
        current = flow.totals[window]
        past = flow.past
        # current > factor x past / history_windows, in integers
        if current < c.amount_min_minor or current * c.history_windows <= c.factor * past:
            return []
        flow.fired_window = window
        limit = c.factor * past // c.history_windows
        return [
            Alert(
                self.name,
                m.height,
                m.at_ms,
                (m.source_party,),
                (m.tx_id,),
                _score(60, current - limit, 4 * max(limit, 1)),
                {
                    "instrument": m.instrument,
                    "window_total": current,
                    "average": past // c.history_windows,
                    "factor": c.factor,
                },
            )
        ]


# -- round-tripping ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoundTripConfig:
    window_ms: int = 7 * DAY_MS
    tolerance_pct: int = 10  # the return is within this much of the outgoing amount
    amount_min_minor: int = 0
    legs_max: int = 16  # outgoing legs remembered per pair of parties
    pairs_max: int = PARTIES_MAX


_LEG = struct.Struct("<qq32s")  # time, amount, tx id
_TX_ID_BYTES = 32


def _leg(movement: CommittedMovement) -> bytes:
    tx_id = bytes.fromhex(movement.tx_id)
    if len(tx_id) != _TX_ID_BYTES:
        raise ValueError(f"a tx id is {_TX_ID_BYTES} bytes, not {len(tx_id)}")
    return _LEG.pack(movement.at_ms, movement.amount, tx_id)


def _unexpired(legs: bytes, oldest_ms: int) -> bytes:
    """``legs`` without those older than ``oldest_ms`` (they are in time order)."""
    size = _LEG.size
    start = 0
    while start < len(legs) and _LEG.unpack_from(legs, start)[0] < oldest_ms:
        start += size
    return legs[start:]


class RoundTrip:
    """A -> B, then B -> A of a similar amount in the same instrument within the window.
    Score 75. Each outgoing leg is matched at most once.

    Up to ``pairs_max`` pairs of parties are remembered, each with up to ``legs_max``
    outgoing legs: the legs of a pair are one bytes object of fixed 48-byte records (time,
    amount, tx id), ~800 bytes for 16 legs where a list of movements took ~7 KB."""

    name = "round_trip"

    def __init__(self, config: RoundTripConfig | None = None) -> None:
        self.config = config or RoundTripConfig()
        self._legs: _Lru[tuple[str, str, str], bytes] = _Lru(self.config.pairs_max)

    def checkpoint(self) -> bytes:
        return _checkpoint(self.config, self._legs.items())

    def restore(self, checkpoint: bytes) -> bool:
        entries = _entries_of(checkpoint, self.config, list[tuple[tuple[str, str, str], bytes]])
        if entries is None or any(len(legs) % _LEG.size for _, legs in entries):
            return False
        self._legs.replace((k, legs) for k, legs in entries)
        return True

    def observe(self, movement: CommittedMovement, ctx: MonitorContext) -> list[Alert]:
        c = self.config
        m = movement
        a, b = m.source_party, m.destination_party
        if m.kind != "transfer" or a == b or m.amount < c.amount_min_minor:
            return []
        oldest_ms = m.at_ms - c.window_ms
        back_key = (b, a, m.instrument)
        back = self._legs.get(back_key)
        if back:
            back = _unexpired(back, oldest_ms)
            for start in range(0, len(back), _LEG.size):
                _, amount, tx_id = _LEG.unpack_from(back, start)
                low, high = (amount * (100 - c.tolerance_pct), amount * (100 + c.tolerance_pct))
                if low <= m.amount * 100 <= high:
                    self._legs.put(back_key, back[:start] + back[start + _LEG.size :])
                    return [
                        Alert(
                            self.name,
                            m.height,
                            m.at_ms,
                            (b, a),
                            (tx_id.hex(), m.tx_id),
                            75,
                            {"instrument": m.instrument, "out": amount, "back": m.amount},
                        )
                    ]
            self._legs.put(back_key, back)
        # Legs past the window can never match: dropping them here rather than when the way
        # back comes changes no alert (the oldest go first either way).
        legs = _unexpired(self._legs.get((a, b, m.instrument)) or b"", oldest_ms) + _leg(m)
        if len(legs) > c.legs_max * _LEG.size:
            legs = legs[_LEG.size :]
        self._legs.put((a, b, m.instrument), legs)
        return []


# -- sanctioned or high-risk jurisdictions -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class HighRiskJurisdictionConfig:
    high_risk_countries: frozenset[str] = frozenset()  # ISO 3166-1 alpha-2
    sanctions: SanctionsList | None = None  # its names, and its countries (mapped to codes)


class HighRiskJurisdiction:
    """A transfer with a party that resides in a high-risk jurisdiction (configured, or named
    by the sanctions list), score 70, or whose registered name is on the list, score 95."""

    name = "high_risk_jurisdiction"

    def __init__(self, config: HighRiskJurisdictionConfig | None = None) -> None:
        self.config = config or HighRiskJurisdictionConfig()
        listed = self.config.sanctions
        self._countries = self.config.high_risk_countries | (
            listed.jurisdictions() if listed else frozenset()
        )
        # The list's match for each registered name seen: matching scans the whole list.
        self._listed_names: dict[str, str] = {}

    def checkpoint(self) -> bytes:
        return b""  # its names are a cache of the list's matches, rebuilt as names are seen

    def restore(self, checkpoint: bytes) -> bool:
        return checkpoint == b""

    def observe(self, movement: CommittedMovement, ctx: MonitorContext) -> list[Alert]:
        m = movement
        if m.kind != "transfer":
            return []
        # Without a list no name can match, without countries no residency can: their
        # reads are skipped, which does not change what fires.
        names = self.config.sanctions is not None
        countries = bool(self._countries)
        if not (names or countries):
            return []
        facts: dict[str, str | int] = {}  # what was found, in this order
        hits: list[str] = []
        score = 0
        for role, party in (("source", m.source_party), ("destination", m.destination_party)):
            listed = self._listed(ctx.party_name(party)) if names else ""
            if listed:
                facts[f"{role}_listed"] = listed
                score = max(score, 95)
            country = ctx.residency(party) if countries else None
            if country is not None and country in self._countries:
                facts[f"{role}_country"] = country
                score = max(score, 70)
            if listed or f"{role}_country" in facts:
                hits.append(party)
        if not hits:
            return []
        facts = {"instrument": m.instrument, "amount": m.amount, **facts}
        return [Alert(self.name, m.height, m.at_ms, tuple(hits), (m.tx_id,), score, facts)]

    def _listed(self, name: str | None) -> str:
        sanctions = self.config.sanctions
        if sanctions is None or name is None:
            return ""
        listed = self._listed_names.get(name)
        if listed is None:
            subject = sanctions.match_name(name)
            listed = "" if subject is None else subject.reference or subject.names[0]
            if len(self._listed_names) >= NAMES_MAX:
                self._listed_names.clear()
            self._listed_names[name] = listed
        return listed


# -- dormant accounts --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DormantAccountConfig:
    dormant_ms: int = 180 * DAY_MS
    amount_min_minor: int = 0


class DormantAccount:
    """A transfer out of an account that had no movement (in or out, mints and burns
    included) for ``dormant_ms``. Score 50, up to 100 at 4x as long. An account never seen
    moving before is not dormant: it is new.

    Every account that ever moved is remembered, with no cap: an LRU would forget the idle
    accounts first, the very ones this monitor is for. Each costs ~60 bytes in a native
    table (``rantai.core._values``), ~60 MB at a million accounts, not ~190 in a dict."""

    name = "dormant_account"

    def __init__(self, config: DormantAccountConfig | None = None) -> None:
        self.config = config or DormantAccountConfig()
        self._last_ms = NativeValueTable()  # account -> time of its last movement

    def checkpoint(self) -> bytes:
        # The table's own serialization: no Python object per account.
        return _checkpoint(self.config, self._last_ms.to_bytes())

    def restore(self, checkpoint: bytes) -> bool:
        data = _entries_of(checkpoint, self.config, bytes)
        if data is None:
            return False
        try:
            self._last_ms = NativeValueTable.from_bytes(data)
        except ValueError:
            return False
        return True

    def observe(self, movement: CommittedMovement, ctx: MonitorContext) -> list[Alert]:
        c = self.config
        m = movement
        alerts: list[Alert] = []
        if m.kind == "transfer" and m.amount >= c.amount_min_minor:
            raw = self._last_ms.get(m.source)
            if raw is not None and m.at_ms - _time_of(raw) >= c.dormant_ms:
                idle_ms = m.at_ms - _time_of(raw)
                alerts.append(
                    Alert(
                        self.name,
                        m.height,
                        m.at_ms,
                        (m.source_party,),
                        (m.tx_id,),
                        _score(50, idle_ms - c.dormant_ms, 3 * c.dormant_ms),
                        {"account": m.source, "idle_ms": idle_ms, "amount": m.amount},
                    )
                )
        at = m.at_ms.to_bytes(8, "little", signed=True)
        self._last_ms.update([(account, at) for account in (m.source, m.destination) if account])
        return alerts


def _time_of(raw: bytes) -> int:
    return int.from_bytes(raw, "little", signed=True)


def default_monitors(sanctions: SanctionsList | None = None) -> Sequence[Monitor]:
    """Every monitor with its default config (the sanctions list, when given)."""
    return (
        LargeTransfer(),
        Structuring(),
        Velocity(),
        RoundTrip(),
        HighRiskJurisdiction(HighRiskJurisdictionConfig(sanctions=sanctions)),
        DormantAccount(),
    )
