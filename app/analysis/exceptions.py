"""Platform defaults, label overrides and known indirect users: what is never, always, or only
tentatively reported.

The platform defaults are data (``platform_defaults.json``): names are matched exactly, or as an
anchored regular expression when they start with ``^`` — never as a substring, so a user's
``my-default-sa`` is not mistaken for ``default``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from app.analysis.model import Confidence
from app.analysis.timeutil import human, parse_time

if TYPE_CHECKING:
    from app.analysis.context import Context
    from app.analysis.references import References
    from app.analysis.rules.base import Candidate

IGNORE_LABEL = "leftover.dev/ignore"
KOR_USED_LABEL = "kor/used"

# Labels that name the application an object belongs to. An object sharing one with a live
# workload is probably read by that application through the API (Argo CD's argocd-cm, a Helm
# chart's settings Secret): "needs review", not waste.
APP_LABELS = (
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/instance",
    "k8s-app",
    "release",
)
HELM_RELEASE_ANNOTATION = "meta.helm.sh/release-name"
# Idle workloads that platforms ship on purpose (a Windows or GPU DaemonSet on a Linux-only
# cluster). A Deployment scaled to zero in kube-system is a user's leftover as anywhere else.
IDLE_ADDON_RULES = frozenset({"daemonset-unscheduled"})
# Besides absence-based findings, idle workloads get the grace period (a blue/green cut-over).
GRACE_RULES = frozenset({"workload-scaled-to-zero", "daemonset-unscheduled"})
ARGOCD_TRACKING_ANNOTATION = "argocd.argoproj.io/tracking-id"

# Kinds an application may use without naming them in a pod spec (read through the API,
# granted, installed for later). A Service, PDB, NetworkPolicy or volume is used by
# selection or mounting, which Leftover sees: belonging to a live application excuses nothing.
APP_CONSUMED = frozenset(
    {
        "ConfigMap",
        "Secret",
        "ServiceAccount",
        "Role",
        "ClusterRole",
        "CustomResourceDefinition",
        "PriorityClass",
        "StorageClass",
    }
)

# Sidecars such as k8s-sidecar (Grafana, kube-prometheus-stack) load ConfigMaps by label.
SIDECAR_LABELS = (
    "grafana_dashboard",
    "grafana_datasource",
    "grafana_alert",
    "grafana_notifier",
    "grafana_plugin",
    "prometheus_rule",
    "loki_rule",
    "kiali.io/dashboards",
)


class _Matcher:
    __slots__ = ("exact", "pattern")

    def __init__(self, text: str | None) -> None:
        self.exact: str | None = None
        self.pattern: re.Pattern[str] | None = None
        if text is None or text == "*":
            return
        if text.startswith("^"):
            self.pattern = re.compile(text)
        else:
            self.exact = text

    def __call__(self, value: str | None) -> bool:
        if self.pattern is not None:
            return value is not None and self.pattern.fullmatch(value) is not None
        if self.exact is not None:
            return value == self.exact
        return True


@dataclass(frozen=True, slots=True)
class _Entry:
    kind: str
    namespace: _Matcher
    name: _Matcher


@dataclass(frozen=True, slots=True)
class PlatformDefaults:
    # (kind, exact name) -> namespace matchers; per kind, entries whose name is a pattern.
    exact: Mapping[tuple[str, str], tuple[_Matcher, ...]]
    patterns: Mapping[str, tuple[_Entry, ...]]
    managed_labels: tuple[tuple[str, str | None], ...]
    platform_namespaces: tuple[_Matcher, ...]
    managed_namespaces: tuple[_Matcher, ...]

    def is_default(
        self, kind: str, namespace: str | None, name: str, labels: Mapping[str, str]
    ) -> bool:
        """Whether Kubernetes or the managed platform created this object."""
        if namespace is not None and any(m(namespace) for m in self.managed_namespaces):
            return True
        for key, value in self.managed_labels:
            if key in labels and (value is None or labels[key] == value):
                return True
        if any(ns(namespace) for ns in self.exact.get((kind, name), ())):
            return True
        return any(e.namespace(namespace) and e.name(name) for e in self.patterns.get(kind, ()))

    def is_platform_namespace(self, namespace: str | None) -> bool:
        """A namespace where the platform's add-ons live (users may install there too)."""
        return namespace is not None and any(
            m(namespace) for m in (*self.platform_namespaces, *self.managed_namespaces)
        )


