"""A trend of daily waste as a server-rendered SVG chart: geometry here, markup in a macro.

Pure: ``build_chart(trend, ...)`` turns a ``queries.Trend`` (``org_trend`` or ``cluster_trend``)
into a ``Chart`` view model — stacked areas with coordinates already computed, y-axis ticks in
dollars, x-axis dates, a legend, direct labels at the right edge and the values as a table.
``templates/components/chart.html`` draws it::

    chart = build_chart(trend, labels={str(c.id): c.name for c in clusters},
                        title="Daily waste, last 30 days", chart_id="trend")

    {% import "components/chart.html" as charts with context %}
    {{ charts.trend_chart(chart) }}
    {{ charts.trend_controls("/clusters/" ~ cluster.id, days=days, by=by,
                             stacks=[("total", "Total"), ("kind", "By kind")]) }}

``labels`` maps a series key (a cluster id, a kind, a namespace) to what people read; a key
without a label shows as itself, ``other`` as "Other" and the unstacked series as "Total
waste" unless labelled. ``chart_id`` must be unique on the page (pattern ids derive from it).

Readable without colour: every series has its own fill pattern (solid, hatches, dots, grid) as
well as its colour, the legend repeats the pattern, a band tall enough carries its name at the
right edge, and the figures are in a ``<details>`` table for screen readers and anyone who
wants the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from app.history.queries import OTHER, TOTAL, Trend
from app.web import usd

WIDTH = 720
HEIGHT = 260
PAD_LEFT = 60
PAD_TOP = 12
PAD_BOTTOM = 30
PAD_RIGHT = 16
LABEL_SPACE = 140  # room for direct labels on the right of a stacked chart
LABEL_MIN_BAND = 12.0  # a band this tall (in SVG units) carries its name at the right edge
LABEL_CHARS = 18
SINGLE_DAY_WIDTH = 24.0
MAX_X_TICKS = 7
Y_TICKS = 4

# One pattern per series position: index OTHER_INDEX is kept for "other" (grey, a grid).
PATTERNS: tuple[str, ...] = (
    "",  # solid
    "M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4",  # diagonal lines
    "M3,4 a1,1 0 1,0 2,0 a1,1 0 1,0 -2,0",  # dots
    "M0,4 h8",  # horizontal lines
    "M0,0 l8,8 M8,0 l-8,8",  # cross-hatch
    "M4,0 v8",  # vertical lines
    "M-2,6 l4,4 M0,0 l8,8 M6,-2 l4,4",  # reverse diagonal
    "M0,0.5 h8 M0.5,0 v8",  # grid
)
OTHER_INDEX = len(PATTERNS) - 1


@dataclass(frozen=True, slots=True)
class Tick:
    """An axis tick: its position in SVG units along the axis and its text."""

    pos: float
    label: str


@dataclass(frozen=True, slots=True)
class Band:
    """One stacked series: its polygon, pattern index, name and latest value."""

    key: str
    label: str
    short: str  # the label cut to fit beside the chart
    index: int
    points: str
    latest: str
    label_y: float | None  # where its direct label sits; None: the band is too thin


@dataclass(frozen=True, slots=True)
class Row:
    """One day of the data table: the date, each series' value (legend order), the total."""

    day: date
    cells: tuple[str, ...]
    total: str


@dataclass(frozen=True, slots=True)
class Chart:
    """What ``components/chart.html`` needs to draw a trend; no further arithmetic there."""

    id: str
    title: str
    summary: str
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    bands: tuple[Band, ...]  # bottom to top; the legend lists them top to bottom
    total_line: str  # polyline points of the stack's top, one per day
    rows: tuple[Row, ...]
    patterns: tuple[str, ...]
    empty: bool  # no waste on any day of the period
    stacked: bool
    label_x: float

    @property
    def legend(self) -> tuple[Band, ...]:
        return tuple(reversed(self.bands))

    @property
    def days(self) -> int:
        return len(self.rows)


def axis_money(value: float, step: float) -> str:
    """A compact dollar tick label: ``$0``, ``$250``, ``$2.5k``, ``$1.2M``, ``$0.50``."""
    if value == 0:
        return "$0"
    for scale, suffix in ((1_000_000.0, "M"), (1_000.0, "k")):
        if value >= scale:
            text = f"{value / scale:.2f}".rstrip("0").rstrip(".")
            return f"${text}{suffix}"
    if step < 1:
        return f"${value:.2f}"
    return f"${value:,.0f}"


def nice_scale(maximum: float, ticks: int = Y_TICKS) -> tuple[float, float]:
    """(top of the axis, step): a round step (1, 2, 2.5 or 5 × 10ⁿ) covering ``maximum``."""
    if maximum <= 0:
        return 1.0, 1.0
    raw = maximum / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if raw <= m * magnitude * (1 + 1e-9))
    return step * math.ceil(maximum / step - 1e-9), step


