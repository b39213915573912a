"""app.history.chart (pure geometry) and the trend_chart macro: scales and ticks, zero data, a
single day, stacking, the 'other' series, labels, and well-formed SVG from the template."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.history.chart import (
    OTHER_INDEX,
    PATTERNS,
    Chart,
    axis_money,
    build_chart,
    nice_scale,
)
from app.history.queries import Series, Trend
from app.web import ENV

SVG = "{http://www.w3.org/2000/svg}"
START = date(2026, 3, 1)


def trend(*series: tuple[str, list[str]], start: date = START) -> Trend:
    n = len(series[0][1]) if series else 1
    days = tuple(start + timedelta(days=i) for i in range(n))
    made = tuple(Series(key, tuple(Decimal(v) for v in values)) for key, values in series)
    total = tuple(sum((s.values[i] for s in made), Decimal(0)) for i in range(n))
    return Trend(days, total, made)


def points(text: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in (p.split(",") for p in text.split())]


def rendered(chart: Chart) -> str:
    module = ENV.get_template("components/chart.html").make_module({})
    macro: Callable[[Chart], str] = module.__dict__["trend_chart"]
    return str(macro(chart))


def svg_of(chart: Chart) -> ET.Element:
    match = re.search(r'<svg class="chart-svg".*?</svg>', rendered(chart), re.S)
    assert match
    return ET.fromstring(match.group(0))  # noqa: S314 - our own template's markup


@pytest.mark.parametrize(
    ("maximum", "top", "step"),
    [
        (0, 1.0, 1.0),
        (24.43, 30.0, 10.0),
        (100, 100.0, 25.0),
        (138.43, 150.0, 50.0),
        (7, 8.0, 2.0),
        (0.9, 1.0, 0.25),
        (12_345, 15_000.0, 5_000.0),
        (2_000_000, 2_000_000.0, 500_000.0),
    ],
)
def test_nice_scale_covers_the_maximum_with_round_steps(
    maximum: float, top: float, step: float
) -> None:
    assert nice_scale(maximum) == pytest.approx((top, step))


@pytest.mark.parametrize(
    ("value", "step", "label"),
    [
        (0, 10, "$0"),
        (250, 250, "$250"),
        (2500, 2500, "$2.5k"),
        (15_000, 5000, "$15k"),
        (1_250_000, 250_000, "$1.25M"),
        (0.5, 0.25, "$0.50"),
        (1000, 1000, "$1k"),
    ],
)
def test_axis_labels_are_compact_dollars(value: float, step: float, label: str) -> None:
    assert axis_money(value, step) == label


def test_values_map_onto_the_plot_and_stack() -> None:
    chart = build_chart(
        trend(("PersistentVolumeClaim", ["10", "20", "30"]), ("Service", ["5", "5", "10"])),
        title="Waste",
    )
    assert chart.stacked
    assert [t.label for t in chart.y_ticks] == ["$0", "$10", "$20", "$30", "$40"]
    assert chart.y_ticks[0].pos == chart.bottom
    assert chart.y_ticks[-1].pos == chart.top
    line = points(chart.total_line)
    assert len(line) == 3
    assert line[0][0] == chart.left
    assert line[-1][0] == chart.right
    assert line[-1][1] == chart.top  # 40 of 40
    plot = chart.bottom - chart.top
    low, high = (points(b.points) for b in chart.bands)
    assert len(low) == len(high) == 6  # three days along the top, three back along the bottom
    assert low[0][1] == pytest.approx(chart.bottom - plot * 10 / 40, abs=0.1)
    assert high[0][1] == pytest.approx(chart.bottom - plot * 15 / 40, abs=0.1)
    assert high[-1][1] == low[0][1], "a band starts where the one below ends"
    assert [b.index for b in chart.bands] == [0, 1]
    assert [b.key for b in chart.legend] == ["Service", "PersistentVolumeClaim"]
    assert [r.cells for r in chart.rows] == [
        ("$5.00", "$10.00"),
        ("$5.00", "$20.00"),
        ("$10.00", "$30.00"),
    ]
    assert [r.total for r in chart.rows] == ["$15.00", "$25.00", "$40.00"]
    assert chart.summary.endswith("$40.00 on the last day, highest $40.00 on 3 Mar 2026.")


def test_zero_data_is_a_flat_line_at_zero() -> None:
    chart = build_chart(trend(("total", ["0"] * 30)), title="Waste")
    assert chart.empty
    assert not chart.stacked
    assert [t.label for t in chart.y_ticks] == ["$0"]
    assert all(y == chart.bottom for _, y in points(chart.total_line))
    assert chart.summary.startswith("No estimated waste from 1 Mar 2026 to 30 Mar 2026")
    assert "No estimated waste in this period." in rendered(chart)
    no_series = build_chart(
        Trend(tuple(START + timedelta(days=i) for i in range(3)), (Decimal(0),) * 3, ()),
        title="Waste",
    )
    assert no_series.bands == ()
    assert len(points(no_series.total_line)) == 3
    svg_of(no_series)


def test_a_single_day_is_a_bar() -> None:
    chart = build_chart(trend(("total", ["12.5"])), title="Waste")
    (band,) = chart.bands
    corners = points(band.points)
    assert len(corners) == 4
    xs = sorted({x for x, _ in corners})
    assert len(xs) == 2
    assert xs[0] < (chart.left + chart.right) / 2 < xs[1]
    assert len(points(chart.total_line)) == 2
    assert [t.label for t in chart.x_ticks] == ["1 Mar"]
    assert [r.total for r in chart.rows] == ["$12.50"]
    svg_of(chart)


def test_other_gets_its_own_pattern_and_label() -> None:
    keys = ["a", "b", "c", "d", "e", "f", "other"]
    chart = build_chart(
        trend(*((k, ["1", "2"]) for k in keys)),
        title="Waste",
        labels={"a": "alpha", "other": "Other clusters"},
    )
    assert [b.index for b in chart.bands] == [0, 1, 2, 3, 4, 5, OTHER_INDEX]
    assert len(set(PATTERNS)) == len(PATTERNS), "every series position has its own pattern"
    assert chart.bands[0].label == "alpha"
    assert chart.bands[1].label == "b"
    assert chart.bands[-1].label == "Other clusters"
    assert build_chart(trend(("x", ["1"]), ("other", ["1"])), title="t").bands[-1].label == "Other"
    fills = [p.attrib["fill"] for p in svg_of(chart).iter(f"{SVG}polygon")]
    assert fills[-1] == f"url(#trend-p{OTHER_INDEX})"
    assert len(set(fills)) == len(keys)


def test_direct_labels_only_on_bands_with_room_and_cut_to_fit() -> None:
    long_name = "a-very-long-cluster-name-indeed"
    chart = build_chart(
        trend((long_name, ["100", "100"]), ("thin", ["1", "1"])), title="Waste", chart_id="c1"
    )
    big, thin = chart.bands
    assert big.label_y is not None
    assert thin.label_y is None
    assert big.short.endswith("…")
    assert len(big.short) == 18
    assert big.label == long_name
    svg = svg_of(chart)
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert big.short in texts
    assert "thin" not in texts
    assert all(p.attrib["id"].startswith("c1-p") for p in svg.iter(f"{SVG}pattern"))


def test_a_year_is_labelled_by_month() -> None:
    start = date(2025, 11, 27)
    chart = build_chart(trend(("total", ["1"] * 365), start=start), title="Waste")
    labels = [t.label for t in chart.x_ticks]
    assert 3 <= len(labels) <= 7
    assert labels[0] == "Dec 2025"
    assert "Jan 2026" in labels or "Feb 2026" in labels
    assert all(len(label.split()) in (1, 2) for label in labels)
    positions = [t.pos for t in chart.x_ticks]
    assert positions == sorted(positions)
    assert chart.left <= positions[0]
    assert positions[-1] <= chart.right


def test_a_month_is_labelled_by_day_without_crowding() -> None:
    chart = build_chart(trend(("total", ["1"] * 30)), title="Waste")
    labels = [t.label for t in chart.x_ticks]
    assert labels[0] == "1 Mar"
    assert labels[-1] == "30 Mar"
    assert len(labels) <= 7
    gaps = [b.pos - a.pos for a, b in zip(chart.x_ticks, chart.x_ticks[1:], strict=False)]
    assert min(gaps) >= 40


def test_the_macro_draws_well_formed_svg_with_a_data_table() -> None:
    chart = build_chart(
        trend(("k&<1>", ["1", "2", "3"]), ("k2", ["0", "1", "1"])),
        title="Waste <by kind>",
    )
    html = rendered(chart)
    svg = svg_of(chart)
    assert svg.attrib["role"] == "img"
    assert svg.find(f"{SVG}title") is not None
    desc = svg.find(f"{SVG}desc")
    assert desc is not None
    assert desc.text == chart.summary
    assert len(list(svg.iter(f"{SVG}polygon"))) == 2
    assert len(list(svg.iter(f"{SVG}pattern"))) == len(PATTERNS)
    assert "<details" in html
    assert "The figures, day by day (3 days)" in html
    assert html.count('<tr><th scope="row"><time') == 3
    assert "k&amp;&lt;1&gt;" in html
    assert "Waste &lt;by kind&gt;" in html
