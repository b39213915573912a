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
                continue  # the autoscaler is reported instead (hpa-target-idle)
            if ctx.workload_state(kind, wl)[0]:
                continue  # asleep, not idle: kube-downscaler or KEDA will wake it
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
    """Report DaemonSets that fit no node (only "needs review" when an autoscaler may add
    the nodes they ask for)."""
    ctx = found.ctx
    for ds in ctx.snap.workloads("DaemonSet"):
        if ds.status.desired_number_scheduled != 0 or ds.metadata.owner_references:
            continue
        waiting, state = ctx.workload_state("DaemonSet", ds)
        found.add(
            Candidate(
                "DaemonSet",
                ds,
                "daemonset-unscheduled",
                "scheduled on no node: its node selector or affinity fits none",
                Confidence.LOW if waiting else Confidence.HIGH,
                evidence=("status.desiredNumberScheduled is 0",)
                + ((f"needs review: it {state}",) if waiting else ()),
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
        hook = meta.annotations.get("helm.sh/hook")
        policy = meta.annotations.get("helm.sh/hook-delete-policy", "")
        evidence = [f"condition {state}=True", "no ttlSecondsAfterFinished, no CronJob owner"]
        if hook:
            evidence.append(
                f"a Helm {hook} hook: Helm deletes it at the next upgrade "
                f"(hook-delete-policy {policy or 'before-hook-creation'})"
            )
        found.add(
            Candidate(
                "Job",
                job,
                "job-finished",
                f"finished ({state}) {human(since)} ago and nothing deletes it"
                if not hook
                else f"Helm hook finished ({state}) {human(since)} ago; Helm removes it on upgrade",
                Confidence.LOW if hook else Confidence.HIGH,
                evidence=tuple(evidence),
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
        owners = meta.owner_references
        if phase in ("Failed", "Succeeded"):
            if any(r.kind == "Job" for r in owners):
                continue  # a Job's attempts are the Job's to report
            # A pod owned by a kind Leftover does not read (an Argo Workflow, a Tekton
            # TaskRun) is kept or collected by that controller: it needs review at most.
            foreign = [r for r in owners if r.kind not in ctx.snap.listed]
            if phase == "Succeeded" and owners and not foreign:
                continue  # completed under a controller Leftover reads: judged as its owner
            reason = pod.status.reason or phase
            found.add(
                Candidate(
                    "Pod",
                    pod,
                    "pod-failed" if phase == "Failed" else "pod-completed",
                    f"{reason}: the pod failed and is kept only as a record"
                    if phase == "Failed"
                    else "completed and not part of a Job: nothing will clean it up",
                    Confidence.LOW if foreign else Confidence.HIGH,
                    evidence=tuple(
                        x
                        for x in (
                            f"status.phase={phase}, reason={reason}",
                            pod.status.message,
                            f"owned by {foreign[0].kind} {foreign[0].name}, whose controller "
                            "keeps or collects its pods"
                            if foreign
                            else None,
                        )
                        if x
                    ),
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
