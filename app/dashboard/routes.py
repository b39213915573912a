"""The dashboard page (GET /): the organisation's waste now, its change, splits and trend.

``?days=30|90|365`` and ``?by=total|cluster|kind`` choose the trend (anything else: the
defaults). An HTMX request aimed at the trend region (``HX-Target: trend-region``) gets only
that region; any other HTMX request gets the ``section`` block, like every page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.accounts.models import Role
from app.dashboard import view
from app.db import utcnow
from app.deps import CurrentOrg, DbSession
from app.web import render

router = APIRouter()

TREND_REGION = "trend-region"


@router.get("/", response_class=HTMLResponse)
def dashboard(
    request: Request, db: DbSession, ctx: CurrentOrg, days: str = "", by: str = ""
) -> HTMLResponse:
    """The current organisation's overview; HTMX gets the section or just the trend region."""
    dash = view.build(
        db, ctx.org_id, now=utcnow(), days=view.parse_days(days), by=view.parse_by(by)
    )
    block = "trend" if request.headers.get("HX-Target") == TREND_REGION else "section"
    context = {
        "nav": "dashboard",
        "dash": dash,
        "stacks": view.STACKS,
        "trend_region": TREND_REGION,
        "can_manage": ctx.at_least(Role.admin),
    }
    return render(request, "dashboard/index.html", context, block=block)
