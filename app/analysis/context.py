"""Indexes over a snapshot that every rule shares: lookups, owners, and who will run.

A *pod-spec user* is anything that carries a pod spec — a Pod, or the template of a workload,
Job or CronJob. It is *live* when it runs or will run, *idle* when it will not (RULES.md). A
ReplicaSet owned by an existing Deployment is judged through that Deployment: its liveness and
its name in a cascade are the Deployment's, because old ReplicaSets are rollout history.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.analysis.model import ObjectRef, Options
from app.analysis.selectors import expressions_hold
from app.analysis.timeutil import human, parse_time
from app.kube import objects as o
from app.kube.kinds import BY_KIND
from app.kube.snapshot import Snapshot

Key = tuple[str, str | None, str]  # (kind, namespace, name)

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet")
# kube-downscaler records the replicas it will restore: a workload it put to sleep is live.
DOWNSCALER_ANNOTATION = "downscaler/original-replicas"
# Every kind that carries a pod spec: a reference rule cannot decide without all of them.
TEMPLATE_KINDS = ("Pod", *WORKLOAD_KINDS, "Job", "CronJob")
ACTIVE_POD_PHASES = frozenset({"Pending", "Running", "Unknown", None})


@dataclass(frozen=True, slots=True)
class SpecUser:
    """One pod spec in the cluster and whether it will run."""

    ref: ObjectRef  # what a cascade names (a Deployment rather than its ReplicaSet)
    source: ObjectRef  # the object that actually carries the spec
    namespace: str
    labels: dict[str, str]
    spec: o.PodSpec
    live: bool
    state: str  # "has 0 replicas", "is suspended", "Succeeded", "running" …


@dataclass(slots=True)
class Context:
    snap: Snapshot
    options: Options
    now: datetime
    _names: dict[str, dict[tuple[str | None, str], Any]] = field(default_factory=dict)
    _uids: dict[str, dict[str, Any]] = field(default_factory=dict)
    spec_users: list[SpecUser] = field(default_factory=list)
    live_specs_by_ns: dict[str, list[SpecUser]] = field(default_factory=dict)
    idle_specs_by_ns: dict[str, list[SpecUser]] = field(default_factory=dict)
    # Distinct label sets of live pods and templates, per namespace: the pods of one
    # ReplicaSet share theirs, so selectors are matched against far fewer candidates.
    live_label_sets_by_ns: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    node_autoscaler: str | None = None  # "Karpenter", "cluster-autoscaler" or None
    autoscaled: set[Key] = field(default_factory=set)  # targeted by an HPA or ScaledObject
    scales_from_zero: set[Key] = field(default_factory=set)  # KEDA, or an HPA with minReplicas 0
    # Live ReplicaSets' and Jobs' pod templates by uid, to vouch for their pods.
    _live_templates: dict[str, o.PodSpec] = field(default_factory=dict)
    _label_index: dict[str, dict[tuple[str, str], set[int]]] = field(default_factory=dict)
    _selected: dict[tuple[object, ...], bool] = field(default_factory=dict)

    @classmethod
    def build(cls, snap: Snapshot, options: Options, now: datetime) -> Context:
        """Index the snapshot once; rules then only look things up."""
        ctx = cls(snap=snap, options=options, now=now)
        ctx.node_autoscaler = _node_autoscaler(snap)
        ctx._index_autoscalers()
        ctx._index_spec_users()
        for ns, users in ctx.live_specs_by_ns.items():
            distinct = {tuple(sorted(u.labels.items())): u.labels for u in users}
            ctx.live_label_sets_by_ns[ns] = list(distinct.values())
        return ctx

    # --- lookups ------------------------------------------------------------------------

    def _by_name(self, kind: str) -> dict[tuple[str | None, str], Any]:
        # Built per kind on first use: most kinds are never looked up by name.
        index = self._names.get(kind)
        if index is None:
            index = self._names[kind] = {
                (obj.metadata.namespace or None, obj.metadata.name): obj
                for obj in self.snap.items(kind)
            }
        return index

    def _by_uid(self, kind: str) -> dict[str, Any]:
        index = self._uids.get(kind)
        if index is None:
            index = self._uids[kind] = {
                obj.metadata.uid: obj for obj in self.snap.items(kind) if obj.metadata.uid
            }
        return index

    def get(self, kind: str, namespace: str | None, name: str) -> Any | None:
        return self._by_name(kind).get((namespace, name))

    def exists(self, kind: str, namespace: str | None, name: str) -> bool:
        return (namespace, name) in self._by_name(kind)

    def listed(self, *kinds: str) -> bool:
        """Whether every one of ``kinds`` was read completely."""
        return all(k in self.snap.listed for k in kinds)

    def api_version(self, kind: str) -> str:
        return self.snap.api_versions.get(kind) or BY_KIND[kind].default_api_version

    def owner_exists(self, ref: o.OwnerReference, namespace: str | None) -> bool | None:
        """True/False when the owner's kind was read; None when Leftover cannot tell."""
        if ref.uid and ref.uid in self._by_uid(ref.kind):
            return True
        if ref.kind in self.snap.listed:
            if self.exists(ref.kind, namespace, ref.name) or self.exists(ref.kind, None, ref.name):
                # Same name but another uid: the owner was deleted and recreated.
                return not ref.uid or self._uid_of(ref.kind, namespace, ref.name) == ref.uid
            return False
        return None

    def _uid_of(self, kind: str, namespace: str | None, name: str) -> str | None:
        obj = self.get(kind, namespace, name) or self.get(kind, None, name)
        return None if obj is None else obj.metadata.uid or None

    def live_specs(self, namespace: str) -> list[SpecUser]:
        return self.live_specs_by_ns.get(namespace, [])

    def idle_specs(self, namespace: str) -> list[SpecUser]:
        return self.idle_specs_by_ns.get(namespace, [])

    def live_label_sets(self, namespace: str) -> list[dict[str, str]]:
        """The distinct label sets of the namespace's live pods and templates."""
        return self.live_label_sets_by_ns.get(namespace, [])

    def selects_live(
        self,
        namespace: str,
        match_labels: Mapping[str, str],
        expressions: Sequence[o.LabelSelectorRequirement] = (),
    ) -> bool:
        """Whether a selector matches any live pod or template in ``namespace``.

        Answers are cached (a Service, its PDB and its NetworkPolicy usually share one
        selector) and matchLabels narrow the candidates through an inverted index first.
        """
        key = (
            namespace,
            tuple(sorted(match_labels.items())),
            tuple((e.key, e.operator, tuple(e.values)) for e in expressions),
        )
        cached = self._selected.get(key)
        if cached is not None:
            return cached
        sets = self.live_label_sets(namespace)
        candidates: Iterable[dict[str, str]] = sets
        if match_labels:
            index = self._label_index.get(namespace)
            if index is None:
                index = self._label_index[namespace] = {}
                for i, labels in enumerate(sets):
                    for pair in labels.items():
                        index.setdefault(pair, set()).add(i)
            ids: set[int] | None = None
            for pair in match_labels.items():
                hit = index.get(pair, set())
                ids = hit if ids is None else ids & hit
                if not ids:
                    break
            candidates = [sets[i] for i in sorted(ids or ())]
        result = any(expressions_hold(expressions, labels) for labels in candidates)
        self._selected[key] = result
        return result

    def age_of(self, meta: o.ObjectMeta) -> str | None:
        created = parse_time(meta.creation_timestamp)
        return None if created is None else human(self.now - created)

    # --- liveness -----------------------------------------------------------------------

    def _index_autoscalers(self) -> None:
        for hpa in self.snap.hpas:
            tgt = hpa.spec.scale_target_ref
            key = (tgt.kind, hpa.metadata.namespace, tgt.name)
            self.autoscaled.add(key)
            if hpa.spec.min_replicas == 0:
                self.scales_from_zero.add(key)
        for so in self.snap.scaled_objects:
            tgt = so.spec.scale_target_ref
            key = (tgt.kind or "Deployment", so.metadata.namespace, tgt.name)
            self.autoscaled.add(key)
            self.scales_from_zero.add(key)

    def workload_state(self, kind: str, wl: o.Workload) -> tuple[bool, str]:
        """(live, state) of a Deployment, StatefulSet, ReplicaSet or DaemonSet by itself."""
        meta = wl.metadata
        if kind == "DaemonSet":
            desired = wl.status.desired_number_scheduled
            if desired == 0:
                if self.node_autoscaler and waits_for_provisioned_nodes(wl.spec.template.spec):
                    return True, f"waits for nodes {self.node_autoscaler} provisions on demand"
                return False, "is scheduled on no node"
            return True, "running"
        replicas = 1 if wl.spec.replicas is None else wl.spec.replicas
        if replicas > 0:
            return True, "running"
        if (kind, meta.namespace, meta.name) in self.scales_from_zero:
            return True, "scaled to zero by its autoscaler"
        if DOWNSCALER_ANNOTATION in meta.annotations:
            return True, "scaled down by kube-downscaler for now"
        return False, "has 0 replicas"

    def _deployment_of(self, rs: o.Workload) -> o.Workload | None:
        for ref in rs.metadata.owner_references:
            if ref.kind == "Deployment" and self.owner_exists(ref, rs.metadata.namespace):
                dep = self.get("Deployment", rs.metadata.namespace, ref.name)
                if isinstance(dep, o.Workload):
                    return dep
        return None

    def _add(self, user: SpecUser, uid: str = "") -> None:
        self.spec_users.append(user)
        if uid and user.live:
            self._live_templates[uid] = user.spec
        if user.live:
            self.live_specs_by_ns.setdefault(user.namespace, []).append(user)
        else:
            self.idle_specs_by_ns.setdefault(user.namespace, []).append(user)

    def _index_spec_users(self) -> None:
        for kind in WORKLOAD_KINDS:
            for wl in self.snap.workloads(kind):
                meta = wl.metadata
                source = ObjectRef(kind, meta.namespace, meta.name)
                ref = source
                live, state = self.workload_state(kind, wl)
                if kind == "ReplicaSet":
                    dep = self._deployment_of(wl)
                    if dep is not None:
                        ref = ObjectRef("Deployment", dep.metadata.namespace, dep.metadata.name)
                        live, state = self.workload_state("Deployment", dep)
                        if wl.spec.template.spec == dep.spec.template.spec:
                            # The Deployment's own template says the same; the ReplicaSet is
                            # only needed to vouch for its pods.
                            if live:
                                self._live_templates[meta.uid] = wl.spec.template.spec
                            continue
                self._add(
                    SpecUser(
                        ref=ref,
                        source=source,
                        namespace=meta.namespace or "",
                        labels=wl.spec.template.metadata.labels,
                        spec=wl.spec.template.spec,
                        live=live,
                        state=state,
                    ),
                    uid=meta.uid if kind == "ReplicaSet" else "",
                )
        for job in self.snap.jobs:
            meta = job.metadata
            ref = ObjectRef("Job", meta.namespace, meta.name)
            finished = job_finished(job)
            if finished is not None:
                live, state = False, f"finished ({finished})"
            elif job.spec.suspend:
                live, state = False, "is suspended"
            else:
                live, state = True, "running"
            self._add(
                SpecUser(
                    ref=ref,
                    source=ref,
                    namespace=meta.namespace or "",
                    labels=job.spec.template.metadata.labels,
                    spec=job.spec.template.spec,
                    live=live,
                    state=state,
                ),
                uid=meta.uid,
            )
        for cj in self.snap.cron_jobs:
            meta = cj.metadata
            ref = ObjectRef("CronJob", meta.namespace, meta.name)
            template = cj.spec.job_template.spec.template
            self._add(
                SpecUser(
                    ref=ref,
                    source=ref,
                    namespace=meta.namespace or "",
                    labels=template.metadata.labels,
                    spec=template.spec,
                    live=not cj.spec.suspend,
                    state="is suspended" if cj.spec.suspend else "scheduled",
                )
            )

        # Pods last: one whose ReplicaSet or Job is live adds nothing its owner's (immutable)
        # template does not already say, and skipping them halves the work on big clusters.
        for pod in self.snap.pods:
            meta = pod.metadata
            phase = pod.status.phase
            if self._covered_by_owner(pod):
                continue
            ref = ObjectRef("Pod", meta.namespace, meta.name)
            self._add(
                SpecUser(
                    ref=ref,
                    source=ref,
                    namespace=meta.namespace or "",
                    labels=meta.labels,
                    spec=pod.spec,
                    live=phase in ACTIVE_POD_PHASES,
                    state=(phase or "Unknown").lower()
                    if phase not in ACTIVE_POD_PHASES
                    else "running",
                )
            )

    def _covered_by_owner(self, pod: o.Pod) -> bool:
        """Whether a pod adds nothing its live ReplicaSet's or Job's template does not say.

        Admission webhooks (Istio, Vault, OpenTelemetry) inject volumes, containers and env
        into pods, never into templates; a pod whose shape differs from its template's is
        therefore read on its own.
        """
        if pod.spec.ephemeral_containers or any(v.ephemeral for v in pod.spec.volumes):
            return False
        for ref in pod.metadata.owner_references:
            if ref.controller and ref.kind in ("ReplicaSet", "Job"):
                template = self._live_templates.get(ref.uid)
                return template is not None and _shape(template) == _shape(pod.spec)
        return False


