"""One realistic instance of every waste pattern of RULES.md, on top of a healthy EKS cluster."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from tests.redteam.kube import (
    Cluster,
    c,
    env_secret,
    ps,
    rule,
    sa_subject,
    suffix,
    ts,
    uid,
    v_cm,
    v_pvc,
    v_secret,
)

OLD = timedelta(days=200)
MONTHS = timedelta(days=95)


@dataclass(frozen=True)
class Expected:
    kind: str
    namespace: str | None
    name: str
    rule: str  # "a|b": either rule id is acceptable
    cascade: bool = False  # cascade_from must be non-empty
    costly: bool = False  # monthly_cost_usd must be > 0


EXPECTED: list[Expected] = []


def expect(kind: str, ns: str | None, name: str, rule_id: str, **kw: bool) -> None:
    EXPECTED.append(Expected(kind, ns, name, rule_id, **kw))


def waste(k: Cluster) -> None:
    EXPECTED.clear()
    ns = "shop"  # the live team namespace (apps.shop_app) receives some leftovers too
    k.storageclass(
        "io2-legacy", "ebs.csi.aws.com", params={"type": "io2", "iopsPerGB": "50"}, created=OLD
    )
    expect("StorageClass", None, "io2-legacy", "storageclass-unused")

    # ConfigMap / Secret nobody references.
    k.cm(ns, "legacy-feature-flags", created=OLD)
    expect("ConfigMap", ns, "legacy-feature-flags", "configmap-unused")
    k.secret(ns, "old-stripe-keys", created=OLD)
    expect("Secret", ns, "old-stripe-keys", "secret-unused")
    # A legacy SA token Secret whose ServiceAccount was deleted.
    k.secret(
        ns,
        "ci-deployer-token-x8k2q",
        "kubernetes.io/service-account-token",
        created=OLD,
        annotations={
            "kubernetes.io/service-account.name": "ci-deployer",
            "kubernetes.io/service-account.uid": uid("gone", "ci-deployer"),
        },
        data={"token": "..", "ca.crt": "..", "namespace": "c2hvcA=="},
    )
    expect("Secret", ns, "ci-deployer-token-x8k2q", "secret-sa-token-orphaned")

    # A Service whose pods are gone, and a LoadBalancer still billing for a retired promo.
    k.svc(ns, "recommendations", {"app": "recommendations"}, created=OLD)
    expect("Service", ns, "recommendations", "service-no-endpoints")
    k.svc(
        ns,
        "promo-lb",
        {"app": "black-friday-2025"},
        type_="LoadBalancer",
        created=OLD,
        lb_hostname="a9f-1234.us-east-1.elb.amazonaws.com",
        annotations={"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"},
    )
    expect("Service", ns, "promo-lb", "service-no-endpoints", costly=True)
    # An Ingress to a deleted Service, and one whose only backend is the dead promo Service.
    k.ingress(ns, "old-landing", "landing.example.com", [("/", "landing", 80)], created=OLD)
    expect("Ingress", ns, "old-landing", "ingress-no-backend")
    k.ingress(ns, "promo", "promo.example.com", [("/", "promo-lb", 80)], created=OLD)
    expect("Ingress", ns, "promo", "ingress-no-backend", cascade=True)

    k.sa(ns, "reporting-bot", created=OLD)
    expect("ServiceAccount", ns, "reporting-bot", "serviceaccount-unused")

    # A Deployment scaled to zero, with its ConfigMap, Secret, PVC and ServiceAccount cascading.
    k.cm(ns, "cart-v1-config", created=OLD)
    k.secret(ns, "cart-v1-db", created=OLD)
    k.sa(ns, "cart-v1", created=OLD)
    k.pvc_bound(ns, "cart-v1-cache", "50Gi", "gp3", created=OLD)
    k.deploy(
        ns,
        "cart-v1",
        ps(
            c(
                "cart",
                "ghcr.io/acme/cart:1.0.3",
                env_from=[{"configMapRef": {"name": "cart-v1-config"}}],
                env=[env_secret("DB_PASSWORD", "cart-v1-db", "password")],
            ),
            sa="cart-v1",
            volumes=[v_pvc("cache", "cart-v1-cache")],
        ),
        selector={"app": "cart-v1"},
        replicas=0,
        created=OLD,
        old_revisions=2,
    )
    expect("Deployment", ns, "cart-v1", "workload-scaled-to-zero")
    expect("ConfigMap", ns, "cart-v1-config", "configmap-unused", cascade=True)
    expect("Secret", ns, "cart-v1-db", "secret-unused", cascade=True)
    expect("PersistentVolumeClaim", ns, "cart-v1-cache", "pvc-unused", cascade=True, costly=True)
    expect("ServiceAccount", ns, "cart-v1", "serviceaccount-unused", cascade=True)

    # A ReplicaSet left behind by a Deployment deleted with --cascade=orphan.
    h = suffix("api-orphan", 10)
    k.obj(
        "apps/v1",
        "ReplicaSet",
        f"api-{h}",
        ns,
        created=OLD,
        labels={"app": "api", "pod-template-hash": h},
        owner={
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "api",
            "uid": uid("deleted", "api"),
            "controller": True,
        },
        body={
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": "api", "pod-template-hash": h}},
                "template": {
                    "metadata": {"labels": {"app": "api", "pod-template-hash": h}},
                    "spec": ps(c("api", "ghcr.io/acme/api:0.9")),
                },
            },
            "status": {"replicas": 0},
        },
    )
    expect("ReplicaSet", ns, f"api-{h}", "replicaset-orphaned|owner-missing")

    # A Job that finished months ago, never cleaned up; its pod is history of the Job.
    k.job(
        ns,
        "db-migrate-2026-03-14",
        ps(c("migrate", "ghcr.io/acme/migrate:3.1")),
        created=timedelta(days=256),
        finished=timedelta(days=256),
    )
    expect("Job", ns, "db-migrate-2026-03-14", "job-finished")

    # A CronJob suspended for a quarter, with a ConfigMap only it uses.
    k.cm(ns, "nightly-report-config", created=OLD)
    k.obj(
        "batch/v1",
        "CronJob",
        "nightly-report",
        ns,
        created=OLD,
        body={
            "spec": {
                "schedule": "0 2 * * *",
                "suspend": True,
                "jobTemplate": {
                    "spec": {
                        "template": {
                            "spec": ps(
                                c(
                                    "report",
                                    "ghcr.io/acme/report:2.0",
                                    env_from=[{"configMapRef": {"name": "nightly-report-config"}}],
                                ),
                                volumes=[v_cm("cfg", "nightly-report-config")],
                            )
                        }
                    }
                },
            },
            "status": {"lastScheduleTime": ts(MONTHS), "lastSuccessfulTime": ts(MONTHS)},
        },
    )
    expect("CronJob", ns, "nightly-report", "cronjob-suspended")
    expect("ConfigMap", ns, "nightly-report-config", "configmap-unused", cascade=True)

    # Pods: evicted ones of a live Deployment, a finished debug pod, a crash-looping worker.
    sf_rs = next(
        o
        for o in k.items
        if o["kind"] == "ReplicaSet"
        and o["metadata"]["name"].startswith("storefront-")
        and o["spec"]["replicas"] > 0
    )
    for i in range(2):
        name = f"{sf_rs['metadata']['name']}-ev{i}x{suffix(str(i), 2)}"
        k._pod(
            ns,
            name,
            sf_rs["spec"]["template"]["metadata"]["labels"],
            sf_rs["spec"]["template"]["spec"],
            sf_rs,
            phase="Failed",
            created=timedelta(days=20),
            status={
                "reason": "Evicted",
                "message": "The node was low on resource: ephemeral-storage. Threshold quantity: "
                "2Gi, available: 1536Mi.",
                "containerStatuses": [],
            },
        )
        expect("Pod", ns, name, "pod-failed")
    k._pod(
        ns,
        "debug-shell",
        {"run": "debug-shell"},
        ps(c("debug", "nicolaka/netshoot")),
        None,
        phase="Failed",
        created=timedelta(days=40),
        status={
            "containerStatuses": [
                {
                    "name": "debug",
                    "ready": False,
                    "restartCount": 0,
                    "image": "nicolaka/netshoot",
                    "state": {"terminated": {"exitCode": 137, "reason": "Error"}},
                }
            ]
        },
    )
    expect("Pod", ns, "debug-shell", "pod-failed")
    k._pod(
        ns,
        "one-off-backfill",
        {"run": "one-off-backfill"},
        ps(c("backfill", "ghcr.io/acme/backfill:1")),
        None,
        phase="Succeeded",
        created=timedelta(days=30),
        status={
            "containerStatuses": [
                {
                    "name": "backfill",
                    "ready": False,
                    "restartCount": 0,
                    "image": "ghcr.io/acme/backfill:1",
                    "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
                }
            ]
        },
    )
    expect("Pod", ns, "one-off-backfill", "pod-completed")
    k.secret(ns, "payments-worker-keys", created=OLD)
    k.deploy(
        ns,
        "payments-worker",
        ps(
            c(
                "worker",
                "ghcr.io/acme/payments-worker:4.2.0",
                cpu="1",
                mem="2Gi",
                env=[env_secret("KEY", "payments-worker-keys", "k")],
            )
        ),
        selector={"app": "payments-worker"},
        created=timedelta(days=9),
    )
    pw = next(
        o
        for o in k.items
        if o["kind"] == "Pod" and o["metadata"]["name"].startswith("payments-worker-")
    )
    pw["status"]["containerStatuses"] = [
        {
            "name": "worker",
            "ready": False,
            "restartCount": 1873,
            "image": "ghcr.io/acme/payments-worker:4.2.0",
            "state": {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": "back-off 5m0s restarting failed container=worker",
                }
            },
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
        }
    ]
    pw["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    expect("Pod", ns, pw["metadata"]["name"], "pod-crashloop", costly=True)

    # Storage: an unmounted PVC, a Pending PVC, Released/Available PVs.
    k.pvc_bound(ns, "uploads-old", "200Gi", "gp3", created=OLD)
    expect("PersistentVolumeClaim", ns, "uploads-old", "pvc-unused", costly=True)
    k.obj(
        "v1",
        "PersistentVolumeClaim",
        "search-index",
        ns,
        created=timedelta(days=30),
        body={
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "100Gi"}},
                "storageClassName": "manual",
                "volumeMode": "Filesystem",
            },
            "status": {"phase": "Pending"},
        },
    )
    expect("PersistentVolumeClaim", ns, "search-index", "pvc-pending")
    k.pv(
        "pvc-5c0ffee0-dead-beef-0000-000000000001",
        "500Gi",
        "gp3",
        claim=("db", "data-postgres-0"),
        phase="Released",
        reclaim="Retain",
        created=timedelta(days=300),
    )
    expect(
        "PersistentVolume",
        None,
        "pvc-5c0ffee0-dead-beef-0000-000000000001",
        "pv-unbound",
        costly=True,
    )
    k.obj(
        "v1",
        "PersistentVolume",
        "nfs-share-legacy",
        created=OLD,
        body={
            "spec": {
                "capacity": {"storage": "1Ti"},
                "accessModes": ["ReadWriteMany"],
                "persistentVolumeReclaimPolicy": "Retain",
                "storageClassName": "",
                "nfs": {"server": "10.0.5.5", "path": "/exports/legacy"},
            },
            "status": {"phase": "Available"},
        },
    )
    expect("PersistentVolume", None, "nfs-share-legacy", "pv-unbound")

    # Autoscalers pointing at nothing / at an idle Deployment.
    k.hpa(ns, "search-api", "Deployment", "search-api", created=OLD)
    expect("HorizontalPodAutoscaler", ns, "search-api", "hpa-target-missing")
    k.deploy(
        ns,
        "wishlist",
        ps(c("wishlist", "ghcr.io/acme/wishlist:0.3")),
        selector={"app": "wishlist"},
        replicas=0,
        created=OLD,
    )
    k.hpa(ns, "wishlist", "Deployment", "wishlist", created=OLD)
    expect("HorizontalPodAutoscaler", ns, "wishlist", "hpa-target-idle")
    # Kind-aware: a StatefulSet named like an existing Deployment.
    k.hpa(ns, "storefront-sts", "StatefulSet", "storefront", created=OLD)
    expect("HorizontalPodAutoscaler", ns, "storefront-sts", "hpa-target-missing")

    k.pdb(ns, "checkout-pdb", {"app": "checkout-v1"}, created=OLD)
    expect("PodDisruptionBudget", ns, "checkout-pdb", "pdb-matches-nothing")
    # A PDB whose only pods are failed (evicted) ones is still protecting nothing live.
    k.netpol(ns, "allow-legacy-admin", {"matchLabels": {"app": "legacy-admin"}}, created=OLD)
    expect("NetworkPolicy", ns, "allow-legacy-admin", "networkpolicy-matches-nothing")
    k.netpol(
        ns,
        "allow-wishlist",
        {"matchExpressions": [{"key": "app", "operator": "In", "values": ["wishlist"]}]},
        created=OLD,
    )
    expect("NetworkPolicy", ns, "allow-wishlist", "networkpolicy-matches-nothing")

    # RBAC.
    k.role(ns, "deployer", [rule(["apps"], ["deployments"], ["get", "patch"])], created=OLD)
    expect("Role", ns, "deployer", "role-unbound")
    k.clusterrole("old-ci-reader", [rule([""], ["secrets"], ["get", "list"])], created=OLD)
    expect("ClusterRole", None, "old-ci-reader", "role-unbound")
    k.rb(ns, "ci-deployer", "ci-deployer", [sa_subject(ns, "ci-deployer")], created=OLD)
    expect("RoleBinding", ns, "ci-deployer", "binding-role-missing")
    k.crb("jenkins-admin", "cluster-admin", [sa_subject("jenkins", "jenkins")], created=OLD)
    expect("ClusterRoleBinding", None, "jenkins-admin", "binding-subjects-missing")
    # Namespace-aware: the SA exists, but in another namespace than the subject names.
    k.rb(
        ns,
        "reporting-bot-view",
        "view",
        [sa_subject("analytics", "reporting-bot")],
        cluster_role=True,
        created=OLD,
    )
    expect("RoleBinding", ns, "reporting-bot-view", "binding-subjects-missing")

    k.priorityclass("batch-low", 1000, created=OLD)
    expect("PriorityClass", None, "batch-low", "priorityclass-unused")

    # Velero was uninstalled; its CRDs stayed.
    for plural, kind in [
        ("backups", "Backup"),
        ("schedules", "Schedule"),
        ("backupstoragelocations", "BackupStorageLocation"),
    ]:
        k.crd(plural, "velero.io", kind, created=OLD, labels={"component": "velero"})
        expect("CustomResourceDefinition", None, f"{plural}.velero.io", "crd-no-instances")

    # VolumeAttachments to a node Karpenter removed and to a PV deleted by hand.
    pv_ok = next(
        o for o in k.items if o["kind"] == "PersistentVolume" and o["status"]["phase"] == "Bound"
    )
    for name, node, pv in [
        (
            "csi-" + suffix("va1", 20) + "0" * 44,
            "ip-10-0-99-9.ec2.internal",
            pv_ok["metadata"]["name"],
        ),
        (
            "csi-" + suffix("va2", 20) + "1" * 44,
            k.nodes[0]["metadata"]["name"],
            "pvc-deleted-by-hand",
        ),
    ]:
        k.obj(
            "storage.k8s.io/v1",
            "VolumeAttachment",
            name[:68],
            created=timedelta(days=30),
            body={
                "spec": {
                    "attacher": "ebs.csi.aws.com",
                    "nodeName": node,
                    "source": {"persistentVolumeName": pv},
                },
                "status": {"attached": True},
            },
        )
        expect("VolumeAttachment", None, name[:68], "volumeattachment-dangling")

    # An old feature-branch namespace: everything scaled down or dead.
    fb = "feature-checkout-redesign"
    k.namespace(
        fb, created=timedelta(days=150), labels={"preview": "true", "branch": "checkout-redesign"}
    )
    k.cm(fb, "checkout-config", created=timedelta(days=150))
    k.secret(fb, "checkout-db", created=timedelta(days=150))
    k.deploy(
        fb,
        "checkout",
        ps(
            c(
                "checkout",
                "ghcr.io/acme/checkout:pr-1423",
                env_from=[{"configMapRef": {"name": "checkout-config"}}],
                env=[env_secret("DB", "checkout-db", "url")],
            )
        ),
        selector={"app": "checkout"},
        replicas=0,
        created=timedelta(days=150),
    )
    k.svc(fb, "checkout", {"app": "checkout"}, created=timedelta(days=150))
    k.ingress(
        fb,
        "checkout",
        "pr-1423.preview.example.com",
        [("/", "checkout", 80)],
        created=timedelta(days=150),
    )
    k.pvc_bound(fb, "checkout-uploads", "20Gi", "gp3", created=timedelta(days=150))
    expect("Namespace", None, fb, "namespace-abandoned", costly=True)
    expect("Deployment", fb, "checkout", "workload-scaled-to-zero")
    expect("PersistentVolumeClaim", fb, "checkout-uploads", "pvc-unused", costly=True)

    # A leftover in kube-system itself: the Cluster Autoscaler, replaced by Karpenter, scaled down.
    k.sa(
        "kube-system",
        "cluster-autoscaler",
        created=OLD,
        annotations={"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/ca"},
    )
    k.deploy(
        "kube-system",
        "cluster-autoscaler",
        ps(
            c(
                "cluster-autoscaler",
                "registry.k8s.io/autoscaling/cluster-autoscaler:v1.29.0",
                command=["./cluster-autoscaler", "--cloud-provider=aws", "--expander=least-waste"],
            ),
            sa="cluster-autoscaler",
        ),
        selector={"app": "cluster-autoscaler"},
        replicas=0,
        created=OLD,
    )
    expect("Deployment", "kube-system", "cluster-autoscaler", "workload-scaled-to-zero")
    expect(
        "ServiceAccount", "kube-system", "cluster-autoscaler", "serviceaccount-unused", cascade=True
    )
    # A DaemonSet pinned to a node group that was deleted.
    k.namespace("logging", created=OLD)
    k.ds(
        "logging",
        "fluentd-legacy",
        ps(c("fluentd", "fluent/fluentd:v1.16")),
        node_selector={"eks.amazonaws.com/nodegroup": "legacy-ng"},
        created=OLD,
    )
    expect("DaemonSet", "logging", "fluentd-legacy", "daemonset-unscheduled")

    # Stuck deletions: a LoadBalancer Service whose cleanup finalizer cannot complete, and a
    # namespace stuck Terminating on a finalizer (namespaces keep theirs in spec.finalizers).
    stuck = k.svc(
        ns,
        "legacy-nlb",
        {"app": "legacy"},
        type_="LoadBalancer",
        created=OLD,
        lb_hostname="k8s-legacy-0123.elb.us-east-1.amazonaws.com",
    )
    stuck["metadata"]["deletionTimestamp"] = ts(timedelta(days=3))
    stuck["metadata"]["finalizers"] = ["service.kubernetes.io/load-balancer-cleanup"]
    expect("Service", ns, "legacy-nlb", "stuck-deletion")
    term = k.namespace("old-tenant", created=OLD)
    term["metadata"]["deletionTimestamp"] = ts(timedelta(days=6))
    term["status"] = {
        "phase": "Terminating",
        "conditions": [
            {
                "type": "NamespaceContentRemaining",
                "status": "True",
                "message": "Some resources are remaining: "
                "certificates.cert-manager.io has 1 resource instances",
            },
            {
                "type": "NamespaceFinalizersRemaining",
                "status": "True",
                "message": "Some content in the namespace has finalizers remaining: "
                "finalizer.acme.cert-manager.io",
            },
        ],
    }
    expect("Namespace", None, "old-tenant", "stuck-deletion")
    gone_pvc = k.pvc_bound(ns, "tmp-scratch", "10Gi", "gp3", created=OLD)
    gone_pvc["metadata"]["deletionTimestamp"] = ts(timedelta(days=2))
    expect("PersistentVolumeClaim", ns, "tmp-scratch", "stuck-deletion")

    # Orphans whose owner is gone.
    k.secret(
        ns,
        "old-api-tls",
        "kubernetes.io/tls",
        created=OLD,
        owner={
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "old-api",
            "uid": uid("deleted", "old-api"),
            "controller": True,
        },
    )
    expect("Secret", ns, "old-api-tls", "owner-missing")
    k._pod(
        ns,
        "report-gen-28711440-7hx2k",
        {"job-name": "report-gen-28711440"},
        ps(c("report", "ghcr.io/acme/report:1")),
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "report-gen-28711440", "uid": uid("deleted", "job")},
        },
        phase="Running",
        created=timedelta(days=12),
    )
    expect("Pod", ns, "report-gen-28711440-7hx2k", "owner-missing")

    # --- subtler waste ---------------------------------------------------------------
    # A PDB that only selects the pods of the scaled-to-zero cart-v1.
    k.pdb(ns, "cart-v1", {"app": "cart-v1"}, created=OLD)
    expect("PodDisruptionBudget", ns, "cart-v1", "pdb-matches-nothing")
    # A Secret mounted only by the failed debug pod; a ConfigMap used only by the finished Job.
    dbg = k.get("Pod", ns, "debug-shell")
    k.secret(ns, "debug-kubeconfig", created=timedelta(days=40))
    dbg["spec"]["volumes"].append(v_secret("kubeconfig", "debug-kubeconfig"))
    expect("Secret", ns, "debug-kubeconfig", "secret-unused", cascade=True)
    k.cm(ns, "db-migrate-sql", created=timedelta(days=256))
    for o in k.items:
        if o["kind"] in ("Job", "Pod") and o["metadata"]["name"].startswith(
            "db-migrate-2026-03-14"
        ):
            spec = o["spec"]["template"]["spec"] if o["kind"] == "Job" else o["spec"]
            spec.setdefault("volumes", []).append(v_cm("sql", "db-migrate-sql"))
    expect("ConfigMap", ns, "db-migrate-sql", "configmap-unused", cascade=True)
    # A Job that failed (BackoffLimitExceeded) a month ago.
    k.job(
        ns,
        "reindex-products",
        ps(c("reindex", "ghcr.io/acme/reindex:0.4")),
        failed=True,
        created=timedelta(days=31),
        finished=timedelta(days=30),
    )
    expect("Job", ns, "reindex-products", "job-finished")
    # A pod whose init container crash-loops while waiting for a database that is gone.
    k.deploy(
        ns,
        "invoice-sync",
        ps(c("sync", "ghcr.io/acme/invoice-sync:1.1", cpu="250m", mem="512Mi")),
        selector={"app": "invoice-sync"},
        created=timedelta(days=15),
    )
    isp = next(
        o
        for o in k.items
        if o["kind"] == "Pod" and o["metadata"]["name"].startswith("invoice-sync-")
    )
    isp["spec"]["initContainers"] = [
        c("wait-for-db", "busybox:1.36", command=["sh", "-c", "nc -z db 5432"])
    ]
    isp["status"].update(
        phase="Pending",
        containerStatuses=[
            {
                "name": "sync",
                "ready": False,
                "restartCount": 0,
                "image": "x",
                "state": {"waiting": {"reason": "PodInitializing"}},
            }
        ],
        initContainerStatuses=[
            {
                "name": "wait-for-db",
                "ready": False,
                "restartCount": 2950,
                "image": "busybox",
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            }
        ],
    )
    expect("Pod", ns, isp["metadata"]["name"], "pod-crashloop", costly=True)
    # A kustomize-generated ConfigMap used only by an old ReplicaSet of a live Deployment: reported
    # or not, never as high (rollback history).
    k.cm(ns, "catalog-config-7fk2g9tt8h", created=timedelta(days=60))
    k.cm(ns, "catalog-config-b8m4t2c9dk", created=timedelta(days=20))
    k.deploy(
        ns,
        "catalog",
        ps(
            c(
                "catalog",
                "ghcr.io/acme/catalog:5.1",
                env_from=[{"configMapRef": {"name": "catalog-config-b8m4t2c9dk"}}],
            )
        ),
        selector={"app": "catalog"},
        created=timedelta(days=60),
        old_revisions=1,
    )
    old_rs = next(
        o
        for o in k.items
        if o["kind"] == "ReplicaSet"
        and o["metadata"]["name"].startswith("catalog-")
        and o["spec"]["replicas"] == 0
    )
    old_rs["spec"]["template"] = json.loads(json.dumps(old_rs["spec"]["template"]))
    old_rs["spec"]["template"]["spec"]["containers"][0]["envFrom"] = [
        {"configMapRef": {"name": "catalog-config-7fk2g9tt8h"}}
    ]
    # StatefulSets: one scaled to zero, one scaled from 3 to 1 (PVCs are retained by default).
    an = "analytics"
    k.namespace(an, created=OLD)
    k.sts(
        an,
        "clickhouse",
        ps(c("clickhouse", "clickhouse/clickhouse-server:24.8", cpu="2", mem="8Gi")),
        selector={"app": "clickhouse"},
        replicas=0,
        keep_pvcs=2,
        vcts=[("data", "500Gi", "gp3")],
        created=OLD,
    )
    expect("StatefulSet", an, "clickhouse", "workload-scaled-to-zero")
    expect(
        "PersistentVolumeClaim", an, "data-clickhouse-0", "pvc-unused", cascade=True, costly=True
    )
    expect(
        "PersistentVolumeClaim", an, "data-clickhouse-1", "pvc-unused", cascade=True, costly=True
    )
    k.sts(
        an,
        "kafka",
        ps(c("kafka", "bitnami/kafka:3.8", cpu="1", mem="4Gi")),
        selector={"app": "kafka"},
        replicas=1,
        keep_pvcs=3,
        vcts=[("data", "200Gi", "gp3")],
        created=OLD,
    )
    k.svc(an, "kafka", {"app": "kafka"}, headless=True, ports=[("tcp", 9092, 9092)])
    expect("PersistentVolumeClaim", an, "data-kafka-1", "pvc-unused", costly=True)
    expect("PersistentVolumeClaim", an, "data-kafka-2", "pvc-unused", costly=True)
    # A LoadBalancer in front of the scaled-to-zero ClickHouse: the LB still bills.
    k.svc(
        an,
        "clickhouse-public",
        {"app": "clickhouse"},
        type_="LoadBalancer",
        lb_hostname="ch-0123.elb.us-east-1.amazonaws.com",
        created=OLD,
    )
    expect("Service", an, "clickhouse-public", "service-no-endpoints", cascade=True, costly=True)
    # A PV whose reclaim failed.
    k.pv(
        "pvc-0badf00d-0000-4000-8000-000000000002",
        "100Gi",
        "gp3",
        claim=("analytics", "scratch"),
        phase="Failed",
        created=OLD,
    )
    expect(
        "PersistentVolume",
        None,
        "pvc-0badf00d-0000-4000-8000-000000000002",
        "pv-unbound",
        costly=True,
    )
    # A load-test namespace: the k6 Job ran 40 days ago, its script and token remain.
    lt = "loadtest-2026-10"
    k.namespace(lt, created=timedelta(days=41))
    k.cm(lt, "k6-script", created=timedelta(days=41))
    k.secret(lt, "k6-cloud-token", created=timedelta(days=41))
    k.job(
        lt,
        "k6-run",
        ps(
            c("k6", "grafana/k6:0.54.0", env=[env_secret("K6_CLOUD_TOKEN", "k6-cloud-token", "t")]),
            volumes=[v_cm("script", "k6-script")],
        ),
        created=timedelta(days=41),
        finished=timedelta(days=40),
    )
    expect("Namespace", None, lt, "namespace-abandoned")
    # RBAC, kind-aware: a RoleBinding to a missing ClusterRole "deployer" (the Role exists),
    # and a ClusterRoleBinding to a ClusterRole removed with its chart.
    k.rb(
        ns,
        "deployer-binding",
        "deployer",
        [sa_subject(ns, "storefront")],
        cluster_role=True,
        created=OLD,
    )
    expect("RoleBinding", ns, "deployer-binding", "binding-role-missing")
    k.crb(
        "prometheus-server-old",
        "prometheus-server-old",
        [sa_subject("monitoring", "kps-prometheus")],
        created=OLD,
    )
    expect("ClusterRoleBinding", None, "prometheus-server-old", "binding-role-missing")
    # A ServiceAccount used only by the suspended CronJob.
    k.sa(ns, "nightly-report", created=OLD)
    k.get("CronJob", ns, "nightly-report")["spec"]["jobTemplate"]["spec"]["template"]["spec"][
        "serviceAccountName"
    ] = "nightly-report"
    expect("ServiceAccount", ns, "nightly-report", "serviceaccount-unused", cascade=True)
    # A Job whose CronJob was deleted, finished long ago.
    k.job(
        ns,
        "weekly-export-29300000",
        ps(c("export", "ghcr.io/acme/export:1")),
        created=OLD,
        finished=OLD,
        owner={
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "name": "weekly-export",
            "uid": uid("deleted", "weekly-export"),
            "controller": True,
        },
    )
    expect("Job", ns, "weekly-export-29300000", "owner-missing|job-finished")

    # kor compatibility labels.
    k.cm(ns, "marked-unused", labels={"kor/used": "false"}, created=OLD)
    expect("ConfigMap", ns, "marked-unused", "configmap-unused|labelled-unused|kor-used-false")


# Objects of the waste cluster that must NOT be reported with medium/high confidence.
MUST_STAY_QUIET: list[tuple[str, str | None, str]] = [
    ("ConfigMap", "shop", "order-worker-config"),  # KEDA scales the worker from zero
    ("Secret", "shop", "order-worker-amqp"),
    ("Deployment", "shop", "order-worker"),
    ("Secret", "shop", "payments-worker-keys"),  # its pod crash-loops but is live
    ("Secret", "shop", "shop-tls"),
    ("PersistentVolumeClaim", "shop", "data-postgres-0"),
    ("ConfigMap", "shop", "pg-backup-script"),
    ("ServiceAccount", "shop", "pg-backup"),
]
