"""Ignore-rule pages: the list (GET /ignores), adding a rule (POST /ignores) from a finding's
page or from the list's form, and deleting one (POST /ignores/{rule_id}/delete).

Members and above add and delete rules; viewers read them. A rule's change and the roll-ups it
alters are written in the request's one transaction, so the totals move at once. A form that
cannot be saved comes back with its message and what was typed (422), nothing saved. Every id
(finding, cluster, rule) goes through the tenancy guard: another organisation's is a 404.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import service as accounts
from app.accounts.models import Role
from app.clouds.models import Cluster, ClusterState
from app.db import utcnow
from app.deps import CurrentOrg, DbSession, FormFields, MemberOrg, OrgContext, org_loader, safe_next
from app.findings import ignore_forms as forms
from app.findings import ignore_view as view
from app.findings.filters import CLUSTER_SCOPED
from app.findings.ignores import RuleError, create_rule, delete_rule, touched_clusters
from app.findings.models import IgnoreRule
from app.history.rollups import refresh_clusters
from app.scans.models import Finding
from app.tenancy import get_for_org, scoped
from app.web import is_htmx, render, usd

router = APIRouter()

RuleDep = Annotated[IgnoreRule, org_loader(IgnoreRule, "rule_id")]

IGNORE_NEEDS_ROLE = "Adding or deleting ignore rules needs the member role or higher"
FORM_RULE = "rule"
FORM_FINDING = "finding"
# What a re-rendered form may show again (never the CSRF token).
FORM_FIELDS = (
    "match",
    "name_pattern",
    "reason",
    "expiry",
    "expires_on",
    "cluster_id",
    "namespace",
    "cluster_scoped",
    "kind",
    "next",
)


def ignore_refusal(ctx: OrgContext) -> str | None:
    """Why this user may not add or delete rules (None: they may)."""
    if ctx.at_least(Role.member):
        return None
    return f"{IGNORE_NEEDS_ROLE}; your role in {ctx.org.name} is {ctx.role.value}."


def _findings(count: int) -> str:
    return f"{count:,} finding{'' if count == 1 else 's'}"


def _done(request: Request, url: str) -> Response:
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _clusters(db: Session, org_id: uuid.UUID) -> list[Cluster]:
    """The clusters a new rule may name: the active ones."""
    stmt = scoped(select(Cluster), org_id).where(Cluster.state == ClusterState.active.value)
    return list(db.scalars(stmt.order_by(Cluster.name, Cluster.id)))


def _cluster_label(cluster: Cluster) -> str:
    return f"{cluster.name} ({cluster.region})" if cluster.region else cluster.name


def _page(
    request: Request,
    db: Session,
    ctx: OrgContext,
    *,
    target: Finding | None = None,
    form: str | None = None,
    values: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
    block: str = "section",
) -> HTMLResponse:
    now = utcnow()
    rows = view.rule_rows(db, ctx.org_id, view.org_rules(db, ctx.org_id), now=now)
    active = [r for r in rows if not r.expired]
    typed = {k: v for k, v in (values or {}).items() if k in FORM_FIELDS}
    context: dict[str, Any] = {
        "nav": "ignores",
        "now": now,
        "active_rows": active,
        "expired_rows": [r for r in rows if r.expired],
        "held_findings": sum(r.held.findings for r in active),
        "held_cost": sum((r.held.monthly_cost for r in active), Decimal(0)),
        "can_ignore": ignore_refusal(ctx) is None,
        "ignore_refusal": ignore_refusal(ctx),
        "cluster_choices": [("", "Every cluster")]
        + [(str(c.id), _cluster_label(c)) for c in _clusters(db, ctx.org_id)],
        "kind_choices": forms.kind_choices(),
        "expiry_choices": forms.EXPIRY_CHOICES,
        "values": typed if form == FORM_RULE else {},
        "error": error if form == FORM_RULE else None,
        "finding": target,
        "target_cluster": None if target is None else db.get(Cluster, target.cluster_id),
        "ignore_values": typed if form == FORM_FINDING else {},
        "ignore_error": error if form == FORM_FINDING else None,
    }
    return render(request, "findings/ignores.html", context, block=block, status_code=status_code)


@router.get("/ignores", response_class=HTMLResponse)
def ignore_list(
    request: Request,
    db: DbSession,
    ctx: CurrentOrg,
    finding: str = "",
    cluster: str = "",
    namespace: str = "",
) -> Response:
    """The organisation's rules (active, then expired) and the forms that add one.

    ``?finding=<id>`` puts that finding's form on top (the form without JavaScript lands here
    when it needs correcting); ``?cluster=<id>&namespace=<ns>`` (``-``: cluster-scoped
    objects) prefills the rule form, as a namespace page's link does."""
    target = get_for_org(db, Finding, finding, ctx.org_id) if finding else None
    prefill: dict[str, str] = {}
    if cluster:
        prefill["cluster_id"] = str(get_for_org(db, Cluster, cluster, ctx.org_id).id)
    if namespace == CLUSTER_SCOPED:
        prefill["cluster_scoped"] = "on"
    elif namespace:
        prefill["namespace"] = namespace
    if prefill:
        return _page(request, db, ctx, target=target, form=FORM_RULE, values=prefill)
    return _page(request, db, ctx, target=target)


