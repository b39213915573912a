"""What the analysis returns: findings, their evidence and the result of one run."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import timedelta


class Confidence(enum.IntEnum):
    """How sure a finding is. Low means "needs review": listed, left out of totals."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Confidence:
        """``"high"`` → HIGH; raises ValueError naming the allowed values."""
        try:
            return cls[value.strip().upper()]
        except KeyError:
            raise ValueError(
                f"unknown confidence {value!r}; expected high, medium or low"
            ) from None


@dataclass(frozen=True, slots=True)
class ObjectRef:
    kind: str
    namespace: str | None
    name: str

    def __str__(self) -> str:
        return (
            f"{self.kind} {self.namespace}/{self.name}"
            if self.namespace
            else (f"{self.kind} {self.name}")
        )

    def as_dict(self) -> dict[str, str | None]:
        return {"kind": self.kind, "namespace": self.namespace, "name": self.name}


@dataclass(frozen=True, slots=True)
class Cost:
    monthly_usd: float
    basis: str  # e.g. "100 GiB gp3 × $0.08/GB-month"
    assumed: bool = False  # the price is a fallback, not one the book knows


NO_COST = Cost(0.0, "")


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    api_version: str
    namespace: str | None
    name: str
    uid: str
    rule: str
    reason: str
    confidence: Confidence
    cascade_from: tuple[ObjectRef, ...] = ()
    cost: Cost = NO_COST
    age_days: int | None = None
    owner: str | None = None
    security_risk: bool = False
    # Human-readable facts behind the decision ("referenced by Pod shop/cart-7f9 (Failed)").
    evidence: tuple[str, ...] = ()

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(self.kind, self.namespace, self.name)

    @property
    def monthly_cost_usd(self) -> float:
        return self.cost.monthly_usd

    def as_dict(self) -> dict[str, object]:
        """The finding as the CLI's JSON output and the web app's storage spell it."""
        return {
            "kind": self.kind,
            "api_version": self.api_version,
            "namespace": self.namespace,
            "name": self.name,
            "uid": self.uid,
            "rule": self.rule,
            "reason": self.reason,
            "confidence": self.confidence.label,
            "cascade_from": [r.as_dict() for r in self.cascade_from],
            "monthly_cost_usd": round(self.cost.monthly_usd, 2),
            "cost_basis": self.cost.basis,
            "age_days": self.age_days,
            "owner": self.owner,
            "security_risk": self.security_risk,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True, slots=True)
class Options:
    """What to report. The defaults are what RULES.md calls the thresholds."""

    include_namespaces: frozenset[str] = frozenset()
    exclude_namespaces: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()  # empty: every kind
    older_than: timedelta = timedelta(0)  # only objects at least this old
    min_confidence: Confidence = Confidence.LOW
    provider: str | None = None  # None: detect from nodes
    region: str | None = None
    finished_job_threshold: timedelta = timedelta(days=7)
    suspended_cronjob_threshold: timedelta = timedelta(days=7)
    crashloop_restart_threshold: int = 10
    stuck_deletion_threshold: timedelta = timedelta(hours=1)
    # Younger objects may be mid-rollout: findings about them are lowered to "needs review".
    grace_period: timedelta = timedelta(hours=24)
    check_crd_instances: bool = True

    def wants_namespace(self, namespace: str | None) -> bool:
        """Whether a finding in ``namespace`` is in scope (cluster-scoped ones always are)."""
        if namespace is None:
            return not self.include_namespaces
        if self.include_namespaces:
            return namespace in self.include_namespaces
        return namespace not in self.exclude_namespaces


@dataclass(frozen=True, slots=True)
class Summary:
    objects_scanned: int
    findings: int
    monthly_cost_usd: float
    by_kind: dict[str, dict[str, float | int]]

    def as_dict(self) -> dict[str, object]:
        return {
            "objects_scanned": self.objects_scanned,
            "findings": self.findings,
            "monthly_cost_usd": round(self.monthly_cost_usd, 2),
            "by_kind": self.by_kind,
        }


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    findings: tuple[Finding, ...]
    summary: Summary
    warnings: tuple[str, ...] = ()
    # rule name -> why it could not be evaluated (a kind was not readable, …)
    not_evaluated: dict[str, str] = field(default_factory=dict)
    provider: str | None = None
    region: str | None = None
