"""What every Kubernetes 1.31 API server creates: namespaces, bootstrap RBAC, priority classes."""

from __future__ import annotations

from tests.redteam.kube import Cluster, group, rule, sa_subject, user

RBAC_DEFAULTS = {"kubernetes.io/bootstrapping": "rbac-defaults"}
AUTO = {"rbac.authorization.kubernetes.io/autoupdate": "true"}

CONTROLLERS = [
    "attachdetach-controller",
    "certificate-controller",
    "clusterrole-aggregation-controller",
    "cronjob-controller",
    "daemon-set-controller",
    "deployment-controller",
    "disruption-controller",
    "endpoint-controller",
    "endpointslice-controller",
    "endpointslicemirroring-controller",
    "ephemeral-volume-controller",
    "expand-controller",
    "generic-garbage-collector",
    "horizontal-pod-autoscaler",
    "job-controller",
    "legacy-service-account-token-cleaner",
    "namespace-controller",
    "node-controller",
    "persistent-volume-binder",
    "pod-garbage-collector",
    "pv-protection-controller",
    "pvc-protection-controller",
    "replicaset-controller",
    "replication-controller",
    "resourcequota-controller",
    "root-ca-cert-publisher",
    "route-controller",
    "service-account-controller",
    "service-controller",
    "statefulset-controller",
    "ttl-after-finished-controller",
    "ttl-controller",
    "validatingadmissionpolicy-status-controller",
]

READ = ["get", "list", "watch"]
ALL = ["*"]


