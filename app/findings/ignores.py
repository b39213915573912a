"""Ignore rules: matching, applying and expiring them.

A finding is *ignored now* when it carries a rule (``Finding.ignore_rule_id``) whose expiry
(copied into ``Finding.ignored_until``) has not passed. Queries compare that expiry with the
clock, so a rule stops applying at its expiry by itself; ``expire_rules`` later tidies the
rows (and lets another rule that still applies take over) and refreshes the roll-ups.

Rules are applied when a cluster publishes a scan (to its new findings) and when a rule is
added or deleted. Ignored findings stay listed (under the "ignored" filter) but leave totals
and emails. Name patterns are globs (``*`` any run, ``?`` one character), matched
case-sensitively like Kubernetes names.
"""

from __future__ import annotations

import fnmatch
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlalchemy.orm import Session

from app.findings.models import IgnoreRule, IgnoreScope
from app.scans.models import Finding

MAX_REASON = 1000
MAX_PATTERN = 253
_PATTERN = re.compile(r"[a-z0-9.\-*?]+")  # what Kubernetes names may hold, plus the globs


class RuleError(ValueError):
    """A rule a user asked for that cannot be saved; the message says why in plain words."""


def ignored_now(now: datetime) -> ColumnElement[bool]:
    """Finding is ignored at ``now`` (its rule has no expiry or expires later)."""
    return and_(
        Finding.ignore_rule_id.is_not(None),
        or_(Finding.ignored_until.is_(None), Finding.ignored_until > now),
    )


def not_ignored_now(now: datetime) -> ColumnElement[bool]:
    return or_(
        Finding.ignore_rule_id.is_(None),
        and_(Finding.ignored_until.is_not(None), Finding.ignored_until <= now),
    )


def counted(now: datetime) -> ColumnElement[bool]:
    """Finding counts in totals and emails at ``now``."""
    return and_(Finding.counts_in_total.is_(True), not_ignored_now(now))


def rule_active(now: datetime) -> ColumnElement[bool]:
    return or_(IgnoreRule.expires_at.is_(None), IgnoreRule.expires_at > now)


def glob_to_like(pattern: str) -> str:
    """A name glob as a SQL LIKE pattern with ``\\`` as the escape character."""
    out = []
    for ch in pattern:
        if ch == "*":
            out.append("%")
        elif ch == "?":
            out.append("_")
        elif ch in "%_\\":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def rule_condition(rule: IgnoreRule) -> ColumnElement[bool]:
    """The findings (of the rule's organisation) that ``rule`` covers, as SQL."""
    parts: list[ColumnElement[bool]] = [Finding.org_id == rule.org_id]
    if rule.cluster_id is not None:
        parts.append(Finding.cluster_id == rule.cluster_id)
    if rule.scope == IgnoreScope.finding:
        parts.append(Finding.identity == rule.finding_identity)
        return and_(*parts)
    if rule.namespace is None:
        parts.append(Finding.namespace.is_(None))
    else:
        parts.append(Finding.namespace == rule.namespace)
    if rule.kind is not None:
        parts.append(Finding.kind == rule.kind)
    if rule.scope == IgnoreScope.name_pattern and rule.name_pattern is not None:
        parts.append(Finding.name.like(glob_to_like(rule.name_pattern), escape="\\"))
    return and_(*parts)


def rule_matches(rule: IgnoreRule, finding: Finding) -> bool:
    """``rule_condition`` in Python, for one loaded finding (pages that explain a rule)."""
    if finding.org_id != rule.org_id:
        return False
    if rule.cluster_id is not None and finding.cluster_id != rule.cluster_id:
        return False
    if rule.scope == IgnoreScope.finding:
        return finding.identity == rule.finding_identity
    if finding.namespace != rule.namespace:
        return False
    if rule.kind is not None and finding.kind != rule.kind:
        return False
    if rule.scope == IgnoreScope.name_pattern and rule.name_pattern is not None:
        return fnmatch.fnmatchcase(finding.name, rule.name_pattern)
    return True


@dataclass(frozen=True, slots=True)
class NewRule:
    """What a user asks to ignore; ``validated`` turns it into columns or raises RuleError."""

    scope: IgnoreScope
    reason: str
    cluster_id: uuid.UUID | None = None
    namespace: str | None = None
    kind: str | None = None
    name_pattern: str | None = None
    finding_identity: str | None = None
    expires_at: datetime | None = None
    label: str = ""


def _validate(new: NewRule, now: datetime) -> NewRule:
    reason = " ".join(new.reason.split())
    if not reason:
        raise RuleError("Say why this is ignored: the reason is shown to everyone in the team.")
    if len(reason) > MAX_REASON:
        raise RuleError(f"The reason is too long ({len(reason)} characters, at most {MAX_REASON}).")
    if new.expires_at is not None and new.expires_at <= now:
        raise RuleError("The expiry is in the past: choose a later date or none.")
    if new.scope == IgnoreScope.finding:
        if new.finding_identity is None or new.cluster_id is None:
            raise RuleError("Choose the finding to ignore.")
    elif new.scope == IgnoreScope.name_pattern:
        pattern = (new.name_pattern or "").strip()
        if not pattern:
            raise RuleError("Give a name pattern, for example 'backup-*'.")
        if len(pattern) > MAX_PATTERN or not _PATTERN.fullmatch(pattern):
            raise RuleError(
                "A name pattern holds lower-case letters, digits, '-', '.', and the wildcards"
                " '*' (any run of characters) and '?' (one character)."
            )
        if pattern.strip("*?") == "" and not new.kind:
            raise RuleError(
                "A pattern of only wildcards ignores the whole namespace: choose a kind, or"
                " ignore the kind in this namespace instead."
            )
        new = replace(new, name_pattern=pattern)
    elif new.scope == IgnoreScope.kind and not (new.kind or "").strip():
        raise RuleError("Choose the kind to ignore.")
    return replace(new, reason=reason)


