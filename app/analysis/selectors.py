"""Label selector semantics, exactly as the API server applies them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from app.kube.objects import LabelSelector, LabelSelectorRequirement


def matches_map(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """A Service-style selector: every pair must be present. An empty map matches nothing here;
    callers decide what an empty selector means for their kind."""
    return all(labels.get(k) == v for k, v in selector.items())


def matches(selector: LabelSelector | None, labels: Mapping[str, str]) -> bool:
    """A metav1.LabelSelector: matchLabels and every matchExpression must hold.

    A null selector matches nothing; an empty one (``{}``) matches everything, which is how
    policy/v1 PodDisruptionBudgets and NetworkPolicy ``podSelector: {}`` behave.
    """
    if selector is None:
        return False
    return matches_map(selector.match_labels, labels) and expressions_hold(
        selector.match_expressions, labels
    )


def expressions_hold(
    requirements: Sequence[LabelSelectorRequirement], labels: Mapping[str, str]
) -> bool:
    """Whether every matchExpression holds for ``labels``."""
    for req in requirements:
        op = req.operator
        present = req.key in labels
        if op == "In":
            if not present or labels[req.key] not in req.values:
                return False
        elif op == "NotIn":
            if present and labels[req.key] in req.values:
                return False
        elif op == "Exists":
            if not present:
                return False
        elif op == "DoesNotExist":
            if present:
                return False
        else:
            # The API server rejects unknown operators; an object carrying one selects nothing.
            return False
    return True


def describe(selector: LabelSelector | Mapping[str, str] | None) -> str:
    """The selector in kubectl's ``-l`` syntax, for evidence lines."""
    if selector is None:
        return "<none>"
    if not isinstance(selector, LabelSelector):
        return ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or "<everything>"
    parts = [f"{k}={v}" for k, v in sorted(selector.match_labels.items())]
    for req in selector.match_expressions:
        if req.operator in ("In", "NotIn"):
            parts.append(f"{req.key} {req.operator.lower()} ({','.join(req.values)})")
        elif req.operator == "Exists":
            parts.append(req.key)
        elif req.operator == "DoesNotExist":
            parts.append(f"!{req.key}")
    return ",".join(parts) or "<everything>"
