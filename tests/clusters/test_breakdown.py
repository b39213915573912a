"""The cluster page's waste views (the dashboard narrowed to one cluster) and the namespace page:
figures, splits, abandoned namespaces, trends, ignore rules, tenant isolation, a gone cluster's
last state, escaping. Rows are arranged with tests.factories; pages are read through requests."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi import FastAPI
from sqlalchemy import insert
from sqlalchemy.orm import Session

from app.clouds.models import CloudAccount, Cluster
from app.db import utcnow
from app.history.models import ClusterDailyWaste, ResolvedFinding
from app.history.namespace import namespace_trend
from app.scans.models import Finding
from tests.accounts.helpers import add_member
from tests.conftest import Browser, BrowserFactory
from tests.factories import add_account, add_cluster, add_finding, add_run, org_id_of, refresh

HX = {"HX-Request": "true"}
TREND = {"HX-Request": "true", "HX-Target": "trend-region"}
ABANDONED = "namespace-abandoned"


@dataclass
class Org:
    client: Browser
    org_id: uuid.UUID
    account: CloudAccount
    prod: Cluster
    staging: Cluster
    f: dict[str, Finding]


def signed_up(browser: BrowserFactory, db: Session, email: str, org: str) -> Org:
    """prod-eu: $150 of counted waste over shop, legacy (abandoned) and cluster-scoped objects,
    plus a low-confidence finding; staging: $1,000 that must never show on prod-eu's pages."""
    client = browser()
    client.sign_up(email, org=org)
    org_id = org_id_of(db, email)
    account = add_account(db, org_id, f"{org} AWS")
    prod = add_cluster(db, account, "prod-eu")
    staging = add_cluster(db, account, "staging")
    run, other = add_run(db, prod), add_run(db, staging)
    f = {
        "pvc": add_finding(
            db, run, kind="PersistentVolumeClaim", namespace="shop", name="data-old-db-0",
            cost="80", basis="100 GiB gp3 × $0.08/GB-month",
        ),
        "lb": add_finding(db, run, kind="Service", namespace="shop", name="legacy-lb", cost="16"),
        "cm": add_finding(db, run, kind="ConfigMap", namespace="shop", name="old-flags", cost="0"),
        "maybe": add_finding(
            db, run, kind="Secret", namespace="shop", name="maybe", cost="500", confidence="low"
        ),
        "api": add_finding(
            db, run, kind="Deployment", namespace="legacy", name="old-api", cost="30"
        ),
        "tok": add_finding(db, run, kind="Secret", namespace="legacy", name="token-a", cost="0"),
        "ns": add_finding(
            db, run, kind="Namespace", namespace=None, name="legacy", rule=ABANDONED, cost="30",
            reason="nothing runs or is scheduled to run here, yet it holds 2 objects",
            evidence=["1 finding(s) inside, $30.00/month estimated", "holds Deployment old-api"],
            confidence="medium", counts_in_total=False,
        ),
        "pv": add_finding(db, run, kind="PersistentVolume", namespace=None, name="pv-1", cost="24"),
        "far": add_finding(
            db, other, kind="PersistentVolumeClaim", namespace="shop", name="staging-db",
            cost="1000",
        ),
    }  # fmt: skip
    refresh(db, org_id, prod, staging)
    db.commit()
    return Org(client, org_id, account, prod, staging, f)


@pytest.fixture
def acme(browser: BrowserFactory, db: Session) -> Org:
    return signed_up(browser, db, "owner@acme.test", "Acme")


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def region(html: str, element_id: str) -> str:
    """The element with ``id`` (a section or div) up to its closing tag."""
    start = html.index(f'id="{element_id}"')
    start = html.rindex("<", 0, start)
    tag = html[start + 1 : html.index(" ", start)]
    end = html.index(f"</{tag}>", start)
    return html[start:end]


