"""The cluster pages: the list (full page and HTMX block, empty state, gone clusters), one
cluster (facts, findings by cost, scan history), "Scan now" (one run, one job, members only),
the status block that polls only while its run is active, tenant isolation and escaping.

Rows are arranged directly in the database; everything is checked through real requests."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.clouds.models import CloudAccount, Cluster
from app.db import utcnow
from app.scans.models import ScanRun
from tests.conftest import Browser, BrowserFactory
from tests.factories import add_account, add_cluster, add_finding, add_run, org_id_of, set_role

POLL = 'hx-trigger="every 2s"'
HX = {"HX-Request": "true"}


# --- arranging ------------------------------------------------------------------------------


@dataclass
class Org:
    """One signed-up organisation with an AWS account and a cluster in it."""

    client: Browser
    org_id: uuid.UUID
    account: CloudAccount
    cluster: Cluster


def signed_up_org(
    browser: BrowserFactory, db: Session, email: str, *, org: str, cluster: str
) -> Org:
    client = browser()
    client.sign_up(email, org=org)
    org_id = org_id_of(db, email)
    account = add_account(db, org_id, f"{org} production")
    made = add_cluster(db, account, cluster)
    db.commit()
    return Org(client, org_id, account, made)


@pytest.fixture
def acme(browser: BrowserFactory, db: Session) -> Org:
    return signed_up_org(browser, db, "owner@acme.test", org="Acme", cluster="shop-prod")


def runs_of(db: Session, cluster: Cluster) -> list[ScanRun]:
    db.expire_all()
    return list(db.scalars(select(ScanRun).where(ScanRun.cluster_id == cluster.id)))


def status_block(html: str) -> str:
    match = re.search(r'<section id="scan-status".*?</section>', html, flags=re.S)
    assert match, html
    return match.group(0)


# --- the list ---------------------------------------------------------------------------------


def test_empty_list_points_to_cloud_accounts(client: Browser) -> None:
    client.sign_up("owner@acme.test")
    page = client.get("/clusters")
    assert page.status_code == 200
    assert "No clusters yet" in page.text
    assert 'href="/cloud-accounts"' in page.text
    assert "<table" not in page.text


def test_list_full_page_and_htmx_block(client: Browser, db: Session) -> None:
    client.sign_up("owner@acme.test", org="Acme")
    org_id = org_id_of(db, "owner@acme.test")
    aws = add_account(db, org_id, "Shop AWS")
    gcp = add_account(db, org_id, "Data GCP", provider="gcp")
    scanned = add_cluster(db, aws, "shop-prod", region="eu-west-1", version="1.33", nodes=7)
    add_run(db, scanned, findings=12, cost=Decimal("345.67"), age=timedelta(hours=5))
    add_run(db, scanned, status="failed", error="The API server refused the token.")
    add_cluster(db, gcp, "analytics", region="europe-west4", version="1.31", nodes=None)
    add_cluster(db, aws, "old-staging", gone=True)
    db.commit()

    page = client.get("/clusters")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Clusters</h1>" in html
    assert "<html" in html
    for text in ("shop-prod", "Shop AWS", "eu-west-1", "1.33", "analytics", "Data GCP"):
        assert text in html
    assert "europe-west4" in html
    assert "1.31" in html
    # Provider marks are words, not colours; the full name is there for screen readers.
    assert ">AWS<" in html
    assert ">GCP<" in html
    assert "Amazon EKS" in html
    # The last scan is the failed one, but the numbers are those last published.
    row = html[html.index("shop-prod") :]
    row = row[: row.index("</tr>")]
    assert "Failed" in row
    assert "$345.67" in row
    assert ">12<" in row
    assert ">7<" in row
    assert "Not scanned yet" in html
    assert "estimated, list price" in html
    assert f'href="/clusters/{scanned.id}"' in html
    # Gone clusters are behind the filter.
    assert "old-staging" not in html
    assert 'href="/clusters?show=gone"' in html

    block = client.get("/clusters", headers=HX)
    assert block.status_code == 200
    assert "<html" not in block.text
    assert 'aria-label="Main"' not in block.text
    assert "shop-prod" in block.text
    assert "<h1>Clusters</h1>" in block.text


def test_gone_clusters_are_listed_under_their_filter_with_the_date(
    client: Browser, db: Session
) -> None:
    client.sign_up("owner@acme.test")
    account = add_account(db, org_id_of(db, "owner@acme.test"), "Shop AWS")
    add_cluster(db, account, "shop-prod")
    gone = add_cluster(db, account, "old-staging", gone=True)
    db.commit()
    assert gone.gone_at is not None

    html = client.get("/clusters?show=gone").text
    assert "old-staging" in html
    assert "shop-prod" not in html
    assert gone.gone_at.strftime("%-d %b %Y") in html
    assert "no longer found" in html.lower()


def test_only_gone_clusters_is_not_the_empty_state(client: Browser, db: Session) -> None:
    client.sign_up("owner@acme.test")
    account = add_account(db, org_id_of(db, "owner@acme.test"), "Shop AWS")
    add_cluster(db, account, "old-staging", gone=True)
    db.commit()
    html = client.get("/clusters").text
    assert "No clusters yet" not in html
    assert 'href="/clusters?show=gone"' in html


# --- one cluster -----------------------------------------------------------------------------


def test_detail_shows_facts_findings_by_cost_and_history(acme: Org, db: Session) -> None:
    cluster = acme.cluster
    failed = add_run(
        db,
        cluster,
        status="failed",
        trigger="manual",
        age=timedelta(days=2),
        error="The cluster's API server did not answer within 20 seconds.",
    )
    run = add_run(
        db,
        cluster,
        findings=3,
        cost=Decimal("88.00"),
        warnings=["Could not list CronJobs: forbidden.", "Metrics were unavailable."],
    )
    add_finding(db, run, kind="ConfigMap", name="old-flags", cost="0")
    add_finding(
        db,
        run,
        kind="PersistentVolumeClaim",
        name="data-old-db-0",
        cost="80.00",
        basis="100 GiB gp3 × $0.08/GB-month",
    )
    add_finding(db, run, kind="Service", name="legacy-lb", cost="8.00", basis="1 NLB × $0.011/h")
    db.commit()

    page = acme.client.get(f"/clusters/{cluster.id}")
    assert page.status_code == 200
    html = page.text
    assert f"<h1>{cluster.name}</h1>" in html
    assert f'href="/cloud-accounts/{acme.account.id}"' in html
    assert acme.account.name in html
    assert cluster.endpoint is not None
    host = cluster.endpoint.removeprefix("https://")
    assert f"<code>{host}</code>" in html
    assert "eu-west-1" in html
    assert "1.33" in html
    # Findings: costliest first, with how each cost is counted.
    order = [html.index(n) for n in ("data-old-db-0", "legacy-lb", "old-flags")]
    assert order == sorted(order)
    assert "100 GiB gp3 × $0.08/GB-month" in html
    assert "$80.00" in html
    assert "$88.00" in html
    assert "estimated, list price" in html
    # History: newest first, failure in plain words, warnings counted, trigger named.
    history = html[html.index("Scan history") :]
    assert history.index("Succeeded") < history.index("Failed")
    assert "did not answer within 20 seconds" in history
    assert "1,234" in history
    assert ">2<" in history  # warnings
    assert "42 s" in history  # duration: started 5 s after queueing, finished at 47 s
    assert "Manual (Scan now)" in history  # the trigger, in words
    assert f'href="/clusters/{cluster.id}/scans/{failed.id}"' in history
    # The scan button (owner) and no polling: nothing is running.
    block = status_block(html)
    assert f'action="/clusters/{cluster.id}/scan"' in block
    assert POLL not in block
    assert 'name="csrf_token"' in block

    fragment = acme.client.get(f"/clusters/{cluster.id}", headers=HX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "data-old-db-0" in fragment.text
    assert 'id="cluster-results"' in fragment.text


def test_scan_run_page_shows_warnings_and_error(acme: Org, db: Session) -> None:
    run = add_run(
        db,
        acme.cluster,
        status="failed",
        error="AWS refused the role: the external ID does not match.",
        warnings=["Could not list CronJobs: forbidden."],
    )
    db.commit()
    page = acme.client.get(f"/clusters/{acme.cluster.id}/scans/{run.id}")
    assert page.status_code == 200
    assert "<html" in page.text
    assert "the external ID does not match" in page.text
    assert "Could not list CronJobs: forbidden." in page.text
    assert POLL not in page.text


# --- scan now and the status that polls -------------------------------------------------------


def test_scan_now_queues_one_run_and_a_second_click_does_not(
    app: FastAPI, acme: Org, db: Session
) -> None:
    url = f"/clusters/{acme.cluster.id}"
    response = acme.client.submit(f"{url}/scan")
    assert response.status_code == 303
    assert response.headers["location"] == url
    runs = runs_of(db, acme.cluster)
    assert [(r.status, r.trigger) for r in runs] == [("queued", "manual")]
    scan_jobs = [(name, kwargs) for name, kwargs in app.state.sent_jobs if name == "scans.run"]
    assert len(scan_jobs) == 1
    assert str(runs[0].id) in {str(v) for v in scan_jobs[0][1].values()}

    page = acme.client.get(url).text
    assert "is queued" in page  # the toast
    block = status_block(page)
    assert POLL in block, "a queued scan shows its status instead of a second button"
    assert f'hx-get="{url}/scans/{runs[0].id}"' in block
    assert f'action="{url}/scan"' not in block

    again = acme.client.submit(f"{url}/scan", htmx=True)
    assert again.status_code == 204
    assert again.headers["HX-Redirect"] == url
    assert len(runs_of(db, acme.cluster)) == 1
    assert len([n for n, _ in app.state.sent_jobs if n == "scans.run"]) == 1
    assert "already queued or running" in acme.client.get(url).text


def test_status_block_polls_only_while_the_run_is_active(acme: Org, db: Session) -> None:
    run = add_run(db, acme.cluster, status="queued", age=timedelta(seconds=3))
    db.commit()
    url = f"/clusters/{acme.cluster.id}/scans/{run.id}"

    queued = acme.client.get(url, headers=HX)
    assert queued.status_code == 200
    assert "<html" not in queued.text
    assert "<h1>" not in queued.text
    assert queued.text.strip().startswith('<section id="scan-status"')
    assert POLL in queued.text
    assert f'hx-get="{url}"' in queued.text
    assert 'hx-swap="outerHTML"' in queued.text
    assert "HX-Trigger" not in queued.headers
    assert "Queued" in queued.text

    db.execute(
        update(ScanRun).where(ScanRun.id == run.id).values(status="running", started_at=utcnow())
    )
    db.commit()
    running = acme.client.get(url, headers=HX)
    assert POLL in running.text
    assert "Running" in running.text
    assert "HX-Trigger" not in running.headers

    db.execute(
        update(ScanRun)
        .where(ScanRun.id == run.id)
        .values(status="succeeded", finished_at=utcnow(), findings_count=4, objects_scanned=99)
    )
    db.commit()
    done = acme.client.get(url, headers=HX)
    assert done.status_code == 200
    assert POLL not in done.text, "the polling stops"
    assert "hx-trigger" not in done.text
    assert "Succeeded" in done.text
    assert "scan-finished" in done.headers["HX-Trigger"], "the page is told to refresh"
    assert f'action="/clusters/{acme.cluster.id}/scan"' in done.text

    # The detail page's results region refreshes itself on that event.
    detail = acme.client.get(f"/clusters/{acme.cluster.id}").text
    assert 'hx-trigger="scan-finished from:body"' in detail
    assert 'hx-select="#cluster-results"' in detail
    assert POLL not in detail


def test_failed_run_tells_the_page_in_plain_words(acme: Org, db: Session) -> None:
    run = add_run(db, acme.cluster, status="running")
    db.commit()
    db.execute(
        update(ScanRun)
        .where(ScanRun.id == run.id)
        .values(status="failed", finished_at=utcnow(), error="The cluster no longer exists in AWS.")
    )
    db.commit()
    done = acme.client.get(f"/clusters/{acme.cluster.id}/scans/{run.id}", headers=HX)
    assert POLL not in done.text
    assert "The cluster no longer exists in AWS." in done.text
    assert '"kind": "error"' in done.headers["HX-Trigger"]


def test_viewer_sees_why_not_and_cannot_scan(app: FastAPI, acme: Org, db: Session) -> None:
    set_role(db, acme.org_id, "viewer")
    url = f"/clusters/{acme.cluster.id}"
    block = status_block(acme.client.get(url).text)
    assert f'action="{url}/scan"' not in block
    assert "disabled" in block
    assert "member role or higher" in block
    assert "viewer" in block

    refused = acme.client.submit(f"{url}/scan")
    assert refused.status_code == 403
    assert runs_of(db, acme.cluster) == []
    assert not [n for n, _ in app.state.sent_jobs if n == "scans.run"]

    set_role(db, acme.org_id, "member")
    assert acme.client.submit(f"{url}/scan").status_code == 303
    assert len(runs_of(db, acme.cluster)) == 1


def test_gone_cluster_keeps_its_page_and_history_without_scan_now(
    app: FastAPI, acme: Org, db: Session
) -> None:
    gone = add_cluster(db, acme.account, "old-staging", gone=True)
    run = add_run(db, gone, findings=1, cost=Decimal("5"))
    add_finding(db, run, kind="Secret", name="old-token", cost="0")
    db.commit()
    assert gone.gone_at is not None
    page = acme.client.get(f"/clusters/{gone.id}")
    assert page.status_code == 200
    html = page.text
    expected = f"No longer found in {acme.account.name} since {gone.gone_at.strftime('%-d %b %Y')}"
    assert expected in html
    assert "old-token" in html
    assert "Scan history" in html
    assert "Succeeded" in html
    assert f'action="/clusters/{gone.id}/scan"' not in html
    assert ">Scan now</button>" not in html

    response = acme.client.submit(f"/clusters/{gone.id}/scan")
    assert response.status_code == 303
    assert len(runs_of(db, gone)) == 1, "no new run for a gone cluster"
    assert "cannot be scanned" in acme.client.get(f"/clusters/{gone.id}").text


def test_account_needing_attention_is_explained(acme: Org, db: Session) -> None:
    db.execute(
        update(CloudAccount)
        .where(CloudAccount.id == acme.account.id)
        .values(status="needs_attention", status_message="AWS refused the role: access denied.")
    )
    db.commit()
    html = acme.client.get(f"/clusters/{acme.cluster.id}").text
    assert "AWS refused the role: access denied." in html
    assert f'href="/cloud-accounts/{acme.account.id}"' in html


# --- tenant isolation --------------------------------------------------------------------------


def test_every_cluster_url_of_another_organisation_is_a_404(
    app: FastAPI, acme: Org, browser: BrowserFactory, db: Session
) -> None:
    other = signed_up_org(browser, db, "owner@globex.test", org="Globex", cluster="globex-prod")
    their_run = add_run(db, other.cluster, status="queued")
    own_run = add_run(db, acme.cluster, findings=0, cost=Decimal(0))
    db.commit()
    before = len(runs_of(db, other.cluster))

    theirs = f"/clusters/{other.cluster.id}"
    for url in (theirs, f"{theirs}/scans/{their_run.id}", f"{theirs}/scans/{own_run.id}"):
        for headers in ({}, HX):
            response = acme.client.get(url, headers=headers)
            assert response.status_code == 404, url
            assert "globex-prod" not in response.text
    assert acme.client.submit(f"{theirs}/scan").status_code == 404
    assert acme.client.submit(f"{theirs}/scan", htmx=True).status_code == 404
    assert len(runs_of(db, other.cluster)) == before
    # Another cluster's run under this cluster's URL, and malformed ids, are 404 too.
    mine = f"/clusters/{acme.cluster.id}"
    assert acme.client.get(f"{mine}/scans/{their_run.id}").status_code == 404
    assert acme.client.get(f"{mine}/scans/not-a-uuid").status_code == 404
    assert acme.client.get("/clusters/not-a-uuid").status_code == 404
    # The list shows only this organisation's clusters.
    listed = acme.client.get("/clusters").text
    assert "shop-prod" in listed
    assert "globex-prod" not in listed
    # And the other organisation still sees its own.
    assert other.client.get(f"{theirs}/scans/{their_run.id}").status_code == 200


# --- escaping -----------------------------------------------------------------------------------

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_attacker_controlled_names_are_escaped(client: Browser, db: Session) -> None:
    client.sign_up("owner@acme.test")
    org_id = org_id_of(db, "owner@acme.test")
    account = add_account(db, org_id, "acct " + EVIL)
    cluster = add_cluster(db, account, "c" + EVIL, region="r" + EVIL, version="v" + EVIL)
    gone = add_cluster(db, account, "g" + EVIL, gone=True)
    run = add_run(
        db, cluster, status="failed", error="err " + EVIL, warnings=["warn " + EVIL], findings=1
    )
    add_run(db, gone, findings=0)
    add_finding(
        db,
        run,
        kind="ConfigMap" + EVIL,
        name="n" + EVIL,
        namespace="ns" + EVIL,
        reason="why " + EVIL,
        basis="basis " + EVIL,
        cost="1.00",
    )
    db.commit()

    pages: list[Any] = [
        client.get("/clusters"),
        client.get("/clusters?show=gone"),
        client.get(f"/clusters/{cluster.id}"),
        client.get(f"/clusters/{cluster.id}", headers=HX),
        client.get(f"/clusters/{gone.id}"),
        client.get(f"/clusters/{cluster.id}/scans/{run.id}"),
        client.get(f"/clusters/{cluster.id}/scans/{run.id}", headers=HX),
    ]
    for page in pages:
        assert page.status_code == 200
        assert "<script>alert" not in page.text
        assert "<img src=x" not in page.text
    detail = pages[2].text
    assert "&lt;script&gt;alert(" in detail
    for part in ("c&lt;script", "acct &lt;script", "ns&lt;script", "n&lt;script", "why &lt;script"):
        assert part in detail, part
    assert "basis &lt;script" in detail
    assert "err &lt;script" in detail
    assert "warn &lt;script" in pages[5].text
    assert "g&lt;script" in pages[1].text


def test_pages_need_sign_in(app: FastAPI, acme: Org, db: Session, browser: BrowserFactory) -> None:
    run = add_run(db, acme.cluster, status="queued")
    db.commit()
    visitor = browser()
    for url in (f"/clusters/{acme.cluster.id}", f"/clusters/{acme.cluster.id}/scans/{run.id}"):
        response = visitor.get(url, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin")
        hx = visitor.get(url, headers=HX, follow_redirects=False)
        assert hx.status_code == 401
        assert POLL not in hx.text
