"""What rules produce, and the one place that decides which of it is reported.

Rules propose *candidates*; ``Found.add`` applies, in this order, the label overrides
(``leftover.dev/ignore``, ``kor/used``), the platform defaults, and the known-indirect-user
heuristics that lower a finding to "needs review". Doing it at add time means later rules see
the final verdict: a ServiceAccount dropped as a platform default does not make its Secrets
cascade.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from app.analysis.context import Context, Key
from app.analysis.exceptions import Policy
from app.analysis.model import Confidence, Cost, ObjectRef
from app.analysis.references import References, Use


@dataclass(slots=True)
class Candidate:
    kind: str
    obj: Any
    rule: str
    reason: str
    confidence: Confidence
    cascade_from: tuple[ObjectRef, ...] = ()
    evidence: tuple[str, ...] = ()
    cost: Cost | None = None
    security_risk: bool = False
    by_reference: bool = False  # decided by the absence of references: indirect users matter

    @property
    def key(self) -> Key:
        meta = self.obj.metadata
        return (self.kind, meta.namespace or None, meta.name)


class Found:
    """Collects candidates; knows which objects are reported so far."""

    def __init__(self, ctx: Context, refs: References, policy: Policy) -> None:
        self.ctx = ctx
        self.refs = refs
        self.policy = policy
        self.candidates: dict[Key, Candidate] = {}
        self.reported: set[Key] = set()
        self.not_evaluated: dict[str, str] = {}

    def add(self, cand: Candidate) -> None:
        verdict = self.policy.judge(cand, self.ctx, self.refs)
        if verdict is None:
            return
        if cand.key in self.candidates:
            return  # one finding per object: the first rule to decide wins (see engine.RULES)
        self.candidates[cand.key] = verdict
        if verdict.confidence >= Confidence.MEDIUM:
            self.reported.add(cand.key)

    def is_reported(self, kind: str, namespace: str | None, name: str) -> bool:
        return (kind, namespace, name) in self.reported

    def skip(self, rule: str, needs: Sequence[str]) -> bool:
        """True when a kind ``rule`` needs was not read. ``needs[0]`` is the kind judged: when
        none of it was read there is nothing to judge (the reader has said why); when only
        its evidence is missing, the rule is noted as not evaluated."""
        missing = [k for k in needs if k not in self.ctx.snap.listed]
        if not missing:
            return False
        judged = needs[0]
        if judged in missing and not self.ctx.snap.items(judged):
            return True
        self.not_evaluated[rule] = "could not read " + ", ".join(missing)
        return True

    # --- reference judgement ----------------------------------------------------------

    def live(self, use: Use) -> bool:
        if use.dynamic:
            return use.by.kind not in _DYNAMIC_KINDS or not self.is_reported(
                use.by.kind, use.by.namespace, use.by.name
            )
        return use.live

    def judge_uses(self, uses: Iterable[Use]) -> tuple[bool, list[Use]]:
        """(used, idle uses): used when any use is live; otherwise the idle uses (maybe none)."""
        idle: list[Use] = []
        for use in uses:
            if self.live(use):
                return True, []
            idle.append(use)
        return False, idle

    def add_unreferenced(
        self,
        kind: str,
        obj: Any,
        *,
        rule: str,
        uses: list[Use],
        noun: str,
        confidence: Confidence = Confidence.MEDIUM,
        cost: Cost | None = None,
        security_risk: bool = False,
        extra_evidence: tuple[str, ...] = (),
    ) -> None:
        """Report ``obj`` when no live user references it: a plain or a cascading orphan."""
        used, idle = self.judge_uses(uses)
        if used:
            return
        if not idle:
            self.add(
                Candidate(
                    kind,
                    obj,
                    rule,
                    f"no {noun} references it",
                    confidence,
                    evidence=extra_evidence or (f"no {noun} in the cluster references it",),
                    cost=cost,
                    security_risk=security_risk,
                    by_reference=True,
                )
            )
            return
        owners = _unique_refs(u.by for u in idle)
        states = {u.by: ("is itself unused" if u.dynamic else u.state) for u in idle}
        if len(owners) == 1:
            reason = f"only referenced by {owners[0]}, which {states[owners[0]]}"
        else:
            listed = ", ".join(f"{r} ({states[r]})" for r in owners[:3])
            more = f" and {len(owners) - 3} more" if len(owners) > 3 else ""
            reason = f"only referenced by idle users: {listed}{more}"
        self.add(
            Candidate(
                kind,
                obj,
                rule,
                reason,
                Confidence.MEDIUM,
                cascade_from=tuple(owners),
                evidence=tuple(f"referenced by {u.describe()}, which {states[u.by]}" for u in idle)
                + extra_evidence,
                cost=cost,
                security_risk=security_risk,
                by_reference=True,
            )
        )


# Kinds whose use of something is void once they are themselves reported.
_DYNAMIC_KINDS = frozenset(
    {"ServiceAccount", "Ingress", "RoleBinding", "ClusterRoleBinding", "Service"}
)


def _unique_refs(refs: Iterable[ObjectRef]) -> list[ObjectRef]:
    return list(dict.fromkeys(refs))