def bootstrap(k: Cluster, *, controller_sas: bool = True) -> None:
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        k.namespace(ns)
    # The "kubernetes" Service and its apiserver-managed EndpointSlice.
    api = k.svc(
        "default",
        "kubernetes",
        None,
        ports=[("https", 443, 443)],
        labels={"component": "apiserver", "provider": "kubernetes"},
    )
    k.obj(
        "discovery.k8s.io/v1",
        "EndpointSlice",
        "kubernetes",
        "default",
        labels={"kubernetes.io/service-name": "kubernetes"},
        body={
            "addressType": "IPv4",
            "endpoints": [
                {"addresses": ["10.0.1.10"], "conditions": {"ready": True}},
                {"addresses": ["10.0.2.10"], "conditions": {"ready": True}},
            ],
            "ports": [{"name": "https", "port": 443, "protocol": "TCP"}],
        },
    )
    assert api
    k.cm("kube-system", "extension-apiserver-authentication")
    k.cm(
        "kube-system",
        "kube-apiserver-legacy-service-account-token-tracking",
        data={"since": "2026-01-01"},
    )
    k.cm("kube-public", "cluster-info", data={"kubeconfig": "..."})

    for name, value in (
        ("system-cluster-critical", 2000000000),
        ("system-node-critical", 2000001000),
    ):
        k.priorityclass(name, value)

    cr = lambda name, rules, agg=None, labels=None: k.clusterrole(  # noqa: E731
        name, rules, agg, labels={**RBAC_DEFAULTS, **(labels or {})}, annotations=AUTO
    )
    cr("cluster-admin", [rule(["*"], ["*"], ALL)])
    cr(
        "admin",
        [],
        [{"rbac.authorization.k8s.io/aggregate-to-admin": "true"}],
        {"kubernetes.io/bootstrapping": "rbac-defaults"},
    )
    cr(
        "edit",
        [],
        [{"rbac.authorization.k8s.io/aggregate-to-edit": "true"}],
        {"rbac.authorization.k8s.io/aggregate-to-admin": "true"},
    )
    cr(
        "view",
        [],
        [{"rbac.authorization.k8s.io/aggregate-to-view": "true"}],
        {"rbac.authorization.k8s.io/aggregate-to-edit": "true"},
    )
    cr(
        "system:aggregate-to-admin",
        [rule(["rbac.authorization.k8s.io"], ["roles"], ALL)],
        labels={"rbac.authorization.k8s.io/aggregate-to-admin": "true"},
    )
    cr(
        "system:aggregate-to-edit",
        [rule([""], ["pods", "configmaps", "secrets"], ALL)],
        labels={"rbac.authorization.k8s.io/aggregate-to-edit": "true"},
    )
    cr(
        "system:aggregate-to-view",
        [rule([""], ["pods", "configmaps"], READ)],
        labels={"rbac.authorization.k8s.io/aggregate-to-view": "true"},
    )
    plain = [
        "system:auth-delegator",
        "system:basic-user",
        "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
        "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
        "system:certificates.k8s.io:kube-apiserver-client-approver",
        "system:certificates.k8s.io:kube-apiserver-client-kubelet-approver",
        "system:certificates.k8s.io:kubelet-serving-approver",
        "system:certificates.k8s.io:legacy-unknown-approver",
        "system:discovery",
        "system:heapster",
        "system:kube-aggregator",
        "system:kube-controller-manager",
        "system:kube-dns",
        "system:kube-scheduler",
        "system:kubelet-api-admin",
        "system:monitoring",
        "system:node",
        "system:node-bootstrapper",
        "system:node-problem-detector",
        "system:node-proxier",
        "system:persistent-volume-provisioner",
        "system:public-info-viewer",
        "system:service-account-issuer-discovery",
        "system:volume-scheduler",
    ]
    for name in plain:
        cr(name, [rule([""], ["nodes"], READ)])
    for ctl in CONTROLLERS:
        cr(f"system:controller:{ctl}", [rule([""], ["events"], ["create", "patch", "update"])])

    crb = lambda name, role, subjects: k.crb(  # noqa: E731
        name, role, subjects, labels=RBAC_DEFAULTS, annotations=AUTO
    )
    crb("cluster-admin", "cluster-admin", [group("system:masters")])
    crb("system:basic-user", "system:basic-user", [group("system:authenticated")])
    crb("system:discovery", "system:discovery", [group("system:authenticated")])
    crb(
        "system:kube-controller-manager",
        "system:kube-controller-manager",
        [user("system:kube-controller-manager")],
    )
    crb("system:kube-dns", "system:kube-dns", [sa_subject("kube-system", "kube-dns")])
    crb("system:kube-scheduler", "system:kube-scheduler", [user("system:kube-scheduler")])
    crb("system:monitoring", "system:monitoring", [group("system:monitoring")])
    crb("system:node", "system:node", None)
    crb("system:node-proxier", "system:node-proxier", [user("system:kube-proxy")])
    crb(
        "system:public-info-viewer",
        "system:public-info-viewer",
        [group("system:authenticated"), group("system:unauthenticated")],
    )
    crb(
        "system:service-account-issuer-discovery",
        "system:service-account-issuer-discovery",
        [group("system:serviceaccounts")],
    )
    crb("system:volume-scheduler", "system:volume-scheduler", [user("system:kube-scheduler")])
    for ctl in CONTROLLERS:
        crb(
            f"system:controller:{ctl}", f"system:controller:{ctl}", [sa_subject("kube-system", ctl)]
        )
        if controller_sas:
            k.sa("kube-system", ctl)
    if controller_sas:
        for extra in ("bootstrap-signer", "token-cleaner"):
            k.sa("kube-system", extra)

    role = lambda ns, name: k.role(  # noqa: E731
        ns, name, [rule([""], ["configmaps"], READ)], labels=RBAC_DEFAULTS, annotations=AUTO
    )
    rb = lambda ns, name, subjects: k.rb(  # noqa: E731
        ns, name, name, subjects, labels=RBAC_DEFAULTS, annotations=AUTO
    )
    role("kube-system", "extension-apiserver-authentication-reader")
    role("kube-system", "system::leader-locking-kube-controller-manager")
    role("kube-system", "system::leader-locking-kube-scheduler")
    role("kube-system", "system:controller:bootstrap-signer")
    role("kube-system", "system:controller:cloud-provider")
    role("kube-system", "system:controller:token-cleaner")
    role("kube-public", "system:controller:bootstrap-signer")
    k.rb(
        "kube-system",
        "system::extension-apiserver-authentication-reader",
        "extension-apiserver-authentication-reader",
        [user("system:kube-controller-manager"), user("system:kube-scheduler")],
        labels=RBAC_DEFAULTS,
        annotations=AUTO,
    )
    rb(
        "kube-system",
        "system::leader-locking-kube-controller-manager",
        [
            user("system:kube-controller-manager"),
            sa_subject("kube-system", "kube-controller-manager"),
        ],
    )
    rb(
        "kube-system",
        "system::leader-locking-kube-scheduler",
        [user("system:kube-scheduler"), sa_subject("kube-system", "kube-scheduler")],
    )
    rb(
        "kube-system",
        "system:controller:bootstrap-signer",
        [sa_subject("kube-system", "bootstrap-signer")],
    )
    rb(
        "kube-system",
        "system:controller:cloud-provider",
        [sa_subject("kube-system", "cloud-provider")],
    )
    rb(
        "kube-system",
        "system:controller:token-cleaner",
        [sa_subject("kube-system", "token-cleaner")],
    )
    rb(
        "kube-public",
        "system:controller:bootstrap-signer",
        [sa_subject("kube-system", "bootstrap-signer")],
    )
