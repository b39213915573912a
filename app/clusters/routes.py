"""Cluster pages: the list, one cluster (facts, its waste narrowed from the dashboard's views,
findings, scan history, "Scan now"), one namespace of a cluster, and the status of one scan
run, which polls while the run is queued or running.

The cluster and namespace pages take ``?days=30|90|365`` (and the cluster page
``?by=total|kind|namespace``) for their trend; an HTMX request aimed at the trend region
(``HX-Target: trend-region``) gets only that region. A namespace page's URL names the
namespace, ``-`` standing for the cluster-scoped objects.

Thin: load rows of the current organisation, ask the scans service, render. Every path id
goes through the tenancy loaders, so another organisation's cluster or run is a 404.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import service as accounts
from app.accounts.models import Role
from app.clouds.models import CloudAccount, Cluster, ClusterState
from app.clusters import namespace as namespace_view
from app.clusters import waste
from app.db import utcnow
from app.deps import CurrentOrg, DbSession, MemberOrg, OrgContext, org_loader
from app.findings.ignore_routes import ignore_refusal
from app.findings.ignores import is_ignored
from app.scans import queries
from app.scans import service as scans
from app.scans.models import ScanRun, ScanStatus, ScanTrigger
from app.tenancy import get_for_org, scoped
from app.web import is_htmx, render

router = APIRouter()

ClusterDep = Annotated[Cluster, org_loader(Cluster, "cluster_id")]

FINDINGS_SHOWN = 200
RUNS_SHOWN = 25
# The event a finished scan's status block sends; the findings region listens for it.
SCAN_FINISHED_EVENT = "scan-finished"
SCAN_NEEDS_ROLE = "Scanning needs the member role or higher"
DEMO_NOT_SCANNED = "A demo cluster is generated: there is nothing to scan."
TREND_REGION = "trend-region"


@dataclass(frozen=True)
class ClusterRow:
    """One line of the clusters list."""

    cluster: Cluster
    account_name: str
    last_run: ScanRun | None
    findings: int
    monthly_cost: Decimal


def _accounts_by_id(db: Session, org_id: uuid.UUID) -> dict[uuid.UUID, CloudAccount]:
    rows = db.scalars(scoped(select(CloudAccount), org_id)).all()
    return {row.id: row for row in rows}


def _rows(db: Session, ctx: OrgContext) -> list[ClusterRow]:
    clusters = db.scalars(
        scoped(select(Cluster), ctx.org_id).order_by(Cluster.name, Cluster.region, Cluster.id)
    ).all()
    accounts = _accounts_by_id(db, ctx.org_id)
    ids = [c.id for c in clusters]
    latest = queries.latest_runs(db, ids)
    totals = queries.cluster_totals(db, ids)
    rows = []
    for cluster in clusters:
        count, cost = totals.get(cluster.id, (0, Decimal(0)))
        account = accounts.get(cluster.account_id)
        rows.append(
            ClusterRow(
                cluster=cluster,
                account_name=account.name if account else "",
                last_run=latest.get(cluster.id),
                findings=count,
                monthly_cost=Decimal(cost),
            )
        )
    return rows


@router.get("/clusters", response_class=HTMLResponse)
def cluster_list(request: Request, db: DbSession, ctx: CurrentOrg, show: str = "") -> Response:
    """The organisation's clusters; gone ones only under the "gone" filter (history kept)."""
    rows = _rows(db, ctx)
    active = [r for r in rows if not r.cluster.gone]
    gone = [r for r in rows if r.cluster.gone]
    showing_gone = show == ClusterState.gone.value
    context = {
        "nav": "clusters",
        "rows": gone if showing_gone else active,
        "showing_gone": showing_gone,
        "active_count": len(active),
        "gone_count": len(gone),
        "total_cost": sum((r.monthly_cost for r in active), Decimal(0)),
        "total_findings": sum(r.findings for r in active),
    }
    return render(request, "clusters/list.html", context, block="section")


def _scan_refusal(ctx: OrgContext) -> str | None:
    """Why this user may not press "Scan now" (None: they may); shown beside the button.

    A gone cluster needs no reason here: its page says it is no longer found and has no button."""
    if ctx.org.is_demo:
        return DEMO_NOT_SCANNED
    if not ctx.at_least(Role.member):
        return f"{SCAN_NEEDS_ROLE}; your role in {ctx.org.name} is {ctx.role.value}."
    return None


def _account_of(db: Session, cluster: Cluster) -> CloudAccount:
    return get_for_org(db, CloudAccount, cluster.account_id, cluster.org_id)


def endpoint_host(endpoint: str | None) -> str | None:
    """The host (and port) of an API server URL, for display; None when there is none."""
    if not endpoint:
        return None
    return urlsplit(endpoint).netloc or endpoint


def _status_context(ctx: OrgContext, cluster: Cluster, run: ScanRun | None) -> dict[str, Any]:
    return {
        "cluster": cluster,
        "run": run,
        "scan_refusal": _scan_refusal(ctx),
    }


def _block(request: Request) -> str:
    """The trend region alone for an HTMX request aimed at it; the section otherwise."""
    return "trend" if request.headers.get("HX-Target") == TREND_REGION else "section"


