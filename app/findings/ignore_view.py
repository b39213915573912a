"""What the ignore-rule pages show: a rule's scope and expiry in words, and what it holds now.

A rule "holds" the findings that carry it and are ignored at this moment (``ignored_now``), so
an expired rule holds nothing even before the expiry task has tidied its findings.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.clouds.models import Cluster
from app.findings.ignores import ignored_now
from app.findings.models import IgnoreRule, IgnoreScope
from app.scans.models import Finding
from app.tenancy import scoped

HOUR = 3600
DAY = 24 * HOUR


@dataclass(frozen=True)
class Held:
    """The findings a rule holds now; ``monthly_cost`` is the part that left the totals."""

    findings: int = 0
    monthly_cost: Decimal = Decimal(0)


@dataclass(frozen=True)
class RuleRow:
    """One rule as the list shows it."""

    rule: IgnoreRule
    scope_text: str
    expiry_text: str
    expired: bool
    held: Held
    finding_id: uuid.UUID | None  # the current finding of a finding rule, to link to


def object_label(kind: str, namespace: str | None, name: str) -> str:
    """``Deployment shop/cart``, or ``PersistentVolume pv-1`` for a cluster-scoped object."""
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def _where(rule: IgnoreRule) -> str:
    return f"in namespace {rule.namespace}" if rule.namespace else "among cluster-scoped objects"


def _cluster_text(rule: IgnoreRule, cluster_names: Mapping[uuid.UUID, str]) -> str:
    if rule.cluster_id is None:
        return "in every cluster"
    return f"in {cluster_names.get(rule.cluster_id, 'a deleted cluster')}"


def scope_text(rule: IgnoreRule, cluster_names: Mapping[uuid.UUID, str]) -> str:
    """The rule's scope in words, e.g. "names matching backup-* in namespace data (ConfigMap)"."""
    where = _cluster_text(rule, cluster_names)
    if rule.scope == IgnoreScope.finding:
        label = rule.label or "a finding"
        return f"finding {label} {where}"
    if rule.scope == IgnoreScope.name_pattern:
        kind = f" ({rule.kind})" if rule.kind else ""
        return f"names matching {rule.name_pattern} {_where(rule)}{kind}, {where}"
    return f"every {rule.kind} {_where(rule)}, {where}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def expiry_text(expires_at: datetime | None, now: datetime) -> str:
    """ "never expires", "expires in 3 days", "expired on 2 Dec 2026"."""
    if expires_at is None:
        return "never expires"
    if expires_at <= now:
        return f"expired on {expires_at:%-d %b %Y}"
    seconds = (expires_at - now).total_seconds()
    if seconds < HOUR:
        return f"expires in {_plural(max(round(seconds / 60), 1), 'minute')}"
    if seconds < DAY:
        return f"expires in {_plural(round(seconds / HOUR), 'hour')}"
    return f"expires in {_plural(round(seconds / DAY), 'day')}"


def is_expired(rule: IgnoreRule, now: datetime) -> bool:
    return rule.expires_at is not None and rule.expires_at <= now


def held_by(
    session: Session, org_id: uuid.UUID, rule_ids: Collection[uuid.UUID], *, now: datetime
) -> dict[uuid.UUID, Held]:
    """Per rule: the findings it holds now and the monthly cost they took out of the totals."""
    if not rule_ids:
        return {}
    counted_cost = case((Finding.counts_in_total.is_(True), Finding.monthly_cost_usd), else_=0)
    stmt = (
        select(Finding.ignore_rule_id, func.count(), func.coalesce(func.sum(counted_cost), 0))
        .where(
            Finding.org_id == org_id,
            Finding.ignore_rule_id.in_(list(rule_ids)),
            ignored_now(now),
        )
        .group_by(Finding.ignore_rule_id)
    )
    return {
        rule_id: Held(int(count), Decimal(cost))
        for rule_id, count, cost in session.execute(stmt)
        if rule_id is not None
    }


def ignored_totals(session: Session, org_id: uuid.UUID, *, now: datetime) -> Held:
    """Every finding of the organisation ignored now; the cost of those that count in totals."""
    counted_cost = case((Finding.counts_in_total.is_(True), Finding.monthly_cost_usd), else_=0)
    count, cost = session.execute(
        select(func.count(), func.coalesce(func.sum(counted_cost), 0)).where(
            Finding.org_id == org_id, ignored_now(now)
        )
    ).one()
    return Held(int(count), Decimal(cost))


def cluster_names(session: Session, org_id: uuid.UUID) -> dict[uuid.UUID, str]:
    rows = session.execute(select(Cluster.id, Cluster.name).where(Cluster.org_id == org_id)).all()
    return {cluster_id: name for cluster_id, name in rows}


def _current_findings(
    session: Session, org_id: uuid.UUID, rules: Sequence[IgnoreRule]
) -> dict[tuple[uuid.UUID, str], uuid.UUID]:
    """(cluster, identity) → the current finding's id, for the finding rules in ``rules``."""
    identities = [r.finding_identity for r in rules if r.scope == IgnoreScope.finding]
    wanted = [i for i in identities if i is not None]
    if not wanted:
        return {}
    stmt = select(Finding.cluster_id, Finding.identity, Finding.id).where(
        Finding.org_id == org_id, Finding.identity.in_(wanted)
    )
    return {(c, i): f for c, i, f in session.execute(stmt)}


def rule_rows(
    session: Session, org_id: uuid.UUID, rules: Sequence[IgnoreRule], *, now: datetime
) -> list[RuleRow]:
    """``rules`` (of ``org_id``) with their scope, expiry and holdings, ready to list."""
    names = cluster_names(session, org_id)
    held = held_by(session, org_id, [r.id for r in rules], now=now)
    current = _current_findings(session, org_id, rules)
    rows = []
    for rule in rules:
        finding_id = None
        if rule.scope == IgnoreScope.finding and rule.cluster_id and rule.finding_identity:
            finding_id = current.get((rule.cluster_id, rule.finding_identity))
        rows.append(
            RuleRow(
                rule=rule,
                scope_text=scope_text(rule, names),
                expiry_text=expiry_text(rule.expires_at, now),
                expired=is_expired(rule, now),
                held=held.get(rule.id, Held()),
                finding_id=finding_id,
            )
        )
    return rows


def org_rules(session: Session, org_id: uuid.UUID) -> list[IgnoreRule]:
    """Every rule of the organisation, newest first."""
    stmt = scoped(select(IgnoreRule), org_id).order_by(IgnoreRule.created_at.desc(), IgnoreRule.id)
    return list(session.scalars(stmt))


def namespace_rules(
    session: Session, org_id: uuid.UUID, cluster_id: uuid.UUID, namespace: str | None
) -> list[IgnoreRule]:
    """Rules written for ``namespace`` (None: cluster-scoped objects) in this or every cluster."""
    where_ns = (
        IgnoreRule.namespace.is_(None) if namespace is None else IgnoreRule.namespace == namespace
    )
    stmt = (
        scoped(select(IgnoreRule), org_id)
        .where(
            where_ns,
            (IgnoreRule.cluster_id.is_(None)) | (IgnoreRule.cluster_id == cluster_id),
        )
        .order_by(IgnoreRule.created_at.desc(), IgnoreRule.id)
    )
    return list(session.scalars(stmt))
