"""The findings list (GET /findings)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.deps import CurrentOrg
from app.web import render

router = APIRouter()


@router.get("/findings", response_class=HTMLResponse)
def finding_list(request: Request, ctx: CurrentOrg) -> HTMLResponse:
    """The current organisation's findings; HTMX gets only the ``section`` block."""
    return render(request, "findings/list.html", {"nav": "findings"}, block="section")
