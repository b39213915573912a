"""Turn the two ignore forms into a ``NewRule``; anything unusable is a ``RuleError``.

- The finding form (on a finding's page): this finding, or every name matching a pattern
  (prefilled from the finding's name) of its kind, in its namespace and cluster.
- The rule form (on the ignore-rules page): a name pattern or a kind, in one namespace or
  among cluster-scoped objects, in one cluster or in every cluster.

Both carry a reason and an expiry: none, 7 / 30 / 90 days, or a date (the rule stops applying
at 00:00 UTC that day). What the service checks itself (reason, pattern syntax, an expiry in
the past) is left to it, so the messages are the same wherever a rule is made.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from app.findings.ignore_view import object_label
from app.findings.ignores import NewRule, RuleError
from app.findings.models import IgnoreScope
from app.kube.kinds import REPORTABLE_KINDS, resolve_kind
from app.scans.models import Finding

EXPIRY_CHOICES: tuple[tuple[str, str], ...] = (
    ("", "Never"),
    ("7", "In 7 days"),
    ("30", "In 30 days"),
    ("90", "In 90 days"),
    ("date", "On a date (below)"),
)
EXPIRY_DAYS = {"7": 7, "30": 30, "90": 90}
MATCH_FINDING = "finding"
MATCH_PATTERN = "pattern"
# A Kubernetes namespace name: an RFC 1123 label.
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def kind_choices() -> list[tuple[str, str]]:
    return [(kind, kind) for kind in sorted(REPORTABLE_KINDS)]


def parse_expiry(values: Mapping[str, str], *, now: datetime) -> datetime | None:
    """The expiry the form asks for; None for "never"."""
    choice = values.get("expiry", "").strip()
    if not choice:
        return None
    if choice in EXPIRY_DAYS:
        return now + timedelta(days=EXPIRY_DAYS[choice])
    if choice != "date":
        raise RuleError("Choose when the rule expires: never, in 7, 30 or 90 days, or on a date.")
    raw = values.get("expires_on", "").strip()
    if not raw:
        raise RuleError("Give the date the rule expires on, or choose another expiry.")
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise RuleError(f"The expiry date {raw!r} is not a date like 2026-12-31.") from None
    return datetime.combine(day, time(0), UTC)


def _reason(values: Mapping[str, str]) -> str:
    return values.get("reason", "")


def finding_rule(finding: Finding, values: Mapping[str, str], *, now: datetime) -> NewRule:
    """The rule the finding form asks for (``finding`` already belongs to the organisation)."""
    expires_at = parse_expiry(values, now=now)
    label = object_label(finding.kind, finding.namespace, finding.name)
    match = values.get("match", MATCH_FINDING)
    if match == MATCH_PATTERN:
        return NewRule(
            IgnoreScope.name_pattern,
            _reason(values),
            cluster_id=finding.cluster_id,
            namespace=finding.namespace,
            kind=finding.kind,
            name_pattern=values.get("name_pattern", ""),
            expires_at=expires_at,
            label=label,
        )
    if match != MATCH_FINDING:
        raise RuleError("Choose to ignore this finding or every name matching the pattern.")
    return NewRule(
        IgnoreScope.finding,
        _reason(values),
        cluster_id=finding.cluster_id,
        namespace=finding.namespace,
        kind=finding.kind,
        finding_identity=finding.identity,
        expires_at=expires_at,
        label=label,
    )


def _namespace(values: Mapping[str, str]) -> str | None:
    if values.get("cluster_scoped"):
        return None
    namespace = values.get("namespace", "").strip()
    if not namespace:
        raise RuleError(
            "Give the namespace, or choose cluster-scoped objects (those in no namespace)."
        )
    if not _NAMESPACE.fullmatch(namespace):
        raise RuleError(
            f"{namespace!r} is not a namespace name: lower-case letters, digits and '-',"
            " at most 63 characters."
        )
    return namespace


def _kind(values: Mapping[str, str]) -> str | None:
    raw = values.get("kind", "").strip()
    if not raw:
        return None
    spec = resolve_kind(raw)
    if spec is None or spec.kind not in REPORTABLE_KINDS:
        raise RuleError(f"Leftover reports no kind called {raw!r}: choose one from the list.")
    return spec.kind


def general_rule(
    values: Mapping[str, str], *, cluster_id: uuid.UUID | None, now: datetime
) -> NewRule:
    """The rule the rules page's form asks for; ``cluster_id`` already checked (None: every)."""
    namespace = _namespace(values)
    kind = _kind(values)
    pattern = values.get("name_pattern", "").strip()
    expires_at = parse_expiry(values, now=now)
    if not pattern and kind is None:
        raise RuleError("Choose a kind, or give a name pattern (or both).")
    scope = IgnoreScope.name_pattern if pattern else IgnoreScope.kind
    return NewRule(
        scope,
        _reason(values),
        cluster_id=cluster_id,
        namespace=namespace,
        kind=kind,
        name_pattern=pattern or None,
        expires_at=expires_at,
    )