@router.get("/clusters/{cluster_id}", response_class=HTMLResponse)
def cluster_detail(
    request: Request,
    db: DbSession,
    ctx: CurrentOrg,
    cluster: ClusterDep,
    days: str = "",
    by: str = "",
) -> Response:
    """One cluster: its facts, waste (now, trend, splits, abandoned namespaces), current
    findings (costliest first) and scan history."""
    now = utcnow()
    history = queries.runs_for_cluster(db, cluster.id, limit=RUNS_SHOWN)
    count, cost = queries.cluster_totals(db, [cluster.id]).get(cluster.id, (0, Decimal(0)))
    findings = queries.cluster_findings(db, cluster.id, limit=FINDINGS_SHOWN)
    context = {
        "nav": "clusters",
        "account": _account_of(db, cluster),
        "endpoint_host": endpoint_host(cluster.endpoint),
        "findings": findings,
        "ignored_ids": {f.id for f in findings if is_ignored(f, now)},
        "findings_total": count,
        "monthly_cost": cost,
        "history": history,
        "waste": waste.build(
            db, cluster, now=now, days=waste.parse_days(days), by=waste.parse_by(by)
        ),
        "stacks": waste.STACKS,
        "trend_region": TREND_REGION,
        **_status_context(ctx, cluster, history[0] if history else None),
    }
    return render(request, "clusters/detail.html", context, block=_block(request))


@router.get("/clusters/{cluster_id}/namespaces/{namespace}", response_class=HTMLResponse)
def namespace_detail(
    request: Request,
    db: DbSession,
    ctx: CurrentOrg,
    cluster: ClusterDep,
    namespace: str,
    days: str = "",
) -> Response:
    """One namespace of a cluster (``-``: its cluster-scoped objects): waste now by kind, trend,
    whether it is abandoned, its findings and the ignore rules written for it."""
    now = utcnow()
    page = namespace_view.build(db, cluster, namespace, now=now, days=waste.parse_days(days))
    context = {
        "nav": "clusters",
        "ns": page,
        "cluster": cluster,
        "segment": namespace,
        "ignored_ids": {f.id for f in page.findings if is_ignored(f, now)},
        "can_ignore": ignore_refusal(ctx) is None,
        "trend_region": TREND_REGION,
    }
    return render(request, "clusters/namespace.html", context, block=_block(request))


def _done(request: Request, url: str) -> Response:
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


@router.post("/clusters/{cluster_id}/scan")
def scan_now(request: Request, db: DbSession, ctx: MemberOrg, cluster: ClusterDep) -> Response:
    """Queue a manual scan; a cluster with a scan already queued or running gets no second."""
    url = f"/clusters/{cluster.id}"
    latest = queries.latest_runs(db, [cluster.id]).get(cluster.id)
    if cluster.gone:
        kind, text = (
            "error",
            f"{cluster.name} is no longer found in its account: it cannot be scanned.",
        )
    elif ctx.org.is_demo:
        kind, text = "info", DEMO_NOT_SCANNED
    elif latest is not None and latest.active:
        kind, text = "info", f"A scan of {cluster.name} is already queued or running."
    else:
        # Two clicks racing past the check above still make one run: queue_scan returns the
        # run that won (a partial unique index allows one active run per cluster).
        scans.queue_scan(db, cluster, trigger=ScanTrigger.manual)
        kind, text = "success", f"A scan of {cluster.name} is queued; it starts shortly."
    accounts.add_toast(ctx.web_session, kind, text)
    return _done(request, url)


def _run_of(db: Session, cluster: Cluster, run_id: str) -> ScanRun:
    run = get_for_org(db, ScanRun, run_id, cluster.org_id)
    if run.cluster_id != cluster.id:
        raise HTTPException(status_code=404)
    return run


def _finished_events(run: ScanRun) -> dict[str, str]:
    """HX-Trigger for a poll that finds its run finished: refresh the findings, say how it went."""
    if run.status == ScanStatus.succeeded.value:
        toast = {"kind": "success", "text": "The scan finished; the findings are up to date."}
    else:
        toast = {"kind": "error", "text": "The scan failed; the scan history says why."}
    events = {SCAN_FINISHED_EVENT: {"run": str(run.id)}, "toast": toast}
    return {"HX-Trigger": json.dumps(events)}


@router.get("/clusters/{cluster_id}/scans/{run_id}", response_class=HTMLResponse)
def scan_run(
    request: Request, db: DbSession, ctx: CurrentOrg, cluster: ClusterDep, run_id: str
) -> Response:
    """One scan run; HTMX gets its status block, which polls only while the run is active."""
    run = _run_of(db, cluster, run_id)
    context = {
        "nav": "clusters",
        "account": _account_of(db, cluster),
        **_status_context(ctx, cluster, run),
    }
    # Only an active status block polls, so an HTMX request that finds the run finished is
    # the poll that saw it end: tell the page once, then the block (without a trigger) stops.
    headers = _finished_events(run) if is_htmx(request) and not run.active else None
    return render(request, "clusters/scan.html", context, block="scan_status", headers=headers)
