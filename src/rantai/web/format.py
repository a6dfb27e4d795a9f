"""Numbers, times and charts as the dashboard shows them.

Amounts stay integers in minor units until the last step, where ``format_units`` places the
decimal point by string, never through a float. Charts are inline SVG drawn on the server
(``BarChart``): no script, no external library, and every chart is paired with a table of the
same numbers for screen readers and for print.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

__all__ = [
    "Bar",
    "BarChart",
    "bar_chart",
    "format_time_ms",
    "format_units",
    "short_hex",
]

CHART_WIDTH: Final = 640
BAR_HEIGHT: Final = 22
BAR_GAP: Final = 8
LABEL_WIDTH: Final = 140
VALUE_WIDTH: Final = 150
CHART_BARS_MAX: Final = 50


def format_units(amount: int, decimals: int) -> str:
    """``amount`` minor units as a decimal with thousands separators: 123456, 2 -> 1,234.56."""
    sign = "-" if amount < 0 else ""
    digits = str(abs(amount)).rjust(decimals + 1, "0")
    whole, fraction = (digits[:-decimals], digits[-decimals:]) if decimals > 0 else (digits, "")
    grouped = f"{int(whole):,}"
    return f"{sign}{grouped}.{fraction}" if fraction else f"{sign}{grouped}"


def format_time_ms(timestamp_ms: int) -> str:
    """A block time (ms since the epoch) in UTC, to the second."""
    moment = datetime.fromtimestamp(timestamp_ms // 1000, tz=UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def short_hex(value: str, keep: int = 12) -> str:
    """The first ``keep`` hex digits and an ellipsis, for ids in tables (the full id is the
    link target and the title)."""
    return value if len(value) <= keep else value[:keep] + "\u2026"


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    text: str  # the value as shown
    y: int
    width: int


@dataclass(frozen=True, slots=True)
class BarChart:
    """A horizontal bar chart's geometry; ``templates/_chart.html`` draws it."""

    bars: tuple[Bar, ...]
    width: int
    height: int
    label_width: int
    bar_height: int
    plot_width: int


def bar_chart(rows: Sequence[tuple[str, int, str]]) -> BarChart:
    """Bars for ``(label, value, shown text)`` rows, scaled to the largest value (at most
    ``CHART_BARS_MAX`` rows; the table beside the chart lists them all)."""
    rows = rows[:CHART_BARS_MAX]
    plot = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    top = max((value for _, value, _ in rows), default=0)
    bars = tuple(
        Bar(
            label=label,
            value=value,
            text=text,
            y=i * (BAR_HEIGHT + BAR_GAP),
            # integer scaling; a non-zero value always gets a visible sliver
            width=0 if top <= 0 or value <= 0 else max(1, value * plot // top),
        )
        for i, (label, value, text) in enumerate(rows)
    )
    return BarChart(
        bars=bars,
        width=CHART_WIDTH,
        height=max(1, len(bars) * (BAR_HEIGHT + BAR_GAP)),
        label_width=LABEL_WIDTH,
        bar_height=BAR_HEIGHT,
        plot_width=plot,
    )
