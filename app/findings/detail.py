"""One finding in full: its cascade drawn as chains, who owns it, and how to remove it.

A cascading finding names the idle users it cascades from (``cascade_from``); each of those
may be a finding that cascades in turn. The chains run from an idle root to this object, and
link every step that is a current finding of the same cluster to its own page.

The removal commands delete users before what they use: the idle root first, this object
last. Stopped halfway, that order leaves plain orphans (which the next scan reports), never a
live reference to something already deleted, such as a scaled-to-zero Deployment whose
ConfigMap is gone and which would fail the day someone scales it up.
"""

from __future__ import annotations

import shlex
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.clouds.models import Cluster
from app.findings.ignores import is_ignored
from app.findings.models import IgnoreRule
from app.kube.kinds import BY_KIND
from app.scans.models import Finding
from app.tenancy import get_for_org

MAX_DEPTH = 6  # cascade levels followed upwards
MAX_REFS = 50  # owners looked up per level
MAX_CHAINS = 20

Ref = tuple[str, str | None, str]  # kind, namespace, name


@dataclass(frozen=True)
class Step:
    """One object of a cascade: what it is, its own finding (if current) and its command."""

    kind: str
    namespace: str | None
    name: str
    finding_id: uuid.UUID | None
    command: str
    depth: int  # 0 for an idle root; this object is the deepest


@dataclass(frozen=True)
class Detail:
    finding: Finding
    cluster: Cluster
    chains: list[list[Step]]  # each from an idle root to this object
    removal: list[Step]  # the whole set in a safe order (users first); [this] when no cascade
    rule: IgnoreRule | None
    ignored: bool
    owner: tuple[str, str] | None  # (what, name): ("Helm release", "shop")


def resource(kind: str, api_version: str | None) -> str:
    """What ``kubectl delete`` calls a kind: ``configmap``, ``deployment.apps``, ``x.example.com``.

    The group comes from the object's apiVersion; for an owner known only by its kind, from
    the kinds Leftover reads."""
    if api_version is not None:
        group = api_version.split("/", 1)[0] if "/" in api_version else ""
    else:
        spec = BY_KIND.get(kind)
        group = spec.group if spec is not None else ""
    return f"{kind.lower()}.{group}" if group else kind.lower()


def kubectl_delete(
    context: str, kind: str, api_version: str | None, name: str, namespace: str | None
) -> str:
    """The shell command that deletes one object, every customer-given word quoted."""
    words = [
        "kubectl",
        "--context",
        shlex.quote(context),
        "delete",
        shlex.quote(resource(kind, api_version)),
        shlex.quote(name),
    ]
    if namespace:
        words += ["-n", shlex.quote(namespace)]
    return " ".join(words)


def owner_of(value: str | None) -> tuple[str, str] | None:
    """``helm:shop`` → ("Helm release", "shop"); other prefixes as Argo CD app or team label."""
    if not value:
        return None
    prefix, _, name = value.partition(":")
    what = {"helm": "Helm release", "argocd": "Argo CD application", "team": "Team label"}.get(
        prefix
    )
    return (what, name) if what and name else ("Owner", value)


def _ref(doc: object) -> Ref | None:
    if not isinstance(doc, dict):
        return None
    kind, namespace, name = doc.get("kind"), doc.get("namespace"), doc.get("name")
    if not isinstance(kind, str) or not isinstance(name, str) or not kind or not name:
        return None
    return kind, namespace if isinstance(namespace, str) and namespace else None, name


def _owners(finding: Finding) -> list[Ref]:
    return list(dict.fromkeys(r for r in map(_ref, finding.cascade_from or []) if r is not None))


def _lookup(session: Session, cluster_id: uuid.UUID, refs: list[Ref]) -> dict[Ref, Finding]:
    """The current findings of ``cluster_id`` about these objects."""
    if not refs:
        return {}
    match = [
        and_(
            Finding.kind == kind,
            Finding.namespace.is_(None) if namespace is None else Finding.namespace == namespace,
            Finding.name == name,
        )
        for kind, namespace, name in refs[:MAX_REFS]
    ]
    stmt = select(Finding).where(Finding.cluster_id == cluster_id, or_(*match))
    found: dict[Ref, Finding] = {}
    for row in session.scalars(stmt):
        found.setdefault((row.kind, row.namespace, row.name), row)
    return found


def _graph(session: Session, finding: Finding) -> tuple[dict[Ref, list[Ref]], dict[Ref, Finding]]:
    """Who each object of the cascade cascades from, followed up to MAX_DEPTH levels."""
    me: Ref = (finding.kind, finding.namespace, finding.name)
    parents: dict[Ref, list[Ref]] = {me: _owners(finding)}
    known: dict[Ref, Finding] = {me: finding}
    level = [r for r in parents[me] if r != me]
    for _ in range(MAX_DEPTH):
        fresh = [r for r in dict.fromkeys(level) if r not in parents]
        if not fresh:
            break
        found = _lookup(session, finding.cluster_id, fresh)
        known.update(found)
        level = []
        for ref in fresh:
            owners = _owners(found[ref]) if ref in found else []
            parents[ref] = [o for o in owners if o != ref]
            level += parents[ref]
    return parents, known


def _chains(parents: dict[Ref, list[Ref]], me: Ref) -> list[list[Ref]]:
    """Paths from each idle root down to ``me`` (cycles cut, at most MAX_CHAINS)."""
    out: list[list[Ref]] = []

    def walk(ref: Ref, below: list[Ref]) -> None:
        if len(out) >= MAX_CHAINS:
            return
        ups = [p for p in parents.get(ref, []) if p not in below and p != ref]
        if not ups:
            out.append([ref, *below])
            return
        for up in ups:
            walk(up, [ref, *below])

    walk(me, [])
    return out


def build(session: Session, finding: Finding, *, now: datetime) -> Detail:
    """Everything the finding's page shows (``finding`` already checked to be the org's)."""
    cluster = get_for_org(session, Cluster, finding.cluster_id, finding.org_id)
    me: Ref = (finding.kind, finding.namespace, finding.name)
    parents, known = _graph(session, finding)
    paths = _chains(parents, me) if parents[me] else []
    depth: dict[Ref, int] = {me: 0}
    for path in paths:
        for i, ref in enumerate(path):
            depth[ref] = max(depth.get(ref, 0), i)

    def step(ref: Ref) -> Step:
        row = known.get(ref)
        kind, namespace, name = ref
        api_version = row.api_version if row is not None else None
        return Step(
            kind,
            namespace,
            name,
            row.id if row is not None else None,
            kubectl_delete(cluster.name, kind, api_version, name, namespace),
            depth[ref],
        )

    chains = [[step(ref) for ref in path] for path in paths]
    order = sorted(depth, key=lambda r: (depth[r], r != me, r[0], r[1] or "", r[2]))
    order = [r for r in order if r != me] + [me]
    rule = None
    if finding.ignore_rule_id is not None:
        rule = session.scalar(
            select(IgnoreRule).where(
                IgnoreRule.id == finding.ignore_rule_id, IgnoreRule.org_id == finding.org_id
            )
        )
    return Detail(
        finding=finding,
        cluster=cluster,
        chains=chains,
        removal=[step(r) for r in order],
        rule=rule,
        ignored=is_ignored(finding, now),
        owner=owner_of(finding.owner),
    )
