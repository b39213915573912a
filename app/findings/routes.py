"""The findings explorer (GET /findings), its exports (/findings.csv, /findings.json) and a
finding's page (GET /findings/{id}).

Any member may browse and export, viewers included. The explorer's filter form asks for the
results region only (``HX-Target: findings-results``) and gets that block; any other HTMX
request gets the page's section; a plain request the whole page. Exports stream from their
own database session, because the request's session closes when the route returns.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from app.accounts.models import Role
from app.db import session_scope, utcnow
from app.deps import CurrentOrg, DbSession, OrgContext, org_loader
from app.findings import detail as details
from app.findings import explore, export
from app.findings import view as explorer
from app.findings.filters import parse
from app.scans.models import Finding
from app.web import render

router = APIRouter()

RESULTS_TARGET = "findings-results"
FindingDep = Annotated[Finding, org_loader(Finding, "finding_id")]


@router.get("/findings", response_class=HTMLResponse)
def finding_list(request: Request, db: DbSession, ctx: CurrentOrg) -> Response:
    """Every current finding of the organisation, filtered, sorted and paged by the URL."""
    page = explorer.build(db, ctx.org_id, request.query_params, now=utcnow())
    wants_results = request.headers.get("HX-Target") == RESULTS_TARGET
    # The form sends every field, empty ones too: the address bar gets the tidy URL instead.
    headers = {"HX-Push-Url": page.filters.url()} if wants_results else None
    return render(
        request,
        "findings/list.html",
        explorer.context(page),
        block="results" if wants_results else "section",
        headers=headers,
    )


def _export(request: Request, db: DbSession, ctx: OrgContext, extension: str) -> Response:
    now = utcnow()
    clusters = explorer.clusters_of(db, ctx.org_id)
    filters = parse(request.query_params, clusters=clusters, now=now).filters
    gone = [c.id for c in clusters.values() if c.gone]
    where = explore.conditions(ctx.org_id, filters, gone=gone, now=now)
    stopped = export.truncated(db, where, cap=export.EXPORT_CAP)
    org_name = ctx.org.name
    factory = request.app.state.sessionmaker

    def body() -> Iterator[str]:
        with session_scope(factory) as session:
            if extension == "csv":
                yield from export.csv_lines(session, where, filters, clusters, now=now)
            else:
                yield from export.json_chunks(
                    session,
                    where,
                    filters,
                    clusters,
                    organisation=org_name,
                    now=now,
                    is_truncated=stopped,
                )

    media = "text/csv; charset=utf-8" if extension == "csv" else "application/json"
    name = export.filename(org_name, now, extension)
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Export-Truncated": "true" if stopped else "false",
        "X-Export-Row-Limit": str(export.EXPORT_CAP),
        "Cache-Control": "no-store",
    }
    return StreamingResponse(body(), media_type=media, headers=headers)


@router.get("/findings.csv")
def export_csv(request: Request, db: DbSession, ctx: CurrentOrg) -> Response:
    """The explorer's view as CSV: same filters and order, every matching finding."""
    return _export(request, db, ctx, "csv")


@router.get("/findings.json")
def export_json(request: Request, db: DbSession, ctx: CurrentOrg) -> Response:
    """The explorer's view as JSON, with the filters it was made with."""
    return _export(request, db, ctx, "json")


@router.get("/findings/{finding_id}", response_class=HTMLResponse)
def finding_detail(
    request: Request, db: DbSession, ctx: CurrentOrg, finding: FindingDep
) -> Response:
    """One finding: why, evidence, cascade, owner, cost basis, removal commands, ignore."""
    context = {
        "nav": "findings",
        "d": details.build(db, finding, now=utcnow()),
        "finding": finding,
        "can_ignore": ctx.at_least(Role.member),
        "now": utcnow(),
    }
    return render(request, "findings/detail.html", context, block="section")