def split_rows(html: str, split_id: str) -> dict[str, str]:
    """{row label: row text} of a split card."""
    card = html[html.index(f'id="{split_id}"') :]
    card = card[: card.index("</section>")]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", card, flags=re.S)[1:]:
        cells = text_of(row).split()
        rows[cells[0]] = " ".join(cells)
    return rows


def day_rows(
    org: Org, cluster: Cluster, days_ago: int, rows: list[tuple[str, str, str]]
) -> list[dict[str, object]]:
    day = utcnow().date() - timedelta(days=days_ago)
    return [
        {
            "org_id": org.org_id, "cluster_id": cluster.id, "day": day, "dimension": dim,
            "key": key, "cost": Decimal(cost), "findings": 1, "ignored_cost": Decimal(0),
            "ignored_findings": 0,
        }
        for dim, key, cost in rows
    ]  # fmt: skip


# --- the cluster page ---------------------------------------------------------------------------


def test_cluster_page_narrows_the_dashboard_to_the_cluster(acme: Org, db: Session) -> None:
    now = utcnow()
    history = day_rows(acme, acme.prod, 7, [("total", "", "200")])
    db.execute(insert(ClusterDailyWaste), history)
    for cluster, cost, days in (
        (acme.prod, "12.5", 3),
        (acme.prod, "99", 45),
        (acme.staging, "7", 1),
    ):
        db.add(
            ResolvedFinding(
                org_id=acme.org_id, cluster_id=cluster.id, kind="Service", namespace="shop",
                name=f"gone-{uuid.uuid4().hex[:6]}", rule="unused", monthly_cost_usd=Decimal(cost),
                first_seen_at=now - timedelta(days=90), resolved_at=now - timedelta(days=days),
            )
        )  # fmt: skip
    db.commit()

    html = acme.client.get(f"/clusters/{acme.prod.id}").text
    assert "$150.00" in text_of(html[html.index('id="waste-now"') :][:200])
    assert "6 findings counted" in text_of(html), "$0 findings count too; low confidence not"
    # 200 a week ago, 150 now.
    assert "Down $50.00 (−25.0%) since last week" in text_of(html)
    resolved = text_of(html[html.index('id="resolved"') :][:300])
    assert "$12.50" in resolved
    assert "1 finding resolved" in resolved
    assert "$1,000" not in html, "another cluster's waste stays off this page"

    kinds = split_rows(html, "split-kind")
    assert kinds["PersistentVolumeClaim"].startswith("PersistentVolumeClaim 1 finding $80.00 53%")
    assert kinds["Deployment"].startswith("Deployment 1 finding $30.00 20%")
    assert "Secret" not in kinds, "low confidence and $0 findings have no waste"
    assert "Namespace" not in kinds, "an abandoned namespace is not counted twice"
    namespaces = split_rows(html, "split-namespace")
    assert set(namespaces) == {"shop", "legacy", "(cluster-scoped)"}
    assert namespaces["shop"].startswith("shop 3 findings $96.00 64%")
    base = f"/clusters/{acme.prod.id}/namespaces"
    assert f'href="{base}/shop"' in html
    assert f'href="{base}/legacy"' in html
    assert f'href="{base}/-"' in html

    # The findings table: each row opens the finding; the explorer is one link away.
    assert f'href="/findings/{acme.f["pvc"].id}"' in html
    assert f'href="/findings?cluster={acme.prod.id}"' in html
    assert "See all in the explorer" in html


