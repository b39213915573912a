"""Deployments, StatefulSets, ReplicaSets, DaemonSets, Jobs, CronJobs, Pods and HPAs:
judged by their own state, which the API reports as fact."""

from __future__ import annotations

from app.analysis.context import job_finished, job_finished_at
from app.analysis.model import Confidence, ObjectRef
from app.analysis.rules.base import Candidate, Found
from app.analysis.timeutil import age, human

SCALABLE = ("Deployment", "StatefulSet", "ReplicaSet")


def check_scaled_to_zero(found: Found) -> None:
    """Report Deployments and StatefulSets (and standalone ReplicaSets) at 0 replicas that no
    autoscaler manages, and ReplicaSets at 0 whose Deployment is gone."""
    ctx = found.ctx
    for kind in SCALABLE:
        if kind not in ctx.snap.listed:
            continue
        for wl in ctx.snap.workloads(kind):
            meta = wl.metadata
            if wl.spec.replicas != 0:
                continue
            if (kind, meta.namespace, meta.name) in ctx.autoscaled:
                continue
            owners = meta.owner_references
            if kind == "ReplicaSet" and owners:
                dep_refs = [r for r in owners if r.kind == "Deployment"]
                if dep_refs and all(ctx.owner_exists(r, meta.namespace) is False for r in dep_refs):
                    found.add(
                        Candidate(
                            kind,
                            wl,
                            "replicaset-orphaned",
                            f"0 replicas and its Deployment {dep_refs[0].name} no longer exists",
                            Confidence.HIGH,
                            evidence=(f"ownerReference Deployment {dep_refs[0].name} not found",),
                        )
                    )
                continue  # owned history is judged through its owner
            if owners:
                continue
            found.add(
                Candidate(
                    kind,
                    wl,
                    "workload-scaled-to-zero",
                    "scaled to 0 replicas and no autoscaler targets it",
                    Confidence.HIGH,
                    evidence=(
                        "spec.replicas is 0",
                        "no HorizontalPodAutoscaler or KEDA ScaledObject targets it",
                    ),
                )
            )


def check_daemon_sets(found: Found) -> None:
    """Report DaemonSets that fit no node."""
    for ds in found.ctx.snap.workloads("DaemonSet"):
        if ds.status.desired_number_scheduled == 0 and not ds.metadata.owner_references:
            found.add(
                Candidate(
                    "DaemonSet",
                    ds,
                    "daemonset-unscheduled",
                    "scheduled on no node: its node selector or affinity fits none",
                    Confidence.HIGH,
                    evidence=("status.desiredNumberScheduled is 0",),
                )
            )


def check_jobs(found: Found) -> None:
    """Report finished Jobs kept past the threshold with nothing to clean them up."""
    ctx = found.ctx
    threshold = ctx.options.finished_job_threshold
    for job in ctx.snap.jobs:
        meta = job.metadata
        state = job_finished(job)
        if state is None or job.spec.ttl_seconds_after_finished is not None:
            continue
        if meta.owner_references:
            continue  # a CronJob keeps its own history; other owners are judged as owners
        since = age(job_finished_at(job), ctx.now)
        if since is None or since < threshold:
            continue
        found.add(
            Candidate(
                "Job",
                job,
                "job-finished",
                f"finished ({state}) {human(since)} ago and nothing deletes it",
                Confidence.HIGH,
                evidence=(
                    f"condition {state}=True",
                    "no ttlSecondsAfterFinished and not owned by a CronJob",
                ),
            )
        )


def check_cron_jobs(found: Found) -> None:
    """Report CronJobs suspended for longer than the threshold."""
    ctx = found.ctx
    threshold = ctx.options.suspended_cronjob_threshold
    for cj in ctx.snap.cron_jobs:
        if not cj.spec.suspend:
            continue
        last = cj.status.last_schedule_time
        since = age(last or cj.metadata.creation_timestamp, ctx.now)
        if since is None or since < threshold:
            continue
        when = f"last ran {human(since)} ago" if last else f"never ran in {human(since)}"
        found.add(
            Candidate(
                "CronJob",
                cj,
                "cronjob-suspended",
                f"suspended; {when}",
                Confidence.HIGH,
                evidence=("spec.suspend is true",),
            )
        )


def check_pods(found: Found) -> None:
    """Report Failed pods, Succeeded pods no Job accounts for, and pods crash-looping."""
    ctx = found.ctx
    limit = ctx.options.crashloop_restart_threshold
    for pod in ctx.snap.pods:
        meta = pod.metadata
        phase = pod.status.phase
        owner_kinds = {r.kind for r in meta.owner_references}
        if phase == "Failed":
            if "Job" in owner_kinds:
                continue  # a Job's failed attempts are the Job's to report
            reason = pod.status.reason or "Failed"
            found.add(
                Candidate(
                    "Pod",
                    pod,
                    "pod-failed",
                    f"{reason}: the pod failed and is kept only as a record",
                    Confidence.HIGH,
                    evidence=tuple(
                        x
                        for x in (f"status.phase=Failed, reason={reason}", pod.status.message)
                        if x
                    ),
                )
            )
        elif phase == "Succeeded":
            if "Job" in owner_kinds:
                continue
            found.add(
                Candidate(
                    "Pod",
                    pod,
                    "pod-completed",
                    "completed and not part of a Job: nothing will clean it up",
                    Confidence.HIGH,
                    evidence=("status.phase=Succeeded",),
                )
            )
        elif phase in ("Running", "Pending"):
            for cs in (*pod.status.init_container_statuses, *pod.status.container_statuses):
                waiting = cs.state.waiting if cs.state else None
                if (
                    waiting is not None
                    and waiting.reason == "CrashLoopBackOff"
                    and cs.restart_count > limit
                ):
                    found.add(
                        Candidate(
                            "Pod",
                            pod,
                            "pod-crashloop",
                            f"container {cs.name} is in CrashLoopBackOff after "
                            f"{cs.restart_count} restarts, holding its requests",
                            Confidence.HIGH,
                            evidence=(f"restartCount {cs.restart_count} > {limit}",),
                        )
                    )
                    break


def check_hpas(found: Found) -> None:
    """Report autoscalers whose target is missing (kind-aware) or idle."""
    ctx = found.ctx
    for hpa in ctx.snap.hpas:
        meta = hpa.metadata
        if meta.owner_references:
            continue  # KEDA's and other controllers' HPAs follow their owner
        tgt = hpa.spec.scale_target_ref
        if tgt.kind not in ctx.snap.listed:
            continue  # a custom scalable kind (Argo Rollout …) Leftover does not read
        target = ctx.get(tgt.kind, meta.namespace, tgt.name)
        ref = ObjectRef(tgt.kind, meta.namespace, tgt.name)
        if target is None:
            found.add(
                Candidate(
                    "HorizontalPodAutoscaler",
                    hpa,
                    "hpa-target-missing",
                    f"its target {ref} does not exist",
                    Confidence.HIGH,
                    evidence=(f"scaleTargetRef {tgt.kind}/{tgt.name} not found",),
                )
            )
            continue
        replicas = getattr(getattr(target, "spec", None), "replicas", None)
        min_replicas = 1 if hpa.spec.min_replicas is None else hpa.spec.min_replicas
        if replicas == 0 and min_replicas > 0:
            found.add(
                Candidate(
                    "HorizontalPodAutoscaler",
                    hpa,
                    "hpa-target-idle",
                    f"its target {ref} has 0 replicas, and an HPA does not scale from zero",
                    Confidence.MEDIUM,
                    cascade_from=(ref,),
                    evidence=(f"{ref} spec.replicas is 0",),
                )
            )
