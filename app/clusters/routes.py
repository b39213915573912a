"""The clusters list (GET /clusters)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.deps import CurrentOrg
from app.web import render

router = APIRouter()


@router.get("/clusters", response_class=HTMLResponse)
def cluster_list(request: Request, ctx: CurrentOrg) -> HTMLResponse:
    """The current organisation's clusters; HTMX gets only the ``section`` block."""
    return render(request, "clusters/list.html", {"nav": "clusters"}, block="section")
