"""Indexes over a snapshot that every rule shares: lookups, owners, and who will run.

A *pod-spec user* is anything that carries a pod spec — a Pod, or the template of a workload,
Job or CronJob. It is *live* when it runs or will run, *idle* when it will not (RULES.md). A
ReplicaSet owned by an existing Deployment is judged through that Deployment: its liveness and
its name in a cascade are the Deployment's, because old ReplicaSets are rollout history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.analysis.model import ObjectRef, Options
from app.analysis.timeutil import human, parse_time
from app.kube import objects as o
from app.kube.kinds import BY_KIND
from app.kube.snapshot import Snapshot

Key = tuple[str, str | None, str]  # (kind, namespace, name)

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet")
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
    objects: dict[Key, Any] = field(default_factory=dict)
    by_uid: dict[str, tuple[str, Any]] = field(default_factory=dict)
    spec_users: list[SpecUser] = field(default_factory=list)
    live_specs_by_ns: dict[str, list[SpecUser]] = field(default_factory=dict)
    autoscaled: set[Key] = field(default_factory=set)
    pods_by_owner_uid: dict[str, list[o.Pod]] = field(default_factory=dict)

    @classmethod
    def build(cls, snap: Snapshot, options: Options, now: datetime) -> Context:
        """Index the snapshot once; rules then only look things up."""
        ctx = cls(snap=snap, options=options, now=now)
        for kind, items in snap.objects.items():
            for obj in items:
                meta: o.ObjectMeta = obj.metadata
                ctx.objects[(kind, meta.namespace or None, meta.name)] = obj
                if meta.uid:
                    ctx.by_uid[meta.uid] = (kind, obj)
        ctx._index_autoscalers()
        ctx._index_spec_users()
        by_owner: dict[str, list[o.Pod]] = defaultdict(list)
        for pod in snap.pods:
            for ref in pod.metadata.owner_references:
                by_owner[ref.uid].append(pod)
        ctx.pods_by_owner_uid = dict(by_owner)
        return ctx

    # --- lookups ------------------------------------------------------------------------

    def get(self, kind: str, namespace: str | None, name: str) -> Any | None:
        return self.objects.get((kind, namespace, name))

    def exists(self, kind: str, namespace: str | None, name: str) -> bool:
        return (kind, namespace, name) in self.objects

    def listed(self, *kinds: str) -> bool:
        """Whether every one of ``kinds`` was read completely."""
        return all(k in self.snap.listed for k in kinds)

    def api_version(self, kind: str) -> str:
        return self.snap.api_versions.get(kind) or BY_KIND[kind].default_api_version

    def owner_exists(self, ref: o.OwnerReference, namespace: str | None) -> bool | None:
        """True/False when the owner's kind was read; None when Leftover cannot tell."""
        if ref.uid and ref.uid in self.by_uid:
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

    def age_of(self, meta: o.ObjectMeta) -> str | None:
        created = parse_time(meta.creation_timestamp)
        return None if created is None else human(self.now - created)

    # --- liveness -----------------------------------------------------------------------

    def _index_autoscalers(self) -> None:
        for hpa in self.snap.hpas:
            tgt = hpa.spec.scale_target_ref
            self.autoscaled.add((tgt.kind, hpa.metadata.namespace, tgt.name))
        for so in self.snap.scaled_objects:
            tgt = so.spec.scale_target_ref
            self.autoscaled.add((tgt.kind or "Deployment", so.metadata.namespace, tgt.name))

    def workload_state(self, kind: str, wl: o.Workload) -> tuple[bool, str]:
        """(live, state) of a Deployment, StatefulSet, ReplicaSet or DaemonSet by itself."""
        meta = wl.metadata
        if kind == "DaemonSet":
            desired = wl.status.desired_number_scheduled
            if desired == 0:
                return False, "is scheduled on no node"
            return True, "running"
        replicas = 1 if wl.spec.replicas is None else wl.spec.replicas
        if replicas > 0:
            return True, "running"
        if (kind, meta.namespace, meta.name) in self.autoscaled:
            return True, "scaled to zero by its autoscaler"
        return False, "has 0 replicas"

    def _deployment_of(self, rs: o.Workload) -> o.Workload | None:
        for ref in rs.metadata.owner_references:
            if ref.kind == "Deployment" and self.owner_exists(ref, rs.metadata.namespace):
                dep = self.get("Deployment", rs.metadata.namespace, ref.name)
                if isinstance(dep, o.Workload):
                    return dep
        return None

    def _add(self, user: SpecUser) -> None:
        self.spec_users.append(user)
        if user.live:
            self.live_specs_by_ns.setdefault(user.namespace, []).append(user)

    def _index_spec_users(self) -> None:
        for pod in self.snap.pods:
            meta = pod.metadata
            phase = pod.status.phase
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
                self._add(
                    SpecUser(
                        ref=ref,
                        source=source,
                        namespace=meta.namespace or "",
                        labels=wl.spec.template.metadata.labels,
                        spec=wl.spec.template.spec,
                        live=live,
                        state=state,
                    )
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
                )
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

    def iter_objects(self, kind: str) -> Iterator[Any]:
        yield from self.snap.items(kind)


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
