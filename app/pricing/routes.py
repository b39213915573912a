"""The prices settings page: every entry of the book, its default and source, the
organisation's override (who set it, when), and forms to override, reset one or reset all.

Everyone in the organisation sees the page; owners and admins change prices. A change queues a
rescan of the organisation's clusters, because findings carry the cost computed at scan time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import service as accounts
from app.accounts.models import Role
from app.clouds.models import Cluster, ClusterState
from app.deps import AdminOrg, CurrentOrg, DbSession, FormFields, OrgContext
from app.pricing import store
from app.pricing.book import PriceBook, PriceEntry
from app.scans import service as scans
from app.scans.models import ScanTrigger
from app.tenancy import scoped
from app.web import is_htmx, render

router = APIRouter()

PRICES_URL = "/settings/prices"
FIELD_PREFIX = "price:"  # one form field per entry: "price:storage.aws.gp3"

# (title, id prefix) in page order; an entry goes to the first group whose prefix it has.
GROUPS: tuple[tuple[str, str], ...] = (
    ("Block storage — AWS EBS", "storage.aws."),
    ("Block storage — GCP persistent disk", "storage.gcp."),
    ("Azure managed disk tiers", "azure_disk."),
    ("Load balancers", "lb."),
    ("Managed control planes", "control_plane."),
    ("Compute rates (idle requests)", "compute."),
    ("Instance types", "instance."),
)
OTHER_GROUP = "Other"


@dataclass(frozen=True)
class PriceRow:
    """One line of the page: the default entry, the override if any, what the input shows."""

    entry: PriceEntry
    override: store.OverrideInfo | None
    field: str  # the form field's name
    dom_id: str  # the input's id
    value: str  # the input's text
    error: str | None

    @property
    def source_is_link(self) -> bool:
        return self.entry.source.startswith("https://")

    @property
    def default_text(self) -> str:
        return plain(self.entry.value)

    @property
    def override_text(self) -> str:
        return plain(self.override.value) if self.override else ""


@dataclass(frozen=True)
class PriceGroup:
    title: str
    slug: str
    rows: list[PriceRow]


def plain(value: Decimal | float) -> str:
    """A price without float noise or trailing zeros: Decimal("0.080000") → "0.08"."""
    text = f"{Decimal(str(value)):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def group_title(price_id: str) -> str:
    return next((title for title, prefix in GROUPS if price_id.startswith(prefix)), OTHER_GROUP)


def _groups(
    book: PriceBook,
    overrides: dict[str, store.OverrideInfo],
    typed: dict[str, str] | None,
    errors: dict[str, str],
) -> list[PriceGroup]:
    by_title: dict[str, list[PriceRow]] = {title: [] for title, _ in GROUPS}
    by_title[OTHER_GROUP] = []
    for entry in book.entries():
        override = overrides.get(entry.id)
        if typed is not None and entry.id in typed:
            value = typed[entry.id]
        else:
            value = plain(override.value) if override else ""
        by_title[group_title(entry.id)].append(
            PriceRow(
                entry=entry,
                override=override,
                field=FIELD_PREFIX + entry.id,
                dom_id="price-" + "".join(c if c.isalnum() else "-" for c in entry.id),
                value=value,
                error=errors.get(entry.id),
            )
        )
    return [
        PriceGroup(title=title, slug=_slug(title), rows=rows)
        for title, rows in by_title.items()
        if rows
    ]


def _slug(title: str) -> str:
    words = "".join(c.lower() if c.isalnum() else " " for c in title).split()
    return "prices-" + "-".join(words)


def _refusal(ctx: OrgContext) -> str | None:
    """Why this user may only look (None: they may change prices)."""
    if ctx.at_least(Role.admin):
        return None
    return (
        f"Only owners and admins change prices; your role in {ctx.org.name} is "
        f"{ctx.role.value}, so this page is read-only for you."
    )


def _page(
    request: Request,
    db: Session,
    ctx: OrgContext,
    *,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    status_code: int = 200,
) -> Response:
    overrides = store.org_overrides(db, ctx.org_id)
    context: dict[str, Any] = {
        "nav": "settings",
        "groups": _groups(store.default_price_book(db), overrides, typed, errors or {}),
        "override_count": len(overrides),
        "refusal": _refusal(ctx),
        "form_error": form_error,
    }
    return render(
        request, "settings/prices.html", context, block="prices_form", status_code=status_code
    )


def _done(request: Request) -> Response:
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": PRICES_URL})
    return RedirectResponse(PRICES_URL, status_code=303)


def queue_rescans(db: Session, org_id: uuid.UUID) -> int:
    """Queue a scan of each of the organisation's clusters still found (one that is already
    queued or running keeps its run); how many clusters have a scan coming."""
    clusters = db.scalars(
        scoped(select(Cluster), org_id)
        .where(Cluster.state == ClusterState.active.value)
        .order_by(Cluster.id)
    ).all()
    return sum(
        1
        for cluster in clusters
        if scans.queue_scan(db, cluster, trigger=ScanTrigger.manual) is not None
    )


def _saved(db: Session, ctx: OrgContext, lead: str) -> None:
    if ctx.org.is_demo:
        text = f"{lead}; the demo's clusters are generated, so their findings keep their costs."
        accounts.add_toast(ctx.web_session, "success", text)
        return
    queued = queue_rescans(db, ctx.org_id)
    if queued:
        text = f"{lead}; {queued} cluster{'s' if queued != 1 else ''} queued for rescan."
    else:
        text = f"{lead}; no clusters to rescan yet."
    accounts.add_toast(ctx.web_session, "success", text)


@router.get(PRICES_URL)
def prices_page(request: Request, db: DbSession, ctx: CurrentOrg) -> Response:
    """Every price, its default and source, and the organisation's overrides."""
    return _page(request, db, ctx)