@cache
def load_platform_defaults() -> PlatformDefaults:
    """The embedded platform-default data (read once; it ships inside the package)."""
    raw = json.loads(
        resources.files("app.analysis").joinpath("platform_defaults.json").read_text("utf-8")
    )
    exact: dict[tuple[str, str], list[_Matcher]] = {}
    patterns: dict[str, list[_Entry]] = {}
    for item in raw["entries"]:
        kind, name = item["kind"], item["name"]
        if name.startswith("^"):
            patterns.setdefault(kind, []).append(
                _Entry(kind, _Matcher(item["namespace"]), _Matcher(name))
            )
        else:
            exact.setdefault((kind, name), []).append(_Matcher(item["namespace"]))
    return PlatformDefaults(
        exact={k: tuple(v) for k, v in exact.items()},
        patterns={k: tuple(v) for k, v in patterns.items()},
        managed_labels=tuple((m["key"], m.get("value")) for m in raw["managed_labels"]),
        platform_namespaces=tuple(_Matcher(n) for n in raw["platform_namespaces"]),
        managed_namespaces=tuple(_Matcher(n) for n in raw["managed_namespaces"]),
    )


def app_identity(labels: Mapping[str, str], annotations: Mapping[str, str]) -> set[tuple[str, str]]:
    """The (label, value) pairs naming the application an object belongs to."""
    ids = {(k, labels[k]) for k in APP_LABELS if labels.get(k)}
    release = annotations.get(HELM_RELEASE_ANNOTATION)
    if release:
        ids.add(("helm", release))
    tracking = annotations.get(ARGOCD_TRACKING_ANNOTATION)
    if tracking:
        ids.add(("argocd", tracking.split(":", 1)[0]))
    return ids


class Policy:
    """Decides, for each candidate finding, whether and how confidently it is reported."""

    def __init__(self, ctx: Context, defaults: PlatformDefaults | None = None) -> None:
        self.defaults = defaults or load_platform_defaults()
        self.live_apps: dict[str, set[tuple[str, str]]] = {}
        self.live_apps_anywhere: set[tuple[str, str]] = set()
        for user in ctx.spec_users:
            if not user.live or user.ref != user.source:
                continue  # a Deployment's ReplicaSets carry the Deployment's identity
            ids = app_identity(user.labels, {})
            source = ctx.get(user.source.kind, user.source.namespace, user.source.name)
            if source is not None:
                ids |= app_identity(source.metadata.labels, source.metadata.annotations)
            self.live_apps.setdefault(user.namespace, set()).update(ids)
            self.live_apps_anywhere |= ids
        self.api_readers = _api_readers(ctx)
        self.now = ctx.now
        self.grace = ctx.options.grace_period

    def _young(self, meta: Any) -> str | None:
        """Why an object too new to judge needs review: it may be mid-rollout."""
        created = parse_time(meta.creation_timestamp)
        if created is None or self.now - created >= self.grace:
            return None
        return (
            f"needs review: created {human(self.now - created)} ago, within the "
            f"{human(self.grace)} grace period; a rollout may still be under way"
        )

    def judge(self, cand: Candidate, ctx: Context, refs: References) -> Candidate | None:
        """The candidate as reported (maybe at lower confidence), or None to drop it."""
        meta = cand.obj.metadata
        labels: Mapping[str, str] = meta.labels
        ns: str | None = meta.namespace or None
        if _true(labels.get(IGNORE_LABEL)) or _true(meta.annotations.get(IGNORE_LABEL)):
            return None
        kor = labels.get(KOR_USED_LABEL)
        if _true(kor):
            return None
        if kor is not None and kor.strip().lower() == "false":
            return replace(
                cand,
                confidence=Confidence.HIGH,
                evidence=(*cand.evidence, f"labelled {KOR_USED_LABEL}=false"),
            )
        if self.defaults.is_default(cand.kind, ns, meta.name, labels):
            return None
        if cand.confidence == Confidence.LOW:
            return cand
        young = self._young(meta) if cand.by_reference or cand.rule in GRACE_RULES else None
        if young:
            return replace(cand, confidence=Confidence.LOW, evidence=(*cand.evidence, young))
        if cand.rule in IDLE_ADDON_RULES and self.defaults.is_platform_namespace(ns):
            return replace(
                cand,
                confidence=Confidence.LOW,
                evidence=(
                    *cand.evidence,
                    f"needs review: {ns} holds platform add-ons, which ship workloads for node "
                    "types or features this cluster may not use",
                ),
            )
        if not cand.by_reference:
            return cand
        why = self._indirect_user(cand, refs)
        if why is None:
            return cand
        return replace(cand, confidence=Confidence.LOW, evidence=(*cand.evidence, why))

    def _indirect_user(self, cand: Candidate, refs: References) -> str | None:
        """Why something may use this object without referencing it, if anything suggests so."""
        meta = cand.obj.metadata
        ns: str | None = meta.namespace or None
        if cand.kind in ("ConfigMap", "Secret"):
            if meta.name in refs.mentioned:
                return "needs review: its name appears in a live container's command, args or env"
            for label in SIDECAR_LABELS:
                if label in meta.labels:
                    return f"needs review: sidecars load ConfigMaps labelled {label}"
            resource = "configmaps" if cand.kind == "ConfigMap" else "secrets"
            for names, reader in self.api_readers.get((ns, resource), ()):
                if names is None or meta.name in names:
                    return f"needs review: live {reader} may read it through the API" + (
                        " (granted by name)" if names is not None else ""
                    )
        ids = app_identity(meta.labels, meta.annotations) if cand.kind in APP_CONSUMED else set()
        live = self.live_apps.get(ns, set()) if ns else self.live_apps_anywhere
        shared = sorted(ids & live)
        if shared:
            key, value = shared[0]
            what = {"helm": "Helm release", "argocd": "Argo CD application"}.get(key, key)
            return f"needs review: part of {what} {value!r}, whose workloads are live"
        if self.defaults.is_platform_namespace(ns) and not cand.cascade_from:
            return f"needs review: {ns} is a platform namespace; its add-ons read objects by API"
        return None