def test_cluster_trend_stacks_and_its_region_alone(acme: Org, db: Session) -> None:
    rows = day_rows(
        acme, acme.prod, 3,
        [("total", "", "120"), ("namespace", "shop", "100"), ("namespace", "legacy", "20"),
         ("kind", "PersistentVolumeClaim", "120")],
    )  # fmt: skip
    db.execute(insert(ClusterDailyWaste), rows)
    db.commit()
    url = f"/clusters/{acme.prod.id}"
    html = acme.client.get(url).text
    trend = region(html, "trend-region")
    assert '<figure class="chart"' in trend
    assert "Monthly waste of prod-eu, day by day: the last 30 days" in trend
    assert "(30 days)" in trend
    assert f'href="{url}?days=90&amp;by=total"' in trend
    assert f'href="{url}?days=30&amp;by=namespace"' in trend

    stacked = acme.client.get(f"{url}?days=90&by=namespace", headers=TREND)
    assert stacked.status_code == 200
    body = stacked.text.strip()
    assert body.startswith('<section class="section dash-trend" id="trend-region"')
    assert "<html" not in body
    assert 'id="split-kind"' not in body, "only the trend region"
    assert "by namespace" in body
    assert "(90 days)" in body
    legend = body[body.index('class="chart-legend"') :]
    legend = legend[: legend.index("</ul>")]
    assert ">shop<" in legend
    assert ">legacy<" in legend
    assert ">(cluster-scoped)<" in legend
    # Today is live ($96 in shop), three days ago the stored $100.
    assert "$96.00" in legend
    assert "$100.00" in body

    for bad in ("?days=7&by=rule", "?days=abc&by=%3Cx%3E"):
        page = acme.client.get(url + bad)
        assert page.status_code == 200
        assert "the last 30 days" in page.text
        assert "&lt;x&gt;" not in page.text


def test_abandoned_namespaces_on_the_cluster_page(acme: Org, db: Session) -> None:
    html = acme.client.get(f"/clusters/{acme.prod.id}").text
    section = html[html.index('id="abandoned-title"') :]
    section = section[: section.index("</section>")]
    assert f'href="/clusters/{acme.prod.id}/namespaces/legacy"' in section
    text = text_of(section)
    assert "nothing runs or is scheduled to run here, yet it holds 2 objects" in text
    assert "holds Deployment old-api" in text
    # Its cost is that of the findings inside it, live (an ignore there lowers it).
    assert re.search(r"legacy .* 2 \$30\.00", text), text
    acme.client.submit(
        "/ignores", {"namespace": "legacy", "kind": "Deployment", "reason": "kept", "expiry": "7"}
    )
    again = acme.client.get(f"/clusters/{acme.prod.id}").text
    section = again[again.index('id="abandoned-title"') :]
    assert re.search(r"legacy .* 1 \$0\.00", text_of(section[: section.index("</section>")]))


# --- the namespace page ---------------------------------------------------------------------------


def test_namespace_page_figures_findings_and_rules(acme: Org, db: Session) -> None:
    acme.client.submit(
        "/ignores", {"namespace": "shop", "kind": "Service", "reason": "LB kept for the cutover"}
    )
    acme.client.submit(
        "/ignores", {"namespace": "legacy", "kind": "Secret", "reason": "not this namespace"}
    )
    url = f"/clusters/{acme.prod.id}/namespaces/shop"
    page = acme.client.get(url)
    assert page.status_code == 200
    html = page.text
    assert "<h1>Namespace shop</h1>" in html
    assert f'href="/clusters/{acme.prod.id}"' in html
    now = text_of(html[html.index('id="waste-now"') :][:200])
    assert "$80.00" in now, "the ignored load balancer left the figure"
    assert "$16.00" in text_of(html[html.index('id="ignored"') :][:200])
    kinds = split_rows(html, "split-kind")
    assert set(kinds) == {"PersistentVolumeClaim"}
    # Every finding of the namespace, costliest first, each opening its page; none elsewhere.
    table = html[html.index('id="findings-title"') :]
    order = [table.index(n) for n in ("maybe", "data-old-db-0", "legacy-lb", "old-flags")]
    assert order == sorted(order)
    assert "old-api" not in table
    assert "staging-db" not in table
    assert f'href="/findings/{acme.f["lb"].id}"' in table
    assert "Ignored" in table
    assert f'href="/findings?cluster={acme.prod.id}&amp;namespace=shop"' in html
    rules = text_of(html[html.index('id="rules-title"') :])
    assert "every Service in namespace shop, in every cluster" in rules
    assert "LB kept for the cutover" in rules
    assert "not this namespace" not in rules
    assert re.search(r"never expires 1 \$16\.00", rules), rules
    assert f'href="/ignores?cluster={acme.prod.id}&amp;namespace=shop#new-rule"' in html
    # That link prefills the rule form.
    form = acme.client.get(f"/ignores?cluster={acme.prod.id}&namespace=shop").text
    assert f'<option value="{acme.prod.id}" selected>' in form
    assert 'id="f-namespace" name="namespace" type="text" value="shop"' in form