def create_rule(
    session: Session,
    org_id: uuid.UUID,
    new: NewRule,
    *,
    user_id: uuid.UUID | None,
    user_email: str,
    now: datetime,
) -> tuple[IgnoreRule, int]:
    """Save a rule and mark the findings it covers; (rule, findings newly ignored).

    The caller refreshes the roll-ups of the clusters concerned (``touched_clusters``)."""
    new = _validate(new, now)
    rule = IgnoreRule(
        org_id=org_id,
        scope=new.scope.value,
        cluster_id=new.cluster_id,
        namespace=new.namespace,
        kind=new.kind,
        name_pattern=new.name_pattern,
        finding_identity=new.finding_identity,
        label=new.label[:600],
        reason=new.reason,
        expires_at=new.expires_at,
        created_by_id=user_id,
        created_by_email=user_email,
    )
    session.add(rule)
    session.flush()
    return rule, _mark(session, rule, now=now)


def _mark(session: Session, rule: IgnoreRule, *, now: datetime) -> int:
    """Point the rule's findings that no other active rule holds at ``rule``."""
    result = session.execute(
        update(Finding)
        .where(rule_condition(rule), not_ignored_now(now))
        .values(ignore_rule_id=rule.id, ignored_until=rule.expires_at)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def touched_clusters(session: Session, rule: IgnoreRule) -> list[uuid.UUID]:
    """Clusters holding findings the rule covers (whose roll-ups its change alters)."""
    stmt = select(Finding.cluster_id).where(rule_condition(rule)).distinct()
    return list(session.scalars(stmt))


def delete_rule(session: Session, rule: IgnoreRule, *, now: datetime) -> list[uuid.UUID]:
    """Delete a rule; its findings fall to another active rule or become counted again.

    Returns the clusters whose roll-ups changed."""
    clusters = touched_clusters(session, rule)
    session.execute(
        update(Finding)
        .where(Finding.ignore_rule_id == rule.id)
        .values(ignore_rule_id=None, ignored_until=None)
        .execution_options(synchronize_session=False)
    )
    org_id = rule.org_id
    session.execute(delete(IgnoreRule).where(IgnoreRule.id == rule.id))
    apply_rules(session, org_id, cluster_ids=clusters, now=now)
    return clusters


def active_rules(session: Session, org_id: uuid.UUID, *, now: datetime) -> Sequence[IgnoreRule]:
    stmt = (
        select(IgnoreRule)
        .where(IgnoreRule.org_id == org_id, rule_active(now))
        .order_by(IgnoreRule.created_at, IgnoreRule.id)
    )
    return session.scalars(stmt).all()


def apply_rules(
    session: Session,
    org_id: uuid.UUID,
    *,
    cluster_ids: Iterable[uuid.UUID] | None = None,
    now: datetime,
) -> int:
    """Mark findings of the organisation (or of these clusters) that active rules cover.

    Findings already held by an active rule keep it; the oldest rule wins for the rest."""
    clusters = None if cluster_ids is None else list(cluster_ids)
    if clusters == []:
        return 0
    marked = 0
    for rule in active_rules(session, org_id, now=now):
        if rule.cluster_id is not None and clusters is not None and rule.cluster_id not in clusters:
            continue
        where = [rule_condition(rule), not_ignored_now(now)]
        if clusters is not None:
            where.append(Finding.cluster_id.in_(clusters))
        result = session.execute(
            update(Finding)
            .where(*where)
            .values(ignore_rule_id=rule.id, ignored_until=rule.expires_at)
            .execution_options(synchronize_session=False)
        )
        marked += int(getattr(result, "rowcount", 0) or 0)
    return marked


def expire_rules(session: Session, *, now: datetime) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Release findings whose rule expired and re-apply the rules that still hold.

    Returns {org id: clusters whose roll-ups changed}. Expired rules stay listed (who added
    them, why, when they ended) until someone deletes them."""
    stale = session.execute(
        select(Finding.org_id, Finding.cluster_id)
        .where(Finding.ignored_until.is_not(None), Finding.ignored_until <= now)
        .distinct()
    ).all()
    if not stale:
        return {}
    session.execute(
        update(Finding)
        .where(Finding.ignored_until.is_not(None), Finding.ignored_until <= now)
        .values(ignore_rule_id=None, ignored_until=None)
        .execution_options(synchronize_session=False)
    )
    touched: dict[uuid.UUID, list[uuid.UUID]] = {}
    for org_id, cluster_id in stale:
        touched.setdefault(org_id, []).append(cluster_id)
    for org_id, clusters in touched.items():
        apply_rules(session, org_id, cluster_ids=clusters, now=now)
    return touched


def is_ignored(finding: Finding, now: datetime) -> bool:
    """``ignored_now`` for one loaded finding."""
    if finding.ignore_rule_id is None:
        return False
    return finding.ignored_until is None or finding.ignored_until > now


__all__ = [
    "IgnoreScope",
    "NewRule",
    "RuleError",
    "active_rules",
    "apply_rules",
    "counted",
    "create_rule",
    "delete_rule",
    "expire_rules",
    "glob_to_like",
    "ignored_now",
    "is_ignored",
    "not_ignored_now",
    "rule_active",
    "rule_condition",
    "rule_matches",
    "touched_clusters",
]
