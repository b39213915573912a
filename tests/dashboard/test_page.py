"""The dashboard (GET /): figures equal the sums of the rows put in (low confidence, ignored
and gone-cluster findings left out), change against last week and month, resolved and ignored
waste, the splits and the costliest findings, empty states, full page and HTMX responses,
roles, sign-in and tenant isolation. Rows are arranged directly; everything is read through
real requests."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.findings import ignores
from app.findings.ignores import IgnoreScope, NewRule
from app.scans.models import Finding
from tests.conftest import BrowserFactory
from tests.dashboard.helpers import (
    HX,
    TREND,
    SignedUp,
    add_day,
    add_resolved,
    arrange_two_clouds,
    section,
    signed_up,
    split_rows,
    stat,
    text_of,
)
from tests.factories import add_account, add_cluster, add_finding, add_run, refresh, set_role


def test_figures_are_the_sums_of_what_counts(acme: SignedUp, db: Session) -> None:
    ids = {k: str(c.id) for k, c in arrange_two_clouds(db, acme.org_id).items()}
    page = acme.client.get("/")
    assert page.status_code == 200
    html = page.text

    assert stat(html, "waste-now") == "$138.43"
    headline = section(html, "headline-title")
    assert "estimated, list price" in headline
    assert "title=" in headline  # the explanation on hover …
    assert "How these figures are estimated" in headline  # … and for keyboards and touch
    assert "5 findings on 2 clusters" in text_of(headline)
    assert stat(html, "ignored") == "$18.00"
    assert "1 ignored finding" in text_of(headline)
    assert 'href="/findings?ignored=only"' in headline

    assert split_rows(html, "split-provider") == [
        ("AWS", "$108.43", "78%"),
        ("Google Cloud", "$30.00", "22%"),
    ]
    assert split_rows(html, "split-cluster") == [
        ("shop", "$108.43", "78%"),
        ("lake", "$30.00", "22%"),
    ]
    clusters = section(html, "split-cluster")
    assert f'href="/clusters/{ids["shop"]}"' in clusters
    assert f'href="/clusters/{ids["lake"]}"' in clusters
    assert split_rows(html, "split-kind") == [
        ("PersistentVolumeClaim", "$110.00", "79%"),
        ("Service", "$16.43", "12%"),
        ("PersistentVolume", "$12.00", "8.7%"),
    ]
    assert split_rows(html, "split-namespace") == [
        ("shop / shop", "$80.00", "58%"),
        ("lake / etl", "$30.00", "22%"),
        ("shop / web", "$16.43", "12%"),
        ("shop / (cluster-scoped)", "$12.00", "8.7%"),
    ]
    namespaces = section(html, "split-namespace")
    assert f'href="/clusters/{ids["shop"]}/namespaces/web"' in namespaces
    assert f'href="/clusters/{ids["lake"]}/namespaces/etl"' in namespaces
    assert 'namespaces/"' not in namespaces  # the cluster-scoped row has no namespace page

    top = section(html, "top-title")
    names = ["data-db-0", "scratch", "legacy-lb", "pv-released"]
    assert [top.index(n) for n in names] == sorted(top.index(n) for n in names)
    assert top.count('href="/findings/') == 4
    assert "shop/data-db-0" in top
    assert "No pod mounts it." in top
    assert re.search(r'title="[^"]*100 GiB gp3 × \$0.08/GB-month"', top)
    assert "estimated, list price" in top
    for left_out in ("maybe-used", "kept-lb", "big", "old-flags", "retired"):
        assert left_out not in html, left_out


def test_an_ignore_rule_changes_the_total_at_once_and_its_expiry_restores_it(
    acme: SignedUp, db: Session
) -> None:
    shop = add_cluster(db, add_account(db, acme.org_id, "Shop AWS"), "shop")
    run = add_run(db, shop)
    add_finding(db, run, kind="PersistentVolumeClaim", name="a", cost="40")
    add_finding(db, run, kind="PersistentVolumeClaim", name="b", cost="2", namespace="tmp")
    refresh(db, acme.org_id, shop)
    db.commit()
    assert stat(acme.client.get("/").text, "waste-now") == "$42.00"

    now = utcnow()
    ignores.create_rule(
        db,
        acme.org_id,
        NewRule(IgnoreScope.kind, "scratch space", namespace="tmp", kind="PersistentVolumeClaim",
                expires_at=now + timedelta(days=1)),
        user_id=None,
        user_email="owner@acme.test",
        now=now,
    )  # fmt: skip
    db.commit()
    html = acme.client.get("/").text
    assert stat(html, "waste-now") == "$40.00"
    assert stat(html, "ignored") == "$2.00"

    # A day later (the expiry moved back instead of the clock forward) it counts again.
    db.execute(update(Finding).values(ignored_until=now - timedelta(seconds=1)))
    db.commit()
    html = acme.client.get("/").text
    assert stat(html, "waste-now") == "$42.00"
    assert stat(html, "ignored") == "$0.00"


def test_change_against_last_week_and_last_month(acme: SignedUp, db: Session) -> None:
    shop = add_cluster(db, add_account(db, acme.org_id, "Shop AWS"), "shop")
    add_finding(db, add_run(db, shop), kind="PersistentVolumeClaim", name="a", cost="138.43")
    refresh(db, acme.org_id, shop)
    today = utcnow().date()
    add_day(db, acme.org_id, today - timedelta(days=40), "1000")  # older than both: unused
    add_day(db, acme.org_id, today - timedelta(days=31), "200", ignored="20")  # month: 180
    add_day(db, acme.org_id, today - timedelta(days=9), "120.43")  # the week's day has none
    db.commit()

    headline = text_of(section(acme.client.get("/").text, "headline-title"))
    assert "Up $18.00 (+14.9%) since last week" in headline
    assert "Down $41.57 (−23.1%) since last month" in headline


def test_no_change_and_no_history(acme: SignedUp, db: Session) -> None:
    shop = add_cluster(db, add_account(db, acme.org_id, "Shop AWS"), "shop")
    add_finding(db, add_run(db, shop), kind="PersistentVolumeClaim", name="a", cost="50")
    refresh(db, acme.org_id, shop)
    add_day(db, acme.org_id, utcnow().date() - timedelta(days=7), "50")
    db.commit()
    headline = text_of(section(acme.client.get("/").text, "headline-title"))
    assert "No change since last week" in headline
    assert "No history yet for last month" in headline


def test_resolved_waste_of_the_last_30_days(
    acme: SignedUp, db: Session, browser: BrowserFactory
) -> None:
    other = signed_up(browser, db, "owner@other.test", "Other")
    shop = add_cluster(db, add_account(db, acme.org_id, "Shop AWS"), "shop")
    add_finding(db, add_run(db, shop), kind="PersistentVolumeClaim", name="a", cost="5")
    refresh(db, acme.org_id, shop)
    now = utcnow()
    add_resolved(db, shop, "40.00", now=now, days_ago=3)
    add_resolved(db, shop, "2.50", now=now, days_ago=29)
    add_resolved(db, shop, "999", now=now, days_ago=45)
    theirs = add_cluster(db, add_account(db, other.org_id, "Their AWS"), "theirs")
    add_resolved(db, theirs, "777", now=now, days_ago=1)
    db.commit()

    html = acme.client.get("/").text
    assert stat(html, "resolved") == "$42.50"
    assert "2 findings resolved" in text_of(section(html, "headline-title"))


def test_top_findings_are_the_ten_costliest(acme: SignedUp, db: Session) -> None:
    shop = add_cluster(db, add_account(db, acme.org_id, "Shop AWS"), "shop")
    run = add_run(db, shop)
    for i in range(1, 13):
        add_finding(db, run, kind="PersistentVolumeClaim", name=f"vol-{i:02d}", cost=str(i))
    refresh(db, acme.org_id, shop)
    db.commit()
    top = section(acme.client.get("/").text, "top-title")
    shown = [f"vol-{i:02d}" for i in range(12, 2, -1)]
    assert [top.index(n) for n in shown] == sorted(top.index(n) for n in shown)
    assert "vol-02" not in top
    assert "vol-01" not in top


def test_no_clusters_points_to_connecting_and_the_demo(acme: SignedUp, db: Session) -> None:
    html = acme.client.get("/").text
    assert "No clusters yet" in html
    assert 'href="/cloud-accounts/new"' in html
    assert "leftover demo" in html
    assert "Trend" not in html

    set_role(db, acme.org_id, "viewer")
    html = acme.client.get("/").text
    assert "No clusters yet" in html
    assert 'href="/cloud-accounts"' in html
    assert "Only owners and admins can connect cloud accounts" in html


def test_only_gone_clusters_is_the_empty_state_with_their_history(
    acme: SignedUp, db: Session
) -> None:
    add_cluster(db, add_account(db, acme.org_id, "Shop AWS"), "retired", gone=True)
    db.commit()
    html = acme.client.get("/").text
    assert "No clusters yet" in html
    assert 'href="/clusters?show=gone"' in html


def test_clusters_without_a_successful_scan(acme: SignedUp, db: Session) -> None:
    account = add_account(db, acme.org_id, "Shop AWS")
    shop = add_cluster(db, account, "shop")
    add_run(db, shop, status="failed", error="refused")
    db.commit()
    html = acme.client.get("/").text
    assert "No successful scan yet" in html
    assert "1 cluster is connected" in html
    assert 'href="/clusters"' in html

    # One of two scanned: the figures show, with a word about the other.
    add_finding(db, add_run(db, shop), kind="PersistentVolumeClaim", name="a", cost="9")
    add_cluster(db, account, "fresh")
    refresh(db, acme.org_id, shop)
    db.commit()
    html = acme.client.get("/").text
    assert stat(html, "waste-now") == "$9.00"
    assert "1 of 2 clusters have not finished a scan yet" in html


def test_full_page_section_and_trend_fragments(acme: SignedUp, db: Session) -> None:
    shop = add_cluster(db, add_account(db, acme.org_id, "Shop AWS"), "shop")
    add_finding(db, add_run(db, shop), kind="PersistentVolumeClaim", name="a", cost="9")
    refresh(db, acme.org_id, shop)
    db.commit()

    full = acme.client.get("/").text
    assert full.lstrip().startswith("<!doctype html>")
    assert 'aria-label="Main"' in full
    assert 'href="/static/css/dashboard.css"' in full

    block = acme.client.get("/", headers=HX).text
    assert "<html" not in block
    assert 'aria-label="Main"' not in block
    assert "<h1>Dashboard</h1>" in block
    assert 'id="waste-now"' in block
    assert 'id="trend-region"' in block

    trend = acme.client.get("/?days=90&by=kind", headers=TREND).text
    assert trend.lstrip().startswith('<section class="section dash-trend" id="trend-region"')
    assert trend.rstrip().endswith("</section>")
    assert "<h1>" not in trend
    assert 'id="waste-now"' not in trend
    assert "the last 90 days, by kind" in trend
    # Switching keeps the URL shareable: every link is the real URL, fetched and pushed.
    assert 'href="/?days=365&amp;by=kind"' in trend
    assert 'hx-get="/?days=365&amp;by=kind"' in trend
    assert 'hx-target="#trend-region"' in trend
    assert 'hx-push-url="true"' in trend


def test_a_viewer_sees_the_dashboard(acme: SignedUp, db: Session) -> None:
    arrange_two_clouds(db, acme.org_id)
    set_role(db, acme.org_id, "viewer")
    response = acme.client.get("/")
    assert response.status_code == 200
    assert stat(response.text, "waste-now") == "$138.43"


def test_signed_out_visitors_go_to_sign_in(acme: SignedUp, browser: BrowserFactory) -> None:
    visitor = browser()
    response = visitor.get("/?days=90", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin")
    hx = visitor.get("/", headers=TREND, follow_redirects=False)
    assert hx.status_code == 401
    assert hx.headers["HX-Redirect"].startswith("/signin")


def test_another_organisation_sees_nothing_of_acme(
    acme: SignedUp, db: Session, browser: BrowserFactory
) -> None:
    other = signed_up(browser, db, "owner@beta.test", "Beta")
    arrange_two_clouds(db, acme.org_id)
    add_day(db, acme.org_id, utcnow().date() - timedelta(days=7), "100")
    beta = add_cluster(db, add_account(db, other.org_id, "Beta AWS"), "beta-cluster")
    add_finding(db, add_run(db, beta), kind="ConfigMap", name="beta-cm", cost="7.25",
                namespace="beta-ns")  # fmt: skip
    refresh(db, other.org_id, beta)
    db.commit()

    for query in ("", "?by=cluster", "?by=kind&days=365"):
        theirs = other.client.get("/" + query).text
        for acme_thing in ("shop", "lake", "data-db-0", "$138.43", "$108.43", "Google Cloud",
                           "$42.50", "$18.00", "Acme"):  # fmt: skip
            assert acme_thing not in theirs, (query, acme_thing)
        assert stat(theirs, "waste-now") == "$7.25"
        assert "No history yet for last week" in theirs
        ours = acme.client.get("/" + query).text
        assert "beta-cluster" not in ours
        assert "beta-cm" not in ours
        assert "$7.25" not in ours


def test_names_from_clusters_are_escaped(acme: SignedUp, db: Session) -> None:
    shop = add_cluster(db, add_account(db, acme.org_id, "Shop AWS"), "<script>x</script>")
    add_finding(db, add_run(db, shop), kind="ConfigMap", name="<b>cm</b>", cost="3",
                namespace="<i>ns</i>", reason="<img src=x>")  # fmt: skip
    refresh(db, acme.org_id, shop)
    db.commit()
    for query in ("", "?by=cluster"):
        html = acme.client.get("/" + query).text
        assert "<script>x" not in html
        assert "&lt;script&gt;x&lt;/script&gt;" in html
        assert "<b>cm" not in html
        assert "<img src=x>" not in html
        assert "<i>ns" not in html