def test_abandoned_namespace_page_says_why(acme: Org) -> None:
    html = acme.client.get(f"/clusters/{acme.prod.id}/namespaces/legacy").text
    card = text_of(html[html.index('id="abandoned-title"') :][:1500])
    assert "This namespace looks abandoned" in card
    assert "Nothing runs or is scheduled to run here, yet it holds 2 objects." in card
    assert "holds Deployment old-api" in card
    assert f'href="/findings/{acme.f["ns"].id}"' in html
    assert "$30.00" in text_of(html[html.index('id="waste-now"') :][:200])
    shop = acme.client.get(f"/clusters/{acme.prod.id}/namespaces/shop").text
    assert "looks abandoned" not in shop


def test_cluster_scoped_objects_have_their_page(acme: Org) -> None:
    html = acme.client.get(f"/clusters/{acme.prod.id}/namespaces/-").text
    assert "<h1>Cluster-scoped objects</h1>" in html
    assert "$24.00" in text_of(html[html.index('id="waste-now"') :][:200])
    table = html[html.index('id="findings-title"') :]
    assert "pv-1" in table
    assert "data-old-db-0" not in table
    assert f'href="/findings?cluster={acme.prod.id}&amp;namespace=-"' in html
    assert f'href="/ignores?cluster={acme.prod.id}&amp;namespace=-#new-rule"' in html
    assert "looks abandoned" not in html


def test_unknown_namespace_is_a_page_not_an_error(acme: Org) -> None:
    page = acme.client.get(f"/clusters/{acme.prod.id}/namespaces/nothing-here")
    assert page.status_code == 200
    assert "No current findings here" in page.text
    assert "in the namespace nothing-here" in text_of(page.text)
    assert 'id="findings-title"' not in page.text
    assert '<figure class="chart"' in page.text, "its trend (flat) is still shown"


def test_namespace_trend_reads_its_own_rows(acme: Org, db: Session) -> None:
    rows = (
        day_rows(acme, acme.prod, 40, [("total", "", "50"), ("namespace", "shop", "7")])
        + day_rows(acme, acme.prod, 10, [("total", "", "60"), ("namespace", "shop", "40")])
        + day_rows(acme, acme.prod, 5, [("total", "", "20"), ("namespace", "legacy", "20")])
        + day_rows(acme, acme.staging, 2, [("total", "", "900"), ("namespace", "shop", "900")])
    )
    db.execute(insert(ClusterDailyWaste), rows)
    db.commit()
    today = utcnow().date()
    trend = namespace_trend(db, acme.prod.id, "shop", today=today, days=30, now=Decimal("96"))
    assert len(trend.days) == 30
    assert trend.total[0] == Decimal("7"), "carried from before the period"
    assert trend.total[-11] == Decimal("40")
    assert trend.total[-6] == Decimal("0"), "rolled up without this namespace: nothing there"
    assert trend.total[-3] == Decimal("0"), "another cluster's rows are not read"
    assert trend.total[-1] == Decimal("96"), "today is live"
    assert [s.values for s in trend.series] == [trend.total]

    html = acme.client.get(f"/clusters/{acme.prod.id}/namespaces/shop?days=90").text
    assert "the last 90 days" in html
    assert "(90 days)" in html
    block = acme.client.get(f"/clusters/{acme.prod.id}/namespaces/shop", headers=TREND).text
    assert block.strip().startswith('<section class="section dash-trend" id="trend-region"')
    assert "$40.00" in block
    assert "$96.00" in block


