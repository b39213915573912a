"""The dashboard page (GET /)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.deps import CurrentOrg
from app.web import render

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, ctx: CurrentOrg) -> HTMLResponse:
    """The current organisation's overview; HTMX gets only the ``section`` block."""
    return render(request, "dashboard/index.html", {"nav": "dashboard"}, block="section")