def _cluster_choice(db: Session, ctx: OrgContext, raw: str) -> uuid.UUID | None:
    """The cluster a rule is limited to (None: every cluster); 404 unless it is the org's."""
    if not raw.strip():
        return None
    return get_for_org(db, Cluster, raw.strip(), ctx.org_id).id


def _saved_text(marked: int, held: view.Held) -> str:
    if marked == 0:
        return "The rule is saved. It holds no finding yet: none that it matches is left unignored."
    return f"Ignored {_findings(marked)} ({usd(held.monthly_cost)}/month left the totals)."


@router.post("/ignores")
def create_ignore(request: Request, db: DbSession, ctx: MemberOrg, data: FormFields) -> Response:
    """Add a rule from a finding's form (``finding_id``) or the rules page's form."""
    now = utcnow()
    finding_id = data.get("finding_id", "").strip()
    target = get_for_org(db, Finding, finding_id, ctx.org_id) if finding_id else None
    form = FORM_FINDING if target is not None else FORM_RULE
    try:
        if target is not None:
            new = forms.finding_rule(target, data, now=now)
        else:
            cluster_id = _cluster_choice(db, ctx, data.get("cluster_id", ""))
            new = forms.general_rule(data, cluster_id=cluster_id, now=now)
        rule, marked = create_rule(
            db, ctx.org_id, new, user_id=ctx.user.id, user_email=ctx.user.email, now=now
        )
    except RuleError as exc:
        return _page(
            request, db, ctx, target=target, form=form, values=data, error=str(exc),
            status_code=422, block="finding_form" if form == FORM_FINDING else "rule_form",
        )  # fmt: skip
    refresh_clusters(db, ctx.org_id, touched_clusters(db, rule), now=now)
    held = view.held_by(db, ctx.org_id, [rule.id], now=now).get(rule.id, view.Held())
    accounts.add_toast(ctx.web_session, "success", _saved_text(marked, held))
    default = f"/findings/{target.id}" if target is not None else "/ignores"
    nxt = data.get("next", "").strip()
    return _done(request, safe_next(nxt) if nxt else default)


@router.post("/ignores/{rule_id}/delete")
def delete_ignore(
    request: Request,
    db: DbSession,
    rule_id: uuid.UUID,
    ctx: MemberOrg,
    rule: RuleDep,
    data: FormFields,
) -> Response:
    """Delete a rule: its findings count again, unless another active rule takes them over."""
    now = utcnow()
    before = view.ignored_totals(db, ctx.org_id, now=now)
    held = view.held_by(db, ctx.org_id, [rule.id], now=now).get(rule.id, view.Held())
    refresh_clusters(db, ctx.org_id, delete_rule(db, rule, now=now), now=now)
    after = view.ignored_totals(db, ctx.org_id, now=now)
    released = before.findings - after.findings
    if released:
        cost = usd(before.monthly_cost - after.monthly_cost)
        text = (
            f"The rule is deleted: {_findings(released)} no longer ignored"
            f" ({cost}/month back in the totals)."
        )
    elif held.findings:
        text = "The rule is deleted. The findings it held are still ignored, by another rule."
    else:
        text = "The rule is deleted; it held no findings."
    accounts.add_toast(ctx.web_session, "success", text)
    nxt = data.get("next", "").strip()
    return _done(request, safe_next(nxt) if nxt else "/ignores")
