"""Leftover runs: finished Jobs, suspended CronJobs, evicted and debug pods, and objects whose
owner is gone."""

from __future__ import annotations

from app.demo.batch import cron_job, job
from app.demo.leftovers import add_configmap, app_name, leftover_owner, waste_age
from app.demo.objects import Gen, stale_ref
from app.demo.tenants import Tenant
from app.demo.workloads import container, running_pod, template


def finished_job(gen: Gen, t: Tenant) -> None:
    """A one-off Job run by hand (a migration, a backfill), kept since it finished."""
    app = app_name(gen, t)
    days = gen.rng.uniform(8, 300)
    stamp = gen.ago(days)[:10].replace("-", "")
    failed = gen.chance(0.3)
    what = (
        gen.pick(("backfill", "reindex", "export")) if failed else gen.pick(("db-migrate", "seed"))
    )
    name = gen.unique("Job", t.ns, f"{app}-{what}-{stamp}")
    owner = leftover_owner(gen, t, app)
    cm = add_configmap(gen, t, f"{name}-script", owner, gen.ago(days + 0.1))
    tmpl = template(
        {"app.kubernetes.io/name": f"{app}-{what}"},
        [
            container(
                what,
                f"{gen.cloud.registry}/{t.domain}/{app}:1.{gen.rng.randint(0, 40)}.0",
                env_from=[{"configMapRef": {"name": cm}}],
            )
        ],
        service_account=app,
    )
    job(
        gen,
        t.ns,
        name,
        tmpl,
        owner=owner,
        started_days_ago=days,
        outcome="Failed" if failed else "Complete",
    )


def suspended_cron(gen: Gen, t: Tenant) -> None:
    app = app_name(gen, t)
    what = gen.pick(("nightly-report", "cleanup", "sync-partners", "rotate-keys", "digest-email"))
    name = gen.unique("CronJob", t.ns, f"{app}-{what}")
    owner = leftover_owner(gen, t, app)
    created = gen.ago(gen.rng.uniform(60, 360))
    cm = add_configmap(gen, t, f"{name}-config", owner, created)
    tmpl = template(
        {"app.kubernetes.io/name": name},
        [
            container(
                what,
                f"{gen.cloud.registry}/{t.domain}/{app}:2.0.1",
                env_from=[{"configMapRef": {"name": cm}}],
            )
        ],
        service_account=app,
    )
    cron_job(
        gen,
        t.ns,
        name,
        tmpl,
        owner=owner,
        created=created,
        schedule="0 3 * * *",
        suspended_days=gen.rng.uniform(8, 200),
    )


def evicted_pods(gen: Gen, t: Tenant) -> None:
    """Pods the kubelet evicted under memory pressure, kept as records."""
    candidates = [b for _, b, _ in t.apps if b.workload.replica_set is not None]
    if not candidates:
        return
    built = gen.pick(candidates)
    rs = built.workload.replica_set
    assert rs is not None
    for i in range(gen.rng.randint(1, 3)):
        base = (
            f"{rs['metadata']['name']}-{gen.suffix(5, 'evicted', t.ns, rs['metadata']['name'], i)}"
        )
        name = gen.unique("Pod", t.ns, base)
        gen.obj(
            "v1",
            "Pod",
            gen.meta(
                "Pod",
                name,
                t.ns,
                created=gen.since(rs["metadata"]["creationTimestamp"], 3),
                labels=rs["spec"]["template"]["metadata"]["labels"],
                owners=[
                    {
                        "apiVersion": "apps/v1",
                        "kind": "ReplicaSet",
                        "name": rs["metadata"]["name"],
                        "uid": rs["metadata"]["uid"],
                        "controller": True,
                    }
                ],
            ),
            spec={**rs["spec"]["template"]["spec"], "nodeName": gen.pick(gen.nodes)},
            status={
                "phase": "Failed",
                "reason": "Evicted",
                "message": "The node was low on resource: memory. Threshold quantity: "
                "100Mi, available: 91264Ki.",
            },
        )


def debug_pod(gen: Gen, t: Tenant) -> None:
    who = gen.pick(("alice", "bob", "chen", "dana", "emeka", "farah", "goran"))
    name = gen.unique("Pod", t.ns, f"debug-{who}-{gen.suffix(5, 'debug', t.ns, who)}")
    image = gen.pick(("nicolaka/netshoot:v0.13", "busybox:1.36", "curlimages/curl:8.11.0"))
    created = gen.ago(gen.rng.uniform(2, 90))
    gen.obj(
        "v1",
        "Pod",
        gen.meta("Pod", name, t.ns, created=created, labels={"run": name}),
        spec={
            "containers": [{"name": name, "image": image}],
            "restartPolicy": "Never",
            "nodeName": gen.pick(gen.nodes),
        },
        status={"phase": "Succeeded", "startTime": created},
    )


def stale_owner(gen: Gen, t: Tenant) -> None:
    """Objects restored from a backup whose owner came back under another uid (or not at all)."""
    app = app_name(gen, t)
    created = gen.ago(waste_age(gen) + 3)
    if gen.chance(0.6):
        name = gen.unique("ConfigMap", t.ns, f"{app}-generated-config")
        gen.obj(
            "v1",
            "ConfigMap",
            gen.meta(
                "ConfigMap",
                name,
                t.ns,
                created=created,
                labels={"team": t.team},
                owners=[stale_ref(gen, "apps/v1", "Deployment", t.ns, app)],
            ),
            data={"generated": "true"},
        )
        return
    rs = f"{app}-{gen.suffix(9, 'gone-rs', t.ns, app)}"
    tmpl = template(
        {"app.kubernetes.io/name": app, "team": t.team, "pod-template-hash": rs.rsplit("-", 1)[-1]},
        [
            container(
                app, f"{gen.cloud.registry}/{t.domain}/{app}:0.8.0", cpu="200m", memory="256Mi"
            )
        ],
        service_account=app,
    )
    pod = running_pod(
        gen,
        t.ns,
        gen.unique("Pod", t.ns, f"{rs}-{gen.suffix(5, 'p', rs)}"),
        tmpl,
        owner=None,
        created=created,
    )
    pod["metadata"]["ownerReferences"] = [stale_ref(gen, "apps/v1", "ReplicaSet", t.ns, rs)]