def _true(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() == "true"


_READ_VERBS = frozenset({"get", "list", "watch", "*"})


def _api_readers(
    ctx: Context,
) -> dict[tuple[str | None, str], list[tuple[frozenset[str] | None, str]]]:
    """Which ConfigMaps and Secrets live applications may read through the API.

    (namespace, "configmaps"|"secrets") -> [(the names granted, or None for all; who)], for
    every ServiceAccount a live pod or template runs as. A ClusterRoleBinding counts for the
    account's own namespace only: an operator that may read every Secret in the cluster says
    nothing about a Secret elsewhere, but its own namespace's Secrets are its business.
    """
    live_accounts: set[tuple[str, str]] = set()
    for user in ctx.spec_users:
        if user.live:
            spec = user.spec
            name = spec.service_account_name or spec.service_account or "default"
            live_accounts.add((user.namespace, name))
    readers: dict[tuple[str | None, str], list[tuple[frozenset[str] | None, str]]] = {}
    for kind in ("RoleBinding", "ClusterRoleBinding"):
        for binding in ctx.snap.bindings(kind):
            ref = binding.role_ref
            role_ns = binding.metadata.namespace if ref.kind == "Role" else None
            role = ctx.get(ref.kind, role_ns, ref.name)
            if role is None:
                continue
            grants = _read_grants(role.rules)
            if not grants:
                continue
            for subject in binding.subjects:
                if subject.kind != "ServiceAccount":
                    continue
                sa_ns = subject.namespace or binding.metadata.namespace or ""
                if (sa_ns, subject.name) not in live_accounts:
                    continue
                where = binding.metadata.namespace if kind == "RoleBinding" else sa_ns
                who = f"ServiceAccount {sa_ns}/{subject.name} ({ref.kind} {ref.name})"
                for resource, names in grants:
                    readers.setdefault((where, resource), []).append((names, who))
    return readers


def _read_grants(rules: list[Any]) -> list[tuple[str, frozenset[str] | None]]:
    grants: list[tuple[str, frozenset[str] | None]] = []
    for rule in rules:
        if not ({"", "*"} & set(rule.api_groups)) or not (_READ_VERBS & set(rule.verbs)):
            continue
        names = frozenset(rule.resource_names) if rule.resource_names else None
        for resource in ("configmaps", "secrets"):
            if resource in rule.resources or "*" in rule.resources:
                grants.append((resource, names))
    return grants