def _x_ticks(days: Sequence[date], xs: Sequence[float]) -> list[Tick]:
    n = len(days)
    if n == 0:
        return []
    if n > 120:  # a long period: the first of each month, every few months
        firsts = [i for i, d in enumerate(days) if d.day == 1]
        every = max(1, math.ceil(len(firsts) / (MAX_X_TICKS - 1)))
        picked = firsts[::every]
        ticks, last_year = [], None
        for i in picked:
            d = days[i]
            label = f"{d:%b %Y}" if last_year != d.year else f"{d:%b}"
            last_year = d.year
            ticks.append(Tick(round(xs[i], 1), label))
        return ticks
    every = max(1, math.ceil((n - 1) / (MAX_X_TICKS - 1)))
    indices = list(range(0, n, every))
    if indices[-1] != n - 1 and (n - 1 - indices[-1]) * 2 >= every:
        indices.append(n - 1)
    return [Tick(round(xs[i], 1), f"{days[i].day} {days[i]:%b}") for i in indices]


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _label(key: str, labels: Mapping[str, str]) -> str:
    if key in labels:
        return labels[key]
    if key == OTHER:
        return "Other"
    if key == TOTAL:
        return "Total waste"
    return key


def _points(pairs: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in pairs)


def build_chart(
    trend: Trend,
    *,
    title: str,
    labels: Mapping[str, str] | None = None,
    chart_id: str = "trend",
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Chart:
    """The chart of ``trend``: series stacked bottom-up in the trend's order, 'other' on top."""
    names = labels or {}
    stacked = len(trend.series) > 1 or (
        len(trend.series) == 1 and trend.series[0].key not in (TOTAL, "")
    )
    right = width - (LABEL_SPACE if stacked else PAD_RIGHT)
    left, top, bottom = float(PAD_LEFT), float(PAD_TOP), float(height - PAD_BOTTOM)
    n = len(trend.days)
    totals = [float(v) for v in trend.total]
    y_max, step = nice_scale(max(totals, default=0.0))
    empty = not any(v > 0 for v in totals)

    def y_of(value: float) -> float:
        return bottom - (value / y_max) * (bottom - top)

    if n > 1:
        xs = [left + (right - left) * i / (n - 1) for i in range(n)]
    else:
        xs = [(left + right) / 2] * n
    y_ticks = tuple(
        Tick(round(y_of(step * i), 1), axis_money(step * i, step))
        for i in range(0 if empty else round(y_max / step) + 1)
    ) or (Tick(bottom, "$0"),)

    lower = [0.0] * n
    bands: list[Band] = []
    for position, series in enumerate(trend.series):
        values = [float(v) for v in series.values]
        upper = [lo + v for lo, v in zip(lower, values, strict=True)]
        if n == 1:
            half = SINGLE_DAY_WIDTH / 2
            outline = [
                (xs[0] - half, y_of(upper[0])),
                (xs[0] + half, y_of(upper[0])),
                (xs[0] + half, y_of(lower[0])),
                (xs[0] - half, y_of(lower[0])),
            ]
        else:
            outline = [(x, y_of(u)) for x, u in zip(xs, upper, strict=True)]
            outline += [(x, y_of(lo)) for x, lo in reversed(list(zip(xs, lower, strict=True)))]
        index = OTHER_INDEX if series.key == OTHER else position % OTHER_INDEX
        thickness = (y_of(lower[-1]) - y_of(upper[-1])) if n else 0.0
        label_y = (y_of(lower[-1]) + y_of(upper[-1])) / 2 if thickness >= LABEL_MIN_BAND else None
        bands.append(
            Band(
                key=series.key,
                label=_label(series.key, names),
                short=_short(_label(series.key, names)),
                index=index,
                points=_points(outline),
                latest=usd(values[-1]) if values else usd(0),
                label_y=None if label_y is None else round(label_y + 4, 1),
            )
        )
        lower = upper

    if n == 1:
        line = [
            (xs[0] - SINGLE_DAY_WIDTH / 2, y_of(totals[0])),
            (xs[0] + SINGLE_DAY_WIDTH / 2, y_of(totals[0])),
        ]
    else:
        line = [(x, y_of(t)) for x, t in zip(xs, totals, strict=True)]
    rows = tuple(
        Row(
            day=day,
            cells=tuple(usd(s.values[i]) for s in reversed(trend.series)) if stacked else (),
            total=usd(trend.total[i]),
        )
        for i, day in enumerate(trend.days)
    )
    return Chart(
        id=chart_id,
        title=title,
        summary=_summary(trend),
        width=width,
        height=height,
        left=left,
        right=round(right, 1),
        top=top,
        bottom=bottom,
        y_ticks=y_ticks,
        x_ticks=tuple(_x_ticks(trend.days, xs)),
        bands=tuple(bands),
        total_line=_points(line),
        rows=rows,
        patterns=PATTERNS,
        empty=empty,
        stacked=stacked,
        label_x=round(right + 6, 1),
    )


def _summary(trend: Trend) -> str:
    """One sentence for screen readers: the period, the latest value, the highest day."""
    if not trend.days:
        return "No days to show."
    first, last = trend.days[0], trend.days[-1]
    period = f"{first:%-d %b %Y} to {last:%-d %b %Y}"
    if not any(v > 0 for v in trend.total):
        return f"No estimated waste from {period}."
    peak = max(range(len(trend.total)), key=lambda i: (trend.total[i], i))
    return (
        f"Estimated monthly waste, day by day from {period}: {usd(trend.total[-1])} on the "
        f"last day, highest {usd(trend.total[peak])} on {trend.days[peak]:%-d %b %Y}."
    )


__all__ = ["Band", "Chart", "Row", "Tick", "axis_money", "build_chart", "nice_scale", "usd"]
