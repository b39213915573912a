"""Templates: one Jinja environment, filters, and ``render`` (full page or one named block).

HTMX convention: a route renders one template. A normal request gets the whole page; an HTMX
request (``HX-Request``) that names a block gets only that block of the same template, so the
markup of a fragment is never written twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def usd(value: float | Decimal) -> str:
    """``$1,234.50``, zero included: a figure (a total, a chart's value), not a missing one."""
    return f"${float(value):,.2f}"


def money(value: float | Decimal | None, digits: int = 2) -> str:
    """``$1,234.50``; an em dash for nothing (a table cell without a cost)."""
    if value is None or value == 0:
        return "—"
    return f"${float(value):,.{digits}f}"


def human_bytes(value: int | float | None) -> str:
    if value is None:
        return "—"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def cpu(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 1000:.0f}m" if value < 1 else f"{value:g}"


def age(value: datetime | None, now: datetime | None = None) -> str:
    """``3d``, ``5h``, ``just now``."""
    if value is None:
        return "—"
    delta = (now or datetime.now(UTC)) - value
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def date(value: datetime | None) -> str:
    return "—" if value is None else value.strftime("%-d %b %Y")


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=money, usd=usd, bytes=human_bytes, cpu=cpu, age=age, date=date)
    return env


ENV = make_environment()


def is_htmx(request: Request) -> bool:
    """An HTMX request that wants a fragment (boosted links and history restores want pages)."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def render(
    request: Request,
    template: str,
    ctx: dict[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template`` (or only ``block`` of it for an HTMX request) with the page context."""
    context: dict[str, Any] = dict(getattr(request.state, "page", {}))
    context.update(ctx or {})
    context["request"] = request
    tmpl = ENV.get_template(template)
    if block is not None and is_htmx(request):
        render_block = tmpl.blocks[block]
        body = "".join(render_block(tmpl.new_context(context)))
    else:
        body = tmpl.render(context)
    return HTMLResponse(body, status_code=status_code, headers=headers)
