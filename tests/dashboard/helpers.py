"""Arranging dashboard tests (signed-up organisations, days of history) and reading the page."""

from __future__ import annotations

import html as html_lib
import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert
from sqlalchemy.orm import Session

from app.clouds.models import Cluster
from app.db import utcnow
from app.findings import ignores
from app.findings.ignores import IgnoreScope, NewRule
from app.history.models import OrgDailyWaste, ResolvedFinding
from app.history.rollups import refresh_clusters
from tests.conftest import Browser, BrowserFactory
from tests.factories import add_account, add_cluster, add_finding, add_run, org_id_of, refresh

HX = {"HX-Request": "true"}
TREND = {"HX-Request": "true", "HX-Target": "trend-region"}
SVG_NS = "{http://www.w3.org/2000/svg}"


# --- arranging ------------------------------------------------------------------------------


@dataclass
class SignedUp:
    client: Browser
    org_id: uuid.UUID


def signed_up(browser: BrowserFactory, db: Session, email: str, org: str) -> SignedUp:
    client = browser()
    client.sign_up(email, org=org)
    return SignedUp(client, org_id_of(db, email))


def add_day(
    db: Session,
    org_id: uuid.UUID,
    day: date,
    cost: str,
    *,
    dimension: str = "total",
    key: str = "",
    ignored: str = "0",
) -> None:
    """One stored organisation roll-up row: what a past day's publish wrote."""
    db.execute(
        insert(OrgDailyWaste),
        [
            {
                "org_id": org_id,
                "day": day,
                "dimension": dimension,
                "key": key,
                "cost": Decimal(cost),
                "findings": 1,
                "ignored_cost": Decimal(ignored),
                "ignored_findings": 1 if Decimal(ignored) else 0,
            }
        ],
    )


def add_resolved(
    db: Session, cluster: Cluster, cost: str, *, now: datetime, days_ago: float
) -> None:
    db.add(
        ResolvedFinding(
            org_id=cluster.org_id,
            cluster_id=cluster.id,
            kind="PersistentVolume",
            namespace=None,
            name=f"pv-{uuid.uuid4().hex[:8]}",
            rule="released",
            monthly_cost_usd=Decimal(cost),
            first_seen_at=now - timedelta(days=90),
            resolved_at=now - timedelta(days=days_ago),
        )
    )
    db.flush()


def arrange_two_clouds(db: Session, org_id: uuid.UUID) -> dict[str, Cluster]:
    """Two live clusters (AWS shop, GCP lake) and a gone one; returns their ids by name.

    Counted: data-db-0 80 + legacy-lb 16.43 + pv-released 12 + scratch 30 (+ old-flags 0)
    = 138.43 in 5 findings. Left out: maybe-used (low confidence, 5), kept-lb (ignored, 18),
    big (on the gone cluster, 500)."""
    aws = add_account(db, org_id, "Shop AWS")
    gcp = add_account(db, org_id, "Data GCP", provider="gcp")
    shop = add_cluster(db, aws, "shop")
    lake = add_cluster(db, gcp, "lake", region="europe-west4")
    retired = add_cluster(db, aws, "retired", gone=True)
    run = add_run(db, shop)
    add_finding(
        db,
        run,
        kind="PersistentVolumeClaim",
        name="data-db-0",
        cost="80.00",
        basis="100 GiB gp3 × $0.08/GB-month",
        reason="No pod mounts it.",
    )
    add_finding(
        db, run, kind="Service", name="legacy-lb", namespace="web", cost="16.43",
        basis="1 NLB × $0.0225/h", confidence="medium",
    )  # fmt: skip
    add_finding(db, run, kind="ConfigMap", name="old-flags", namespace="web", cost="0")
    add_finding(db, run, kind="Secret", name="maybe-used", namespace="web", cost="5",
                confidence="low")  # fmt: skip
    add_finding(db, run, kind="PersistentVolume", name="pv-released", namespace=None, cost="12")
    lake_run = add_run(db, lake)
    add_finding(db, lake_run, kind="PersistentVolumeClaim", name="scratch", namespace="etl",
                cost="30")  # fmt: skip
    add_finding(db, lake_run, kind="Service", name="kept-lb", namespace="etl", cost="18")
    add_finding(db, add_run(db, retired), kind="PersistentVolumeClaim", name="big",
                namespace="old", cost="500")  # fmt: skip
    refresh(db, org_id, shop, lake, retired)
    now = utcnow()
    rule, marked = ignores.create_rule(
        db,
        org_id,
        NewRule(IgnoreScope.kind, "kept for the migration", namespace="etl", kind="Service"),
        user_id=None,
        user_email="owner@acme.test",
        now=now,
    )
    assert marked == 1
    refresh_clusters(db, org_id, ignores.touched_clusters(db, rule), now=now)
    db.commit()
    return {"shop": shop, "lake": lake, "retired": retired}


# --- reading the page -------------------------------------------------------------------------


def text_of(fragment: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed."""
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def section(page: str, labelled_by: str) -> str:
    """The <section aria-labelledby=...> element's markup (sections here do not nest)."""
    match = re.search(
        rf'<section[^>]*aria-labelledby="{re.escape(labelled_by)}".*?</section>', page, re.S
    )
    assert match, f"no section {labelled_by!r}"
    return match.group(0)


def split_rows(page: str, labelled_by: str) -> list[tuple[str, str, str]]:
    """(name, waste, share) of each row of a split, in order."""
    rows = re.findall(
        r'<th scope="row" class="share-name">(.*?)<span class="share-count">.*?</th>\s*'
        r'<td class="num">(.*?)<span class="share-line">.*?<span class="share-text">(.*?)</span>',
        section(page, labelled_by),
        re.S,
    )
    return [(text_of(name), text_of(waste), text_of(share)) for name, waste, share in rows]


def stat(page: str, element_id: str) -> str:
    match = re.search(rf'<p class="stat-value" id="{element_id}">(.*?)</p>', page, re.S)
    assert match, element_id
    return text_of(match.group(1))


def chart_svg(page: str) -> ET.Element:
    """The trend chart's <svg>, parsed as XML (it must be well-formed)."""
    match = re.search(r'<svg class="chart-svg".*?</svg>', page, re.S)
    assert match, "no chart"
    return ET.fromstring(match.group(0))  # noqa: S314 - our own page's markup


def polygons(svg: ET.Element) -> list[ET.Element]:
    return list(svg.iter(f"{SVG_NS}polygon"))


def total_points(svg: ET.Element) -> list[tuple[float, float]]:
    line = next(svg.iter(f"{SVG_NS}polyline"))
    return [(float(x), float(y)) for x, y in (p.split(",") for p in line.attrib["points"].split())]


def table_rows(page: str) -> list[list[str]]:
    """The chart's data table: [day, values..., total] per row."""
    body = re.search(r'<details class="chart-data">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert body, "no data table"
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    return [[text_of(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)] for r in rows]


def table_head(page: str) -> list[str]:
    head = re.search(r'<details class="chart-data">.*?<thead>(.*?)</thead>', page, re.S)
    assert head
    return [text_of(c) for c in re.findall(r"<th[^>]*>(.*?)</th>", head.group(1), re.S)]