# --- gone clusters, roles, tenants, escaping ------------------------------------------------------


def test_a_gone_cluster_still_shows_its_last_state(acme: Org, db: Session) -> None:
    gone = add_cluster(db, acme.account, "old-staging", gone=True)
    run = add_run(db, gone)
    add_finding(db, run, kind="PersistentVolume", namespace=None, name="pv-left", cost="42")
    add_finding(db, run, kind="ConfigMap", namespace="jobs", name="cfg", cost="3")
    refresh(db, acme.org_id, gone)
    db.commit()
    html = acme.client.get(f"/clusters/{gone.id}").text
    assert "No longer found in" in html
    assert "$45.00" in text_of(html[html.index('id="waste-now"') :][:200])
    assert "as last scanned" in html
    assert set(split_rows(html, "split-namespace")) == {"(cluster-scoped)", "jobs"}
    ns = acme.client.get(f"/clusters/{gone.id}/namespaces/jobs")
    assert ns.status_code == 200
    assert "this is its last scanned state" in ns.text
    assert "$3.00" in text_of(ns.text[ns.text.index('id="waste-now"') :][:200])


def test_viewer_sees_the_rules_but_no_link_to_add_one(
    app: FastAPI, acme: Org, browser: BrowserFactory
) -> None:
    add_member(app, acme.org_id, "viewer@acme.test", "viewer")
    viewer = browser()
    viewer.sign_in("viewer@acme.test")
    assert viewer.submit("/orgs/switch", {"org_id": str(acme.org_id)}).status_code == 303
    html = viewer.get(f"/clusters/{acme.prod.id}/namespaces/shop").text
    assert "Ignore rules here" in html
    assert "/ignores?cluster=" not in html


def test_another_organisations_cluster_and_namespaces_are_404(
    acme: Org, db: Session, browser: BrowserFactory
) -> None:
    globex = signed_up(browser, db, "owner@globex.test", "Globex")
    globex.client.submit(
        "/ignores", {"namespace": "shop", "kind": "Service", "reason": "Globex's own reason"}
    )
    theirs = f"/clusters/{globex.prod.id}"
    for url in (theirs, f"{theirs}?by=kind", f"{theirs}/namespaces/shop", f"{theirs}/namespaces/-"):
        for headers in ({}, HX, TREND):
            response = acme.client.get(url, headers=headers)
            assert response.status_code == 404, (url, headers)
            assert "prod-eu" not in response.text
    assert acme.client.get("/clusters/not-a-uuid/namespaces/shop").status_code == 404
    assert acme.client.get(f"/ignores?cluster={globex.prod.id}").status_code == 404
    mine = acme.client.get(f"/clusters/{acme.prod.id}/namespaces/shop").text
    assert "Globex's own reason" not in mine
    assert "$96.00" in text_of(mine[mine.index('id="waste-now"') :][:200])


EVIL = '<script>alert("x")</script>'


def test_namespace_names_are_escaped(acme: Org, db: Session) -> None:
    run = add_run(db, acme.prod)
    odd = "ns" + EVIL.replace("/", "")  # a path segment cannot hold "/"
    add_finding(db, run, kind="ConfigMap" + EVIL, namespace=odd, name="n" + EVIL, cost="5")
    refresh(db, acme.org_id, acme.prod)
    db.commit()
    cluster_page = acme.client.get(f"/clusters/{acme.prod.id}?by=namespace").text
    assert "<script>alert" not in cluster_page
    assert "ns&lt;script&gt;" in cluster_page
    assert "/namespaces/ns%3Cscript%3Ealert%28%22x%22%29%3Cscript%3E" in cluster_page
    page = acme.client.get(
        f"/clusters/{acme.prod.id}/namespaces/ns%3Cscript%3Ealert%28%22x%22%29%3Cscript%3E"
    )
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "<h1>Namespace ns&lt;script&gt;alert(&#34;x&#34;)&lt;script&gt;</h1>" in page.text
    assert "n&lt;script&gt;" in page.text
