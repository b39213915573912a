"""Batch work: finished Jobs with their last pod, and CronJobs."""

from __future__ import annotations

from app.demo.objects import Gen, Obj, Owner, owner_ref


def job(
    gen: Gen,
    ns: str,
    name: str,
    tmpl: Obj,
    *,
    owner: Owner,
    started_days_ago: float,
    outcome: str,
    owners: list[Obj] | None = None,
    ttl: int | None = None,
    annotations: dict[str, str] | None = None,
) -> Obj:
    """A finished Job ("Complete" or "Failed") and its last pod."""
    start = gen.ago(started_days_ago)
    end = gen.ago(max(started_days_ago - 0.01, 0))
    spec_tmpl = {
        "metadata": tmpl["metadata"],
        "spec": {**tmpl["spec"], "restartPolicy": "Never"},
    }
    spec: Obj = {"backoffLimit": 3, "completions": 1, "parallelism": 1, "template": spec_tmpl}
    if ttl is not None:
        spec["ttlSecondsAfterFinished"] = ttl
    failed = outcome == "Failed"
    job_obj = gen.obj(
        "batch/v1",
        "Job",
        gen.meta(
            "Job",
            name,
            ns,
            created=start,
            owner=owner,
            labels=tmpl["metadata"]["labels"],
            annotations=annotations,
            owners=owners,
        ),
        spec=spec,
        status={
            "startTime": start,
            **({} if failed else {"completionTime": end, "succeeded": 1}),
            **({"failed": 4} if failed else {}),
            "conditions": [
                {
                    "type": outcome,
                    "status": "True",
                    "lastTransitionTime": end,
                    **({"reason": "BackoffLimitExceeded"} if failed else {}),
                }
            ],
        },
    )
    phase = "Failed" if failed else "Succeeded"
    gen.obj(
        "v1",
        "Pod",
        gen.meta(
            "Pod",
            f"{name}-{gen.suffix(5, 'jobpod', ns, name)}",
            ns,
            created=start,
            labels={**tmpl["metadata"]["labels"], "job-name": name},
            owners=[owner_ref(job_obj)],
        ),
        spec={**spec_tmpl["spec"], "nodeName": gen.pick(gen.nodes)},
        status={
            "phase": phase,
            "startTime": start,
            "containerStatuses": [
                {
                    "name": c["name"],
                    "ready": False,
                    "restartCount": 0,
                    "state": {
                        "terminated": {
                            "exitCode": 1 if failed else 0,
                            "reason": "Error" if failed else "Completed",
                            "finishedAt": end,
                        }
                    },
                }
                for c in spec_tmpl["spec"]["containers"]
            ],
        },
    )
    return job_obj


def cron_job(
    gen: Gen,
    ns: str,
    name: str,
    tmpl: Obj,
    *,
    owner: Owner,
    created: str,
    schedule: str,
    suspended_days: float | None = None,
) -> Obj:
    """A CronJob; running ones keep their last successful Job, suspended ones stopped
    ``suspended_days`` ago."""
    last = gen.ago(suspended_days if suspended_days is not None else gen.rng.uniform(0.05, 0.9))
    cj = gen.obj(
        "batch/v1",
        "CronJob",
        gen.meta(
            "CronJob", name, ns, created=created, owner=owner, labels=tmpl["metadata"]["labels"]
        ),
        spec={
            "schedule": schedule,
            "suspend": suspended_days is not None,
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 1,
            "jobTemplate": {"spec": {"template": tmpl}},
        },
        status={"lastScheduleTime": last, "lastSuccessfulTime": last},
    )
    if suspended_days is None:
        job(
            gen,
            ns,
            f"{name}-{int(gen.hexid(6, 'cj', ns, name), 16) % 29000000 + 28900000}",
            tmpl,
            owner=owner,
            started_days_ago=gen.rng.uniform(0.05, 0.9),
            outcome="Complete",
            owners=[owner_ref(cj)],
        )
    return cj
