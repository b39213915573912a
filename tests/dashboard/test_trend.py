"""The dashboard's trend: the period (30/90/365 days, anything else 30), stacking by total,
cluster or kind, stored days carried forward and today's point live, and a chart that is
well-formed SVG with one point per day and one area per series."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from app.db import utcnow
from tests.dashboard.helpers import (
    SVG_NS,
    TREND,
    SignedUp,
    add_day,
    chart_svg,
    polygons,
    table_head,
    table_rows,
    text_of,
    total_points,
)
from tests.factories import add_account, add_cluster, add_finding, add_run, refresh


def one_cluster(db: Session, acme: SignedUp) -> None:
    shop = add_cluster(db, add_account(db, acme.org_id, "Shop AWS"), "shop")
    run = add_run(db, shop)
    add_finding(db, run, kind="PersistentVolumeClaim", name="a", cost="8")
    add_finding(db, run, kind="Service", name="lb", cost="16.43", namespace="web")
    refresh(db, acme.org_id, shop)


def test_days_are_30_90_or_365_and_anything_else_is_30(acme: SignedUp, db: Session) -> None:
    one_cluster(db, acme)
    db.commit()
    today = utcnow().date()
    cases = [
        ("", 30), ("?days=30", 30), ("?days=90", 90), ("?days=365", 365), ("?days=7", 30),
        ("?days=366", 30), ("?days=abc", 30), ("?days=-30", 30), ("?days=90.0", 30),
    ]  # fmt: skip
    for query, days in cases:
        for headers in ({}, TREND):
            response = acme.client.get("/" + query, headers=headers)
            assert response.status_code == 200, query
            html = response.text
            rows = table_rows(html)
            assert len(rows) == days, query
            assert rows[0][0] == (today - timedelta(days=days - 1)).strftime("%-d %b %Y")
            assert rows[-1][0] == today.strftime("%-d %b %Y")
            assert rows[-1][-1] == "$24.43", "today is the live figure"
            svg = chart_svg(html)
            points = total_points(svg)
            assert len(points) == days, query
            assert points[0][0] < points[-1][0]
            assert [float(x) for x, _ in points] == sorted(float(x) for x, _ in points)
            assert f'aria-current="true">{days} days</a>' in html, query


def test_stacked_by_kind_carries_stored_days_forward(acme: SignedUp, db: Session) -> None:
    one_cluster(db, acme)
    today = utcnow().date()
    five, three = today - timedelta(days=5), today - timedelta(days=3)
    add_day(db, acme.org_id, five, "15")
    add_day(db, acme.org_id, five, "10", dimension="kind", key="PersistentVolumeClaim")
    add_day(db, acme.org_id, five, "7", dimension="kind", key="Service", ignored="2")
    add_day(db, acme.org_id, three, "20")
    add_day(db, acme.org_id, three, "20", dimension="kind", key="PersistentVolumeClaim")
    db.commit()

    html = acme.client.get("/?by=kind").text
    # Series largest first from the bottom; the legend and table list the top first.
    assert table_head(html) == ["Day", "Service", "PersistentVolumeClaim", "Total"]
    rows = {row[0]: row[1:] for row in table_rows(html)}
    fmt = "%-d %b %Y"
    assert rows[(today - timedelta(days=6)).strftime(fmt)] == ["$0.00", "$0.00", "$0.00"]
    assert rows[five.strftime(fmt)] == ["$5.00", "$10.00", "$15.00"]
    assert rows[(today - timedelta(days=4)).strftime(fmt)] == ["$5.00", "$10.00", "$15.00"]
    assert rows[three.strftime(fmt)] == ["$0.00", "$20.00", "$20.00"]
    assert rows[(today - timedelta(days=1)).strftime(fmt)] == ["$0.00", "$20.00", "$20.00"]
    assert rows[today.strftime(fmt)] == ["$16.43", "$8.00", "$24.43"]

    svg = chart_svg(html)
    bands = polygons(svg)
    assert [b.attrib["data-series"] for b in bands] == ["PersistentVolumeClaim", "Service"]
    assert all(len(b.attrib["points"].split()) == 2 * 30 for b in bands)
    assert len(total_points(svg)) == 30
    # Different patterns, not only different colours.
    assert bands[0].attrib["fill"] != bands[1].attrib["fill"]
    legend = text_of(html[html.index('class="chart-legend"') :].split("</ul>")[0])
    assert legend.index("Service") < legend.index("PersistentVolumeClaim")
    assert "the last 30 days, by kind" in html


def test_stacked_by_cluster_groups_the_rest_as_other(acme: SignedUp, db: Session) -> None:
    account = add_account(db, acme.org_id, "Shop AWS")
    names = ["alpha", "bravo", "charlie", "delta", "echo", "fox & <hound>", "golf", "hotel"]
    clusters = []
    for i, name in enumerate(names, start=1):
        cluster = add_cluster(db, account, name)
        add_finding(db, add_run(db, cluster), kind="PersistentVolumeClaim", name="v",
                    cost=str(i * 10))  # fmt: skip
        clusters.append(cluster)
    refresh(db, acme.org_id, *clusters)
    db.commit()

    html = acme.client.get("/?by=cluster&days=90", headers=TREND).text
    svg = chart_svg(html)  # parses: the ampersand and brackets of a name are escaped
    series = [b.attrib["data-series"] for b in polygons(svg)]
    largest_first = [str(c.id) for c in reversed(clusters[2:])]
    assert series == [*largest_first, "other"]
    assert table_head(html) == [
        "Day", "Other clusters", "charlie", "delta", "echo", "fox & <hound>", "golf", "hotel",
        "Total",
    ]  # fmt: skip
    assert table_rows(html)[-1][1:] == [
        "$30.00", "$30.00", "$40.00", "$50.00", "$60.00", "$70.00", "$80.00", "$360.00",
    ]  # fmt: skip
    direct = [t.text for t in svg.iter(f"{SVG_NS}text") if t.text and "hotel" in t.text]
    assert direct == ["hotel"], "the largest band carries its name beside the chart"
    assert svg.attrib["role"] == "img"
    assert svg.find(f"{SVG_NS}title") is not None
    assert "Other clusters" in text_of(html[html.index('class="chart-legend"') :])


def test_unknown_stacking_is_the_total(acme: SignedUp, db: Session) -> None:
    one_cluster(db, acme)
    db.commit()
    for query in ("?by=namespace", "?by=", "?by=TOTAL"):
        html = acme.client.get("/" + query).text
        assert table_head(html) == ["Day", "Total"]
        assert [b.attrib["data-series"] for b in polygons(chart_svg(html))] == ["total"]
        assert 'class="chart-legend"' not in html
        assert 'aria-current="true">Total</a>' in html