def _node_autoscaler(snap: Snapshot) -> str | None:
    """The node autoscaler the cluster runs (Karpenter, cluster-autoscaler), if any."""
    for crd in snap.crds:
        if crd.spec.group in ("karpenter.sh", "karpenter.k8s.aws", "karpenter.azure.com"):
            return "Karpenter"
    for dep in snap.workloads("Deployment"):
        if dep.spec.replicas == 0:
            continue
        name = dep.metadata.name
        if "karpenter" in name:
            return "Karpenter"
        if "cluster-autoscaler" in name:
            return "cluster-autoscaler"
    return None


# Node labels that name hardware or capacity an autoscaler provisions on demand.
_PROVISIONED_NODE_LABEL = re.compile(
    r"gpu|accelerator|nvidia|neuron|inferentia|tpu|karpenter|instance-type|instance-family|"
    r"instance-category|capacity-type",
    re.IGNORECASE,
)


def waits_for_provisioned_nodes(spec: o.PodSpec) -> bool:
    """Whether a pod spec asks for nodes of a kind an autoscaler brings up on demand
    (GPUs, an instance type, Windows)."""
    if spec.node_selector.get("kubernetes.io/os") == "windows":
        return True
    return any(_PROVISIONED_NODE_LABEL.search(key) for key in spec.node_label_keys())


def _shape(spec: o.PodSpec) -> tuple[int, ...]:
    """What an admission webhook changes when it injects something into a pod."""
    containers = (*spec.init_containers, *spec.containers)
    return (
        len(spec.volumes),
        len(spec.init_containers),
        len(spec.containers),
        sum(len(c.env) for c in containers),
        sum(len(c.env_from) for c in containers),
        len(spec.image_pull_secrets),
    )


def job_finished(job: o.Job) -> str | None:
    """ "Complete" or "Failed" when the Job has finished, else None."""
    for cond in job.status.conditions:
        if cond.status == "True" and cond.type in ("Complete", "Failed"):
            return cond.type
    return None


def job_finished_at(job: o.Job) -> str | None:
    """When the Job finished: its completion time, or the finishing condition's time."""
    if job.status.completion_time:
        return job.status.completion_time
    for cond in job.status.conditions:
        if cond.status == "True" and cond.type in ("Complete", "Failed"):
            return cond.last_transition_time
    return None
