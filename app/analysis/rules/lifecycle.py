"""Rules that apply to every kind: stuck deletions, missing owners, ``kor/used=false``."""

from __future__ import annotations

from app.analysis.exceptions import KOR_USED_LABEL
from app.analysis.model import Confidence
from app.analysis.rules.base import Candidate, Found
from app.analysis.timeutil import age, human
from app.kube.kinds import BY_KIND

# Kinds with a rule of their own for a missing owner, or whose owner is not a real object.
_OWN_OWNER_RULE = frozenset({"ReplicaSet"})


def _reportable(found: Found) -> list[str]:
    return [k for k in found.ctx.snap.objects if BY_KIND[k].reportable]


def check_stuck_deletions(found: Found) -> None:
    """Report objects whose deletion has waited on finalizers past the threshold."""
    ctx = found.ctx
    threshold = ctx.options.stuck_deletion_threshold
    for kind in _reportable(found):
        for obj in ctx.snap.items(kind):
            meta = obj.metadata
            if not meta.deletion_timestamp:
                continue
            waited = age(meta.deletion_timestamp, ctx.now)
            if waited is None or waited < threshold:
                continue
            if not meta.finalizers and kind != "Namespace":
                continue
            pending = ", ".join(meta.finalizers) or "the namespace's content"
            found.add(
                Candidate(
                    kind,
                    obj,
                    "stuck-deletion",
                    f"deletion requested {human(waited)} ago, still waiting on {pending}",
                    Confidence.HIGH,
                    evidence=(f"metadata.deletionTimestamp={meta.deletion_timestamp}",),
                )
            )


def check_missing_owners(found: Found) -> None:
    """Report objects every one of whose owners is gone (the garbage collector left them)."""
    ctx = found.ctx
    for kind in _reportable(found):
        if kind in _OWN_OWNER_RULE:
            continue
        for obj in ctx.snap.items(kind):
            meta = obj.metadata
            owners = meta.owner_references
            if not owners:
                continue
            if not all(ctx.owner_exists(r, meta.namespace) is False for r in owners):
                continue
            names = " and ".join(f"{r.kind} {r.name}" for r in owners)
            found.add(
                Candidate(
                    kind,
                    obj,
                    "owner-missing",
                    f"owner {names} no longer exists",
                    Confidence.HIGH,
                    evidence=tuple(
                        f"ownerReference {r.kind}/{r.name} (uid {r.uid}) not found" for r in owners
                    ),
                )
            )


def check_labelled_unused(found: Found) -> None:
    """Report whatever its owner labelled ``kor/used=false`` and no rule reported already."""
    ctx = found.ctx
    for kind in _reportable(found):
        for obj in ctx.snap.items(kind):
            meta = obj.metadata
            value = meta.labels.get(KOR_USED_LABEL)
            if value is None or value.strip().lower() != "false":
                continue
            if found.is_reported(kind, meta.namespace or None, meta.name):
                continue
            found.add(
                Candidate(
                    kind,
                    obj,
                    "labelled-unused",
                    f"labelled {KOR_USED_LABEL}=false by its owner",
                    Confidence.HIGH,
                )
            )