@router.post(PRICES_URL)
def save_prices(request: Request, db: DbSession, data: FormFields, ctx: AdminOrg) -> Response:
    """Save the typed prices, all or nothing: an empty field removes that override."""
    typed = {k[len(FIELD_PREFIX) :]: v for k, v in data.items() if k.startswith(FIELD_PREFIX)}
    current = store.org_overrides(db, ctx.org_id)
    to_set: dict[str, Decimal] = {}
    to_clear: list[str] = []
    errors: dict[str, str] = {}
    for price_id, raw in typed.items():
        if raw.strip() == "":
            if price_id in current:
                to_clear.append(price_id)
            continue
        try:
            value = store.parse_price(price_id, raw)
        except store.PriceInputError as exc:
            errors[price_id] = exc.message
            continue
        if price_id not in current or current[price_id].value != value:
            to_set[price_id] = value
    if errors:
        count = len(errors)
        message = (
            f"{count} price{'s' if count != 1 else ''} could not be saved, so nothing was "
            "changed: " + "; ".join(f"{k} — {v}" for k, v in errors.items())
        )
        return _page(
            request, db, ctx, typed=typed, errors=errors, form_error=message, status_code=422
        )
    if not to_set and not to_clear:
        accounts.add_toast(ctx.web_session, "info", "No prices changed.")
        return _done(request)
    store.set_overrides(db, ctx.org_id, to_set, ctx.user.id)
    for price_id in to_clear:
        store.clear_override(db, ctx.org_id, price_id)
    _saved(db, ctx, "Prices saved")
    return _done(request)


@router.post(PRICES_URL + "/reset")
def reset_price(request: Request, db: DbSession, data: FormFields, ctx: AdminOrg) -> Response:
    """Remove one override: the default applies again."""
    price_id = data.get("price_id", "")
    if store.clear_override(db, ctx.org_id, price_id):
        _saved(db, ctx, f"{price_id} is back to its default")
    else:
        accounts.add_toast(ctx.web_session, "info", "That price already uses its default.")
    return _done(request)


@router.post(PRICES_URL + "/reset-all")
def reset_all_prices(request: Request, db: DbSession, ctx: AdminOrg) -> Response:
    """Remove every override of the organisation."""
    removed = store.clear_all_overrides(db, ctx.org_id)
    if removed:
        _saved(db, ctx, f"All {removed} overrides removed, defaults apply")
    else:
        accounts.add_toast(ctx.web_session, "info", "No prices were overridden.")
    return _done(request)
