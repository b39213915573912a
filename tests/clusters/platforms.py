"""Brand-new managed clusters (EKS, GKE, AKS) as the platforms create them.

What each builder installs is what ``kubectl get all,cm,secret,sa,role,rolebinding,clusterrole,
clusterrolebinding,sc,pc,crd,apiservice,webhookconfigurations -A`` shows on a cluster created an
hour ago with the console defaults (plus, for EKS, the EBS CSI add-on and a gp3 default class,
which nearly every EKS user adds on day one since EKS 1.30 no longer marks gp2 default).
The Kubernetes bootstrap RBAC policy is shared by all three.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.clusters.sim import Cluster, Obj, digest

RBAC = "rbac.authorization.k8s.io/v1"
BOOTSTRAP_LABELS = {"kubernetes.io/bootstrapping": "rbac-defaults"}
BOOTSTRAP_ANN = {"rbac.authorization.kubernetes.io/autoupdate": "true"}


# --- object builders ----------------------------------------------------------------------


def _meta(
    name: str,
    ns: str | None = None,
    labels: dict[str, str] | None = None,
    ann: dict[str, str] | None = None,
) -> Obj:
    m: Obj = {"name": name}
    if ns:
        m["namespace"] = ns
    if labels:
        m["labels"] = dict(labels)
    if ann:
        m["annotations"] = dict(ann)
    return m


def ns_obj(name: str, labels: dict[str, str] | None = None) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(name, labels=labels)}


def cm(
    ns: str, name: str, labels: dict[str, str] | None = None, data: dict[str, str] | None = None
) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(name, ns, labels),
        "data": data or {},
    }


def secret(
    ns: str,
    name: str,
    type_: str = "Opaque",
    labels: dict[str, str] | None = None,
    ann: dict[str, str] | None = None,
) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": type_,
        "metadata": _meta(name, ns, labels, ann),
        "data": {},
    }


def sa(
    ns: str, name: str, labels: dict[str, str] | None = None, ann: dict[str, str] | None = None
) -> Obj:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(name, ns, labels, ann)}


def cluster_role(
    name: str,
    labels: dict[str, str] | None = None,
    aggregate: list[dict[str, str]] | None = None,
    ann: dict[str, str] | None = None,
    rules: list[Obj] | None = None,
) -> Obj:
    obj: Obj = {
        "apiVersion": RBAC,
        "kind": "ClusterRole",
        "metadata": _meta(name, labels=labels, ann=ann),
        "rules": rules or [],
    }
    if aggregate is not None:
        obj["aggregationRule"] = {
            "clusterRoleSelectors": [{"matchLabels": sel} for sel in aggregate]
        }
    return obj


def role(
    ns: str,
    name: str,
    labels: dict[str, str] | None = None,
    ann: dict[str, str] | None = None,
    rules: list[Obj] | None = None,
) -> Obj:
    return {
        "apiVersion": RBAC,
        "kind": "Role",
        "metadata": _meta(name, ns, labels, ann),
        "rules": rules or [],
    }


def grant(resources: list[str], verbs: list[str], names: list[str] | None = None) -> Obj:
    """A core-group PolicyRule (what the analysis reads of RBAC rule bodies)."""
    rule: Obj = {"apiGroups": [""], "resources": resources, "verbs": verbs}
    if names:
        rule["resourceNames"] = names
    return rule


def subj(kind: str, name: str, ns: str | None = None) -> Obj:
    if kind == "ServiceAccount":
        return {"kind": kind, "name": name, "namespace": ns}
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name}


def crb(
    name: str,
    role_name: str,
    subjects: list[Obj],
    labels: dict[str, str] | None = None,
    ann: dict[str, str] | None = None,
) -> Obj:
    obj: Obj = {
        "apiVersion": RBAC,
        "kind": "ClusterRoleBinding",
        "metadata": _meta(name, labels=labels, ann=ann),
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": role_name,
        },
    }
    if subjects:
        obj["subjects"] = subjects
    return obj


def rb(
    ns: str,
    name: str,
    role_kind: str,
    role_name: str,
    subjects: list[Obj],
    labels: dict[str, str] | None = None,
    ann: dict[str, str] | None = None,
) -> Obj:
    return {
        "apiVersion": RBAC,
        "kind": "RoleBinding",
        "metadata": _meta(name, ns, labels, ann),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
        "subjects": subjects,
    }


def container(name: str, image: str, args: list[str] | None = None, **extra: Any) -> Obj:
    c: Obj = {"name": name, "image": image}
    if args:
        c["args"] = args
    c["resources"] = extra.pop("resources", {"requests": {"cpu": "5m", "memory": "20Mi"}})
    c.update(extra)
    return c


def pod_template(labels: dict[str, str], containers: list[Obj], **spec: Any) -> Obj:
    return {"metadata": {"labels": dict(labels)}, "spec": {"containers": containers, **spec}}


def deployment(
    ns: str,
    name: str,
    labels: dict[str, str],
    template: Obj,
    replicas: int = 1,
    selector: dict[str, str] | None = None,
) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name, ns, labels),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector or template["metadata"]["labels"]},
            "template": template,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
            },
        },
    }


def daemonset(
    ns: str,
    name: str,
    labels: dict[str, str],
    template: Obj,
    selector: dict[str, str] | None = None,
) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": _meta(name, ns, labels),
        "spec": {
            "selector": {"matchLabels": selector or template["metadata"]["labels"]},
            "template": template,
            "updateStrategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": "10%", "maxSurge": 0},
            },
        },
    }


def statefulset(
    ns: str, name: str, labels: dict[str, str], template: Obj, replicas: int, service: str
) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _meta(name, ns, labels),
        "spec": {
            "replicas": replicas,
            "serviceName": service,
            "selector": {"matchLabels": template["metadata"]["labels"]},
            "template": template,
        },
    }


def service(
    ns: str,
    name: str,
    selector: dict[str, str] | None,
    ports: list[tuple[str, int, Any]],
    labels: dict[str, str] | None = None,
    **spec: Any,
) -> Obj:
    s: Obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(name, ns, labels, spec.pop("annotations", None)),
        "spec": {
            "ports": [
                {"name": n, "port": p, "targetPort": t, "protocol": "TCP"} for n, p, t in ports
            ],
            **spec,
        },
    }
    if selector is not None:
        s["spec"]["selector"] = selector
    return s


def pdb(
    ns: str,
    name: str,
    selector: dict[str, str],
    labels: dict[str, str] | None = None,
    max_unavailable: int = 1,
) -> Obj:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(name, ns, labels),
        "spec": {"maxUnavailable": max_unavailable, "selector": {"matchLabels": selector}},
    }


def storage_class(
    name: str,
    provisioner: str,
    parameters: dict[str, str],
    *,
    default: bool = False,
    binding: str = "WaitForFirstConsumer",
    labels: dict[str, str] | None = None,
    expand: bool = True,
) -> Obj:
    ann = {"storageclass.kubernetes.io/is-default-class": "true"} if default else None
    sc: Obj = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": _meta(name, labels=labels, ann=ann),
        "provisioner": provisioner,
        "parameters": parameters,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": binding,
    }
    if expand:
        sc["allowVolumeExpansion"] = True
    return sc


def priority_class(
    name: str, value: int, description: str, labels: dict[str, str] | None = None
) -> Obj:
    return {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": _meta(name, labels=labels),
        "value": value,
        "globalDefault": False,
        "preemptionPolicy": "PreemptLowerPriority",
        "description": description,
    }


def crd(
    name: str,
    kind: str,
    versions: tuple[str, ...] = ("v1",),
    scope: str = "Namespaced",
    labels: dict[str, str] | None = None,
) -> Obj:
    plural, _, group = name.partition(".")
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": _meta(name, labels=labels),
        "spec": {
            "group": group,
            "names": {
                "kind": kind,
                "listKind": kind + "List",
                "plural": plural,
                "singular": kind.lower(),
            },
            "scope": scope,
            "versions": [
                {
                    "name": v,
                    "served": True,
                    "storage": i == len(versions) - 1,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
                for i, v in enumerate(versions)
            ],
        },
    }


def custom(
    api_version: str,
    kind: str,
    name: str,
    ns: str | None = None,
    spec: Obj | None = None,
    labels: dict[str, str] | None = None,
) -> Obj:
    obj: Obj = {"apiVersion": api_version, "kind": kind, "metadata": _meta(name, ns, labels)}
    if spec is not None:
        obj["spec"] = spec
    return obj


def webhook_config(
    kind: str, name: str, hooks: list[tuple[str, Obj]], labels: dict[str, str] | None = None
) -> Obj:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": kind,
        "metadata": _meta(name, labels=labels),
        "webhooks": [
            {
                "name": hook,
                "clientConfig": client,
                "admissionReviewVersions": ["v1"],
                "sideEffects": "None",
                "failurePolicy": "Ignore",
                "rules": [],
            }
            for hook, client in hooks
        ],
    }


def api_service(
    group: str,
    version: str,
    service_ref: tuple[str, str] | None = None,
    labels: dict[str, str] | None = None,
    priority: int = 100,
) -> Obj:
    name = f"{version}.{group}" if group else version
    spec: Obj = {
        "group": group,
        "version": version,
        "groupPriorityMinimum": 18000 if not group else priority * 100,
        "versionPriority": 15,
    }
    if service_ref:
        spec["service"] = {"namespace": service_ref[0], "name": service_ref[1], "port": 443}
        spec["insecureSkipTLSVerify"] = True
    return {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": _meta(name, labels=labels),
        "spec": spec,
    }


# --- Kubernetes itself --------------------------------------------------------------------

CONTROLLERS = (
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
    "selinux-warning-controller",
    "service-account-controller",
    "service-cidrs-controller",
    "service-controller",
    "statefulset-controller",
    "ttl-after-finished-controller",
    "ttl-controller",
    "validatingadmissionpolicy-status-controller",
)
# With an external cloud-controller-manager (all three clouds) kube-controller-manager does not
# run these, so their ServiceAccounts are never created; the selinux-warning controller is
# feature-gated off. Their bootstrap bindings therefore name missing ServiceAccounts.
CONTROLLERS_WITHOUT_SA = frozenset(
    {"route-controller", "service-controller", "selinux-warning-controller"}
)

UNBOUND_BOOTSTRAP_CLUSTER_ROLES = (
    "system:heapster",
    "system:kube-aggregator",
    "system:kubelet-api-admin",
    "system:node-bootstrapper",
    "system:node-problem-detector",
    "system:persistent-volume-provisioner",
    "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
    "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
    "system:certificates.k8s.io:kube-apiserver-client-approver",
    "system:certificates.k8s.io:kube-apiserver-client-kubelet-approver",
    "system:certificates.k8s.io:kubelet-serving-approver",
    "system:certificates.k8s.io:legacy-unknown-approver",
)


def kubernetes_core(c: Cluster, control_plane_ips: list[str]) -> None:
    """What kube-apiserver and kube-controller-manager create on every cluster."""
    for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
        c.apply(ns_obj(name))
    b, a = BOOTSTRAP_LABELS, BOOTSTRAP_ANN
    objs: list[Obj] = [
        cluster_role("cluster-admin", b, ann=a),
        cluster_role("admin", b, [{"rbac.authorization.k8s.io/aggregate-to-admin": "true"}], a),
        cluster_role(
            "edit",
            {**b, "rbac.authorization.k8s.io/aggregate-to-admin": "true"},
            [{"rbac.authorization.k8s.io/aggregate-to-edit": "true"}],
            a,
        ),
        cluster_role(
            "view",
            {**b, "rbac.authorization.k8s.io/aggregate-to-edit": "true"},
            [{"rbac.authorization.k8s.io/aggregate-to-view": "true"}],
            a,
        ),
        cluster_role(
            "system:aggregate-to-admin",
            {**b, "rbac.authorization.k8s.io/aggregate-to-admin": "true"},
            ann=a,
        ),
        cluster_role(
            "system:aggregate-to-edit",
            {**b, "rbac.authorization.k8s.io/aggregate-to-edit": "true"},
            ann=a,
        ),
        cluster_role(
            "system:aggregate-to-view",
            {**b, "rbac.authorization.k8s.io/aggregate-to-view": "true"},
            ann=a,
        ),
    ]
    bound = {
        "system:auth-delegator": [],
        "system:basic-user": [subj("Group", "system:authenticated")],
        "system:discovery": [subj("Group", "system:authenticated")],
        "system:public-info-viewer": [
            subj("Group", "system:authenticated"),
            subj("Group", "system:unauthenticated"),
        ],
        "system:kube-controller-manager": [subj("User", "system:kube-controller-manager")],
        "system:kube-dns": [subj("ServiceAccount", "kube-dns", "kube-system")],
        "system:kube-scheduler": [subj("User", "system:kube-scheduler")],
        "system:monitoring": [subj("Group", "system:monitoring")],
        "system:node": [],
        "system:node-proxier": [subj("User", "system:kube-proxy")],
        "system:service-account-issuer-discovery": [subj("Group", "system:serviceaccounts")],
        "system:volume-scheduler": [subj("User", "system:kube-scheduler")],
    }
    objs.append(crb("cluster-admin", "cluster-admin", [subj("Group", "system:masters")], b, a))
    for name, subjects in bound.items():
        objs.append(cluster_role(name, b, ann=a))
        if name != "system:auth-delegator":
            objs.append(crb(name, name, subjects, b, a))
    for name in UNBOUND_BOOTSTRAP_CLUSTER_ROLES:
        objs.append(cluster_role(name, b, ann=a))
    for ctrl in CONTROLLERS:
        objs.append(cluster_role(f"system:controller:{ctrl}", b, ann=a))
        objs.append(
            crb(
                f"system:controller:{ctrl}",
                f"system:controller:{ctrl}",
                [subj("ServiceAccount", ctrl, "kube-system")],
                b,
                a,
            )
        )
        if ctrl not in CONTROLLERS_WITHOUT_SA:
            objs.append(sa("kube-system", ctrl))
    for extra in ("bootstrap-signer", "token-cleaner", "cloud-provider"):
        objs.append(sa("kube-system", extra))
    objs += [
        role("kube-system", "extension-apiserver-authentication-reader", b, a),
        role("kube-system", "system::leader-locking-kube-controller-manager", b, a),
        role("kube-system", "system::leader-locking-kube-scheduler", b, a),
        role("kube-system", "system:controller:bootstrap-signer", b, a),
        role("kube-system", "system:controller:cloud-provider", b, a),
        role("kube-system", "system:controller:token-cleaner", b, a),
        role("kube-public", "system:controller:bootstrap-signer", b, a),
        rb(
            "kube-system",
            "system::extension-apiserver-authentication-reader",
            "Role",
            "extension-apiserver-authentication-reader",
            [subj("User", "system:kube-controller-manager"), subj("User", "system:kube-scheduler")],
            b,
            a,
        ),
        rb(
            "kube-system",
            "system::leader-locking-kube-controller-manager",
            "Role",
            "system::leader-locking-kube-controller-manager",
            [
                subj("User", "system:kube-controller-manager"),
                subj("ServiceAccount", "kube-controller-manager", "kube-system"),
            ],
            b,
            a,
        ),
        rb(
            "kube-system",
            "system::leader-locking-kube-scheduler",
            "Role",
            "system::leader-locking-kube-scheduler",
            [
                subj("User", "system:kube-scheduler"),
                subj("ServiceAccount", "kube-scheduler", "kube-system"),
            ],
            b,
            a,
        ),
        rb(
            "kube-system",
            "system:controller:bootstrap-signer",
            "Role",
            "system:controller:bootstrap-signer",
            [subj("ServiceAccount", "bootstrap-signer", "kube-system")],
            b,
            a,
        ),
        rb(
            "kube-system",
            "system:controller:cloud-provider",
            "Role",
            "system:controller:cloud-provider",
            [subj("ServiceAccount", "cloud-provider", "kube-system")],
            b,
            a,
        ),
        rb(
            "kube-system",
            "system:controller:token-cleaner",
            "Role",
            "system:controller:token-cleaner",
            [subj("ServiceAccount", "token-cleaner", "kube-system")],
            b,
            a,
        ),
        rb(
            "kube-public",
            "system:controller:bootstrap-signer",
            "Role",
            "system:controller:bootstrap-signer",
            [subj("ServiceAccount", "bootstrap-signer", "kube-system")],
            b,
            a,
        ),
        cm(
            "kube-system",
            "extension-apiserver-authentication",
            data={"client-ca-file": "...", "requestheader-allowed-names": '["front-proxy-client"]'},
        ),
        cm(
            "kube-system",
            "kube-apiserver-legacy-service-account-token-tracking",
            data={"since": "2025-01-01"},
        ),
        priority_class(
            "system-cluster-critical",
            2000000000,
            "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",  # noqa: E501
        ),
        priority_class(
            "system-node-critical",
            2000001000,
            "Used for system critical pods that must not be moved from their current node.",
        ),
    ]
    kube_svc = service(
        "default",
        "kubernetes",
        None,
        [("https", 443, 443)],
        {"component": "apiserver", "provider": "kubernetes"},
        clusterIP=c.service_ip(1),
    )
    objs.append(kube_svc)
    for group, versions in (
        ("", ("v1",)),
        ("admissionregistration.k8s.io", ("v1",)),
        ("apiextensions.k8s.io", ("v1",)),
        ("apps", ("v1",)),
        ("authentication.k8s.io", ("v1",)),
        ("authorization.k8s.io", ("v1",)),
        ("autoscaling", ("v1", "v2")),
        ("batch", ("v1",)),
        ("certificates.k8s.io", ("v1",)),
        ("coordination.k8s.io", ("v1",)),
        ("discovery.k8s.io", ("v1",)),
        ("events.k8s.io", ("v1",)),
        ("flowcontrol.apiserver.k8s.io", ("v1",)),
        ("networking.k8s.io", ("v1",)),
        ("node.k8s.io", ("v1",)),
        ("policy", ("v1",)),
        ("rbac.authorization.k8s.io", ("v1",)),
        ("resource.k8s.io", ("v1beta1",)),
        ("scheduling.k8s.io", ("v1",)),
        ("storage.k8s.io", ("v1",)),
        ("apiregistration.k8s.io", ("v1",)),
    ):
        for v in versions:
            objs.append(
                api_service(
                    group, v, labels={"kube-aggregator.kubernetes.io/automanaged": "onstart"}
                )
            )
    c.apply(objs)
    svc = c.require("Service", "default", "kubernetes")
    c.endpoint_slice(
        svc,
        [(ip, None) for ip in control_plane_ips],
        managed_by="",
        ports=[{"name": "https", "port": 443, "protocol": "TCP"}],
        name="kubernetes",
    )


def _finish(c: Cluster) -> Cluster:
    c.settle()
    return c


def _hostpath(name: str, path: str) -> Obj:
    return {"name": name, "hostPath": {"path": path}}


def _cm_vol(name: str, cm_name: str, optional: bool | None = None) -> Obj:
    v: Obj = {"name": name, "configMap": {"name": cm_name, "defaultMode": 420}}
    if optional is not None:
        v["configMap"]["optional"] = optional
    return v


def _secret_vol(name: str, secret_name: str) -> Obj:
    return {"name": name, "secret": {"secretName": secret_name, "defaultMode": 420}}


LINUX = {"kubernetes.io/os": "linux"}
WINDOWS = {"kubernetes.io/os": "windows"}


# --- EKS ----------------------------------------------------------------------------------


def new_eks_cluster(
    now: datetime, nodes: int = 3, *, name: str = "prod-eks", age: timedelta = timedelta(days=40)
) -> Cluster:
    """An EKS 1.33 cluster with one managed node group, default add-ons and the EBS CSI add-on."""
    c = Cluster(now, "aws", name=name, installed_days_ago=age.days)
    c.add_nodes(nodes, instance_type="m5.large", region="us-east-1")
    kubernetes_core(c, ["192.168.101.17", "192.168.160.244"])
    ks = "kube-system"
    eks_labels = {"eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"}
    not_fargate = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                            {
                                "key": "kubernetes.io/arch",
                                "operator": "In",
                                "values": ["amd64", "arm64"],
                            },
                            {
                                "key": "eks.amazonaws.com/compute-type",
                                "operator": "NotIn",
                                "values": ["fargate", "hybrid", "auto"],
                            },
                        ]
                    }
                ]
            }
        }
    }
    objs: list[Obj] = [
        # aws-auth: managed node groups still write it (authentication mode API_AND_CONFIG_MAP)
        cm(
            ks,
            "aws-auth",
            data={
                "mapRoles": "- groups:\n  - system:bootstrappers\n  - system:nodes\n  rolearn: arn:aws:iam::123456789012:role/default-ng-NodeInstanceRole\n  username: system:node:{{EC2PrivateDNSName}}\n"  # noqa: E501
            },
        ),
        cm(
            ks,
            "amazon-vpc-cni",
            {
                "app.kubernetes.io/instance": "aws-vpc-cni",
                "app.kubernetes.io/managed-by": "EKS",
                "app.kubernetes.io/name": "aws-node",
                "app.kubernetes.io/version": "v1.19.2",
                "k8s-app": "aws-node",
            },
            {
                "enable-network-policy-controller": "false",
                "enable-windows-ipam": "false",
                "enable-windows-prefix-delegation": "false",
                "minimum-ip-target": "3",
                "warm-ip-target": "1",
                "warm-prefix-target": "0",
            },
        ),
        cm(
            ks,
            "coredns",
            {"eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"},
            {
                "Corefile": ".:53 {\n    errors\n    health {\n        lameduck 5s\n      }\n    ready\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n      pods insecure\n      fallthrough in-addr.arpa ip6.arpa\n    }\n    prometheus :9153\n    forward . /etc/resolv.conf\n    cache 30\n    loop\n    reload\n    loadbalance\n}\n"  # noqa: E501
            },
        ),
        cm(
            ks,
            "kube-proxy",
            {"eks.amazonaws.com/component": "kube-proxy", "k8s-app": "kube-proxy"},
            {"kubeconfig": "..."},
        ),
        cm(
            ks,
            "kube-proxy-config",
            {"eks.amazonaws.com/component": "kube-proxy", "k8s-app": "kube-proxy"},
            {"config": "..."},
        ),
        sa(
            ks,
            "aws-node",
            {
                "app.kubernetes.io/instance": "aws-vpc-cni",
                "app.kubernetes.io/managed-by": "EKS",
                "app.kubernetes.io/name": "aws-node",
                "k8s-app": "aws-node",
            },
        ),
        sa(ks, "coredns", {"eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"}),
        sa(
            ks, "kube-proxy", {"eks.amazonaws.com/component": "kube-proxy", "k8s-app": "kube-proxy"}
        ),
        sa(
            ks,
            "ebs-csi-controller-sa",
            {
                "app.kubernetes.io/component": "csi-driver",
                "app.kubernetes.io/managed-by": "EKS",
                "app.kubernetes.io/name": "aws-ebs-csi-driver",
                "app.kubernetes.io/version": "1.38.1",
            },
            {
                "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/AmazonEKS_EBS_CSI_DriverRole"  # noqa: E501
            },
        ),
        sa(
            ks,
            "ebs-csi-node-sa",
            {
                "app.kubernetes.io/component": "csi-driver",
                "app.kubernetes.io/managed-by": "EKS",
                "app.kubernetes.io/name": "aws-ebs-csi-driver",
                "app.kubernetes.io/version": "1.38.1",
            },
        ),
        cluster_role(
            "aws-node",
            {
                "app.kubernetes.io/instance": "aws-vpc-cni",
                "app.kubernetes.io/managed-by": "EKS",
                "app.kubernetes.io/name": "aws-node",
                "k8s-app": "aws-node",
            },
        ),
        crb(
            "aws-node",
            "aws-node",
            [subj("ServiceAccount", "aws-node", ks)],
            {"app.kubernetes.io/managed-by": "EKS", "k8s-app": "aws-node"},
        ),
        cluster_role(
            "system:coredns",
            {
                "eks.amazonaws.com/component": "coredns",
                "k8s-app": "kube-dns",
                "kubernetes.io/bootstrapping": "rbac-defaults",
            },
        ),
        crb(
            "system:coredns",
            "system:coredns",
            [subj("ServiceAccount", "coredns", ks)],
            {
                "eks.amazonaws.com/component": "coredns",
                "k8s-app": "kube-dns",
                "kubernetes.io/bootstrapping": "rbac-defaults",
            },
        ),
        crb(
            "eks:kube-proxy",
            "system:node-proxier",
            [subj("ServiceAccount", "kube-proxy", ks)],
            {"eks.amazonaws.com/component": "kube-proxy", "k8s-app": "kube-proxy"},
        ),
        crb(
            "eks:kube-proxy-fargate",
            "system:node-proxier",
            [subj("Group", "eks:kube-proxy-fargate")],
        ),
        crb(
            "eks:kube-proxy-windows",
            "system:node-proxier",
            [subj("Group", "eks:kube-proxy-windows")],
        ),
        crb(
            "eks:node-bootstrapper",
            "eks:node-bootstrapper",
            [subj("Group", "system:bootstrappers"), subj("Group", "system:nodes")],
            {"eks.amazonaws.com/component": "node"},
        ),
        crb("eks:addon-cluster-admin", "cluster-admin", [subj("User", "eks:addon-manager")]),
        crb(
            "eks:extension-metrics-apiserver-auth-delegator",
            "system:auth-delegator",
            [subj("User", "eks:extension-metrics-apiserver")],
        ),
        rb(
            ks,
            "eks:extension-metrics-apiserver-auth-reader",
            "Role",
            "extension-apiserver-authentication-reader",
            [subj("User", "eks:extension-metrics-apiserver")],
        ),
        storage_class(
            "gp2", "kubernetes.io/aws-ebs", {"fsType": "ext4", "type": "gp2"}, expand=False
        ),
        storage_class(
            "gp3",
            "ebs.csi.aws.com",
            {"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"},
            default=True,
        ),
        crd("eniconfigs.crd.k8s.amazonaws.com", "ENIConfig", ("v1alpha1",), "Cluster"),
        crd("policyendpoints.networking.k8s.aws", "PolicyEndpoint", ("v1alpha1",)),
        crd("cninodes.vpcresources.k8s.aws", "CNINode", ("v1alpha1",), "Cluster"),
        crd("securitygrouppolicies.vpcresources.k8s.aws", "SecurityGroupPolicy", ("v1beta1",)),
        webhook_config(
            "MutatingWebhookConfiguration",
            "pod-identity-webhook",
            [("iam-for-pods.amazonaws.com", {"url": "https://127.0.0.1:23443/mutate"})],
        ),
        webhook_config(
            "MutatingWebhookConfiguration",
            "vpc-resource-mutating-webhook",
            [("mpod.vpc.k8s.aws", {"url": "https://127.0.0.1:9443/mutate-v1-pod"})],
        ),
        webhook_config(
            "ValidatingWebhookConfiguration",
            "vpc-resource-validating-webhook",
            [("vpod.vpc.k8s.aws", {"url": "https://127.0.0.1:9443/validate-v1-pod"})],
        ),
        webhook_config(
            "ValidatingWebhookConfiguration",
            "eks-aws-auth-configmap-validation-webhook",
            [
                (
                    "eks-aws-auth-configmap-validation-webhook.amazonaws.com",
                    {"url": "https://127.0.0.1:21362/validate"},
                )
            ],
        ),
        # metrics for the control plane (EKS ≥ 1.30)
        service(
            ks,
            "eks-extension-metrics-api",
            None,
            [("metrics-api", 443, 10443)],
            {"app.kubernetes.io/name": "eks-extension-metrics-api"},
        ),
        api_service(
            "metrics.eks.amazonaws.com",
            "v1",
            (ks, "eks-extension-metrics-api"),
            {"app.kubernetes.io/name": "eks-extension-metrics-api"},
        ),
        cluster_role("eks:extension-metrics-apiserver"),
        crb(
            "eks:extension-metrics-apiserver",
            "eks:extension-metrics-apiserver",
            [subj("User", "eks:extension-metrics-apiserver")],
        ),
        # CoreDNS add-on
        deployment(
            ks,
            "coredns",
            {
                "eks.amazonaws.com/component": "coredns",
                "k8s-app": "kube-dns",
                "kubernetes.io/name": "CoreDNS",
            },
            pod_template(
                eks_labels,
                [
                    container(
                        "coredns",
                        "602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/coredns:v1.11.4-eksbuild.2",
                        ["-conf", "/etc/coredns/Corefile"],
                        resources={
                            "limits": {"memory": "170Mi"},
                            "requests": {"cpu": "100m", "memory": "70Mi"},
                        },
                        ports=[
                            {"name": "dns", "containerPort": 53, "protocol": "UDP"},
                            {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                            {"name": "metrics", "containerPort": 9153, "protocol": "TCP"},
                        ],
                    )
                ],
                serviceAccountName="coredns",
                priorityClassName="system-cluster-critical",
                volumes=[
                    {
                        "name": "config-volume",
                        "configMap": {
                            "name": "coredns",
                            "items": [{"key": "Corefile", "path": "Corefile"}],
                        },
                    }
                ],
                affinity=not_fargate,
                tolerations=[
                    {"key": "CriticalAddonsOnly", "operator": "Exists"},
                    {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"},
                ],
            ),
            replicas=2,
            selector={"eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"},
        ),
        service(
            ks,
            "kube-dns",
            {"k8s-app": "kube-dns"},
            [("dns", 53, 53), ("dns-tcp", 53, 53), ("metrics", 9153, 9153)],
            {
                "eks.amazonaws.com/component": "kube-dns",
                "k8s-app": "kube-dns",
                "kubernetes.io/cluster-service": "true",
                "kubernetes.io/name": "CoreDNS",
            },
            clusterIP=c.service_ip(10),
            annotations={"prometheus.io/port": "9153", "prometheus.io/scrape": "true"},
        ),
        pdb(
            ks,
            "coredns",
            eks_labels,
            {"eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"},
        ),
        # VPC CNI, kube-proxy and Pod Identity agent
        daemonset(
            ks,
            "aws-node",
            {
                "app.kubernetes.io/instance": "aws-vpc-cni",
                "app.kubernetes.io/managed-by": "EKS",
                "app.kubernetes.io/name": "aws-node",
                "app.kubernetes.io/version": "v1.19.2",
                "k8s-app": "aws-node",
            },
            pod_template(
                {
                    "app.kubernetes.io/instance": "aws-vpc-cni",
                    "app.kubernetes.io/name": "aws-node",
                    "k8s-app": "aws-node",
                },
                [
                    container(
                        "aws-node",
                        "602401143452.dkr.ecr.us-east-1.amazonaws.com/amazon-k8s-cni:v1.19.2-eksbuild.1",
                        resources={"requests": {"cpu": "25m"}},
                        env=[
                            {"name": "AWS_VPC_K8S_CNI_LOGLEVEL", "value": "DEBUG"},
                            {
                                "name": "MY_NODE_NAME",
                                "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}},
                            },
                        ],
                    ),
                    container(
                        "aws-eks-nodeagent",
                        "602401143452.dkr.ecr.us-east-1.amazonaws.com/amazon/aws-network-policy-agent:v1.1.6-eksbuild.1",
                        [
                            "--enable-ipv6=false",
                            "--enable-network-policy=false",
                            "--enable-cloudwatch-logs=false",
                            "--metrics-bind-addr=:8162",
                            "--health-probe-bind-addr=:8163",
                        ],
                        resources={"requests": {"cpu": "25m"}},
                    ),
                ],
                initContainers=[
                    container(
                        "aws-vpc-cni-init",
                        "602401143452.dkr.ecr.us-east-1.amazonaws.com/amazon-k8s-cni-init:v1.19.2-eksbuild.1",
                        resources={"requests": {"cpu": "25m"}},
                    )
                ],
                serviceAccountName="aws-node",
                hostNetwork=True,
                priorityClassName="system-node-critical",
                affinity=not_fargate,
                tolerations=[{"operator": "Exists"}],
                volumes=[
                    _hostpath("bpf-pin-path", "/sys/fs/bpf"),
                    _hostpath("cni-bin-dir", "/opt/cni/bin"),
                    _hostpath("cni-net-dir", "/etc/cni/net.d"),
                    _hostpath("log-dir", "/var/log/aws-routed-eni"),
                    _hostpath("run-dir", "/var/run/aws-node"),
                    _hostpath("xtables-lock", "/run/xtables.lock"),
                ],
            ),
            selector={"k8s-app": "aws-node"},
        ),
        daemonset(
            ks,
            "kube-proxy",
            {"eks.amazonaws.com/component": "kube-proxy", "k8s-app": "kube-proxy"},
            pod_template(
                {"k8s-app": "kube-proxy"},
                [
                    container(
                        "kube-proxy",
                        "602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/kube-proxy:v1.33.0-minimal-eksbuild.2",
                        command=[
                            "kube-proxy",
                            "--v=2",
                            "--config=/var/lib/kube-proxy-config/config",
                            "--hostname-override=$(NODE_NAME)",
                        ],
                        resources={"requests": {"cpu": "100m"}},
                    )
                ],
                serviceAccountName="kube-proxy",
                hostNetwork=True,
                priorityClassName="system-node-critical",
                affinity=not_fargate,
                tolerations=[{"operator": "Exists"}],
                volumes=[
                    _hostpath("varlog", "/var/log"),
                    _hostpath("xtables-lock", "/run/xtables.lock"),
                    _hostpath("lib-modules", "/lib/modules"),
                    _cm_vol("kubeconfig", "kube-proxy"),
                    _cm_vol("config", "kube-proxy-config"),
                ],
            ),
        ),
        daemonset(
            ks,
            "eks-pod-identity-agent",
            {
                "app.kubernetes.io/instance": "eks-pod-identity-agent",
                "app.kubernetes.io/name": "eks-pod-identity-agent",
                "app.kubernetes.io/version": "0.1.12",
            },
            pod_template(
                {
                    "app.kubernetes.io/instance": "eks-pod-identity-agent",
                    "app.kubernetes.io/name": "eks-pod-identity-agent",
                },
                [
                    container(
                        "eks-pod-identity-agent",
                        "602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/eks-pod-identity-agent:0.1.12",
                        ["--port", "80", "--cluster-name", name, "--probe-port", "2703"],
                        command=["/go-runner", "/eks-pod-identity-agent", "server"],
                    )
                ],
                initContainers=[
                    container(
                        "eks-pod-identity-agent-init",
                        "602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/eks-pod-identity-agent:0.1.12",
                        command=["/go-runner", "/eks-pod-identity-agent", "initialize"],
                    )
                ],
                hostNetwork=True,
                priorityClassName="system-node-critical",
                affinity=not_fargate,
                tolerations=[{"operator": "Exists"}],
            ),
        ),
    ]
    ebs_labels = {
        "app.kubernetes.io/component": "csi-driver",
        "app.kubernetes.io/managed-by": "EKS",
        "app.kubernetes.io/name": "aws-ebs-csi-driver",
        "app.kubernetes.io/version": "1.38.1",
    }
    for role_name, binding in (
        ("ebs-csi-node-role", "ebs-csi-node-getter-binding"),
        ("ebs-external-attacher-role", "ebs-csi-attacher-binding"),
        ("ebs-external-provisioner-role", "ebs-csi-provisioner-binding"),
        ("ebs-external-resizer-role", "ebs-csi-resizer-binding"),
        ("ebs-external-snapshotter-role", "ebs-csi-snapshotter-binding"),
    ):
        sa_name = "ebs-csi-node-sa" if role_name == "ebs-csi-node-role" else "ebs-csi-controller-sa"
        objs += [
            cluster_role(role_name, ebs_labels),
            crb(binding, role_name, [subj("ServiceAccount", sa_name, ks)], ebs_labels),
        ]
    objs += [
        role(ks, "ebs-csi-leases-role", ebs_labels),
        rb(
            ks,
            "ebs-csi-leases-rolebinding",
            "Role",
            "ebs-csi-leases-role",
            [subj("ServiceAccount", "ebs-csi-controller-sa", ks)],
            ebs_labels,
        ),
        deployment(
            ks,
            "ebs-csi-controller",
            ebs_labels,
            pod_template(
                {**ebs_labels, "app": "ebs-csi-controller"},
                [
                    container(
                        "ebs-plugin",
                        "602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/aws-ebs-csi-driver:v1.38.1",
                        [
                            "controller",
                            "--endpoint=$(CSI_ENDPOINT)",
                            "--batching=true",
                            "--logging-format=text",
                            "--v=2",
                        ],
                        env=[
                            {
                                "name": "AWS_ACCESS_KEY_ID",
                                "valueFrom": {
                                    "secretKeyRef": {
                                        "name": "aws-secret",
                                        "key": "key_id",
                                        "optional": True,
                                    }
                                },
                            },
                            {
                                "name": "AWS_SECRET_ACCESS_KEY",
                                "valueFrom": {
                                    "secretKeyRef": {
                                        "name": "aws-secret",
                                        "key": "access_key",
                                        "optional": True,
                                    }
                                },
                            },
                        ],
                    ),
                    container(
                        "csi-provisioner",
                        "602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/csi-provisioner:v5.1.0-eks-1-31-12",
                        [
                            "--timeout=60s",
                            "--csi-address=$(ADDRESS)",
                            "--v=2",
                            "--feature-gates=Topology=true",
                            "--extra-create-metadata",
                            "--leader-election=true",
                            "--default-fstype=ext4",
                            "--kube-api-qps=20",
                            "--kube-api-burst=100",
                            "--worker-threads=100",
                            "--retry-interval-max=30m",
                        ],
                    ),
                    container(
                        "csi-attacher",
                        "602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/csi-attacher:v4.8.0-eks-1-31-12",
                        [
                            "--timeout=6m",
                            "--csi-address=$(ADDRESS)",
                            "--v=2",
                            "--leader-election=true",
                        ],
                    ),
                    container(
                        "csi-resizer",
                        "602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/csi-resizer:v1.12.0-eks-1-31-12",
                        [
                            "--timeout=60s",
                            "--csi-address=$(ADDRESS)",
                            "--v=2",
                            "--handle-volume-inuse-error=false",
                            "--leader-election=true",
                        ],
                    ),
                    container(
                        "liveness-probe",
                        "602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/livenessprobe:v2.14.0-eks-1-31-12",
                        ["--csi-address=/csi/csi.sock"],
                    ),
                ],
                serviceAccountName="ebs-csi-controller-sa",
                priorityClassName="system-cluster-critical",
                nodeSelector=LINUX,
                volumes=[{"name": "socket-dir", "emptyDir": {}}],
            ),
            replicas=2,
            selector={"app": "ebs-csi-controller", "app.kubernetes.io/name": "aws-ebs-csi-driver"},
        ),
        pdb(
            ks,
            "ebs-csi-controller",
            {"app": "ebs-csi-controller", "app.kubernetes.io/name": "aws-ebs-csi-driver"},
            ebs_labels,
        ),
    ]
    for ds_name, os_sel in (("ebs-csi-node", LINUX), ("ebs-csi-node-windows", WINDOWS)):
        objs.append(
            daemonset(
                ks,
                ds_name,
                ebs_labels,
                pod_template(
                    {**ebs_labels, "app": ds_name},
                    [
                        container(
                            "ebs-plugin",
                            "602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/aws-ebs-csi-driver:v1.38.1",
                            [
                                "node",
                                "--endpoint=$(CSI_ENDPOINT)",
                                "--csi-mount-point-prefix=/var/lib/kubelet/plugins/kubernetes.io/csi/ebs.csi.aws.com/",
                                "--logging-format=text",
                                "--v=2",
                            ],
                        ),
                        container(
                            "node-driver-registrar",
                            "602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/csi-node-driver-registrar:v2.13.0-eks-1-31-12",
                            [
                                "--csi-address=$(ADDRESS)",
                                "--kubelet-registration-path=$(DRIVER_REG_SOCK_PATH)",
                                "--v=2",
                            ],
                        ),
                        container(
                            "liveness-probe",
                            "602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/livenessprobe:v2.14.0-eks-1-31-12",
                            ["--csi-address=/csi/csi.sock"],
                        ),
                    ],
                    serviceAccountName="ebs-csi-node-sa",
                    priorityClassName="system-node-critical",
                    nodeSelector=os_sel,
                    tolerations=[{"operator": "Exists"}],
                    volumes=[
                        _hostpath("kubelet-dir", "/var/lib/kubelet"),
                        _hostpath("plugin-dir", "/var/lib/kubelet/plugins/ebs.csi.aws.com/"),
                        _hostpath("registration-dir", "/var/lib/kubelet/plugins_registry/"),
                        _hostpath("device-dir", "/dev"),
                    ],
                ),
                selector={"app": ds_name, "app.kubernetes.io/name": "aws-ebs-csi-driver"},
            )
        )
    eks_cluster_roles = (
        "eks:addon-manager",
        "eks:az-poller",
        "eks:certificate-controller-approver",
        "eks:certificate-controller-signer",
        "eks:cloud-controller-manager",
        "eks:cloud-provider-extraction-migration",
        "eks:cluster-event-watcher",
        "eks:fargate-manager",
        "eks:k8s-metrics",
        "eks:kube-proxy-windows",
        "eks:network-policy-controller",
        "eks:node-bootstrapper",
        "eks:node-manager",
        "eks:nodewatcher",
        "eks:pod-identity-mutating-webhook",
        "eks:service-operations",
        "eks:tagging-controller",
    )
    for r in eks_cluster_roles:
        objs.append(cluster_role(r))
        if r not in ("eks:node-bootstrapper", "eks:kube-proxy-windows"):
            objs.append(crb(r, r, [subj("User", r)]))
    for r in (
        "eks:addon-manager",
        "eks:authenticator",
        "eks:az-poller",
        "eks:certificate-controller",
        "eks:fargate-manager",
        "eks:k8s-metrics",
        "eks:node-manager",
        "eks-vpc-resource-controller-role",
    ):
        objs.append(role(ks, r))
        user = "eks:vpc-resource-controller" if r == "eks-vpc-resource-controller-role" else r
        objs.append(rb(ks, r.replace("-role", "-rolebinding"), "Role", r, [subj("User", user)]))
    c.apply(objs)
    c.apply(
        [custom("vpcresources.k8s.aws/v1alpha1", "CNINode", n["metadata"]["name"]) for n in c.nodes]
    )
    svc = c.require("Service", ks, "eks-extension-metrics-api")
    c.endpoint_slice(
        svc,
        [("172.0.32.0", None)],
        managed_by="endpointslicemirroring-controller.k8s.io",
        ports=[{"name": "metrics-api", "port": 10443, "protocol": "TCP"}],
    )
    return _finish(c)


# --- GKE ----------------------------------------------------------------------------------

ADDON_RECONCILE = {"addonmanager.kubernetes.io/mode": "Reconcile"}
ADDON_ENSURE = {"addonmanager.kubernetes.io/mode": "EnsureExists"}


def _gke_zero_daemonsets() -> list[tuple[str, str, dict[str, str], str, list[Obj]]]:
    """GKE's variants that only run on special nodes: (name, sa, nodeSelector, image, volumes)."""
    out: list[tuple[str, str, dict[str, str], str, list[Obj]]] = []
    fb_vols = [
        _cm_vol("config-volume", "fluentbit-gke-config-v1.4.0"),
        _hostpath("varlog", "/var/log"),
    ]
    out.append(
        (
            "fluentbit-gke-max",
            "fluentbit-gke",
            {"cloud.google.com/gke-logging-variant": "MAX_THROUGHPUT", **LINUX},
            "gke.gcr.io/fluent-bit:v1.8.12-gke.39",
            fb_vols,
        )
    )
    out.append(
        (
            "fluentbit-gke-256pd",
            "fluentbit-gke",
            {"cloud.google.com/gke-max-pods-per-node": "256", **LINUX},
            "gke.gcr.io/fluent-bit:v1.8.12-gke.39",
            fb_vols,
        )
    )
    gma_vols = [_cm_vol("gke-metrics-agent-config-vol", "gke-metrics-agent-conf")]
    for level in ("10", "20", "50", "100", "200", "500"):
        out.append(
            (
                f"gke-metrics-agent-scaling-{level}",
                "gke-metrics-agent",
                {"cloud.google.com/gke-metrics-agent-scaling-level": level, **LINUX},
                "gke.gcr.io/gke-metrics-agent:1.15.3-gke.0",
                gma_vols,
            )
        )
    out.append(
        (
            "gke-metrics-agent-windows",
            "gke-metrics-agent",
            WINDOWS,
            "gke.gcr.io/gke-metrics-agent-windows:1.15.3-gke.0",
            gma_vols,
        )
    )
    for size in ("small", "medium", "large"):
        for distro in ("cos", "ubuntu"):
            out.append(
                (
                    f"nvidia-gpu-device-plugin-{size}-{distro}",
                    "default",
                    {
                        "cloud.google.com/gke-accelerator-size": size,
                        "cloud.google.com/gke-os-distribution": distro,
                    },
                    "gke.gcr.io/nvidia-gpu-device-plugin:v1.0.25-gke.56",
                    [_hostpath("device-plugin", "/var/lib/kubelet/device-plugins")],
                )
            )
    out.append(
        (
            "pdcsi-node-windows",
            "pdcsi-node-sa",
            WINDOWS,
            "gke.gcr.io/gcp-compute-persistent-disk-csi-driver:v1.15.3-gke.0",
            [],
        )
    )
    out.append(
        (
            "metadata-proxy-v0.1",
            "metadata-proxy",
            {"cloud.google.com/metadata-proxy-ready": "true", **LINUX},
            "gke.gcr.io/metadata-proxy:v0.1.12",
            [],
        )
    )
    out.append(
        (
            "nccl-fastsocket-installer",
            "default",
            {"cloud.google.com/gke-nccl-fastsocket": "true"},
            "gke.gcr.io/nccl-plugin-gpudirecttcpx:v3.1.10",
            [],
        )
    )
    out.append(
        (
            "tpu-device-plugin",
            "default",
            {"cloud.google.com/gke-tpu-accelerator-present": "true"},
            "gke.gcr.io/tpu-device-plugin:v0.5.0",
            [],
        )
    )
    out.append(
        (
            "runsc-metric-server",
            "default",
            {"sandbox.gke.io/runtime": "gvisor"},
            "gke.gcr.io/gke-gvisor-metric-server:v0.1",
            [],
        )
    )
    out.append(
        (
            "maintenance-handler",
            "default",
            {"cloud.google.com/gke-maintenance-handler": "true"},
            "gke.gcr.io/maintenance-handler:v0.1",
            [],
        )
    )
    return out


def new_gke_cluster(
    now: datetime, nodes: int = 3, *, name: str = "prod-gke", age: timedelta = timedelta(days=40)
) -> Cluster:
    """A GKE Standard 1.33 cluster (regular channel, one default-pool, Managed Prometheus on)."""
    c = Cluster(now, "gcp", name=name, installed_days_ago=age.days)
    c.add_nodes(
        nodes,
        instance_type="e2-standard-4",
        region="us-central1",
        zones=["us-central1-a", "us-central1-b", "us-central1-c"],
    )
    kubernetes_core(c, ["10.128.0.2"])
    ks = "kube-system"
    objs: list[Obj] = [
        ns_obj("gmp-public", {"addonmanager.kubernetes.io/mode": "Reconcile"}),
        ns_obj("gmp-system", {"addonmanager.kubernetes.io/mode": "Reconcile"}),
        ns_obj("gke-managed-cim", {"addonmanager.kubernetes.io/mode": "Reconcile"}),
        ns_obj("gke-managed-system", {"addonmanager.kubernetes.io/mode": "Reconcile"}),
    ]
    for cm_name, labels in (
        ("cluster-kubestore", None),
        ("clustermetrics", None),
        ("gke-common-webhook-heartbeat", None),
        ("ingress-uid", None),
        ("kube-dns-autoscaler", None),
        ("konnectivity-agent-autoscaler-config", ADDON_ENSURE),
        ("kubedns-config-images", ADDON_RECONCILE),
        ("metrics-server-config", {**ADDON_ENSURE, "kubernetes.io/cluster-service": "true"}),
        ("fluentbit-gke-config-v1.4.0", {**ADDON_RECONCILE, "k8s-app": "fluentbit-gke"}),
        ("gke-metrics-agent-conf", ADDON_RECONCILE),
    ):
        objs.append(cm(ks, cm_name, labels))
    sas = {
        "kube-dns": {**ADDON_RECONCILE, "kubernetes.io/cluster-service": "true"},
        "kube-dns-autoscaler": ADDON_RECONCILE,
        "konnectivity-agent": ADDON_RECONCILE,
        "konnectivity-agent-cpha": ADDON_RECONCILE,
        "metrics-server": {**ADDON_RECONCILE, "kubernetes.io/cluster-service": "true"},
        "event-exporter-sa": ADDON_RECONCILE,
        "fluentbit-gke": ADDON_RECONCILE,
        "gke-metrics-agent": ADDON_RECONCILE,
        "pdcsi-node-sa": ADDON_RECONCILE,
        "pdcsi-controller-sa": ADDON_RECONCILE,
        "metadata-proxy": ADDON_RECONCILE,
        "cloud-provider": ADDON_RECONCILE,
        "gke-spiffe-node-agent": ADDON_RECONCILE,
    }
    for sa_name, labels in sas.items():
        if sa_name != "cloud-provider":
            objs.append(sa(ks, sa_name, labels))
    crole = {
        "system:kube-dns-autoscaler": ("kube-dns-autoscaler", "system:kube-dns-autoscaler"),
        "system:metrics-server": ("metrics-server", "system:metrics-server"),
        "system:metrics-server-nanny": ("metrics-server", "system:metrics-server-nanny"),
        "gce:cloud-provider": ("cloud-provider", "gce:cloud-provider"),
        "gke-metrics-agent": ("gke-metrics-agent", "gke-metrics-agent"),
        "fluentbit-gke": ("fluentbit-gke", "fluentbit-gke"),
        "konnectivity-agent-cpha": ("konnectivity-agent-cpha", "konnectivity-agent-cpha"),
        "pdcsi-node-role": ("pdcsi-node-sa", "pdcsi-node"),
        "gke-spiffe-node-agent": ("gke-spiffe-node-agent", "gke-spiffe-node-agent"),
    }
    for role_name, (sa_name, binding) in crole.items():
        objs.append(cluster_role(role_name, ADDON_RECONCILE))
        objs.append(crb(binding, role_name, [subj("ServiceAccount", sa_name, ks)], ADDON_RECONCILE))
    objs += [
        cluster_role("ca-cr-actor", ADDON_RECONCILE),
        crb("ca-cr-actor", "ca-cr-actor", [subj("User", "cluster-autoscaler")], ADDON_RECONCILE),
        cluster_role("cluster-autoscaler", ADDON_RECONCILE),
        crb(
            "cluster-autoscaler",
            "cluster-autoscaler",
            [subj("User", "cluster-autoscaler")],
            ADDON_RECONCILE,
        ),
        cluster_role("gce:beta:kubelet-certificate-bootstrap", ADDON_RECONCILE),
        cluster_role("gce:beta:kubelet-certificate-rotation", ADDON_RECONCILE),
        crb(
            "gce:beta:kubelet-certificate-bootstrap",
            "gce:beta:kubelet-certificate-bootstrap",
            [subj("User", "kubelet")],
            ADDON_RECONCILE,
        ),
        crb(
            "gce:beta:kubelet-certificate-rotation",
            "gce:beta:kubelet-certificate-rotation",
            [subj("Group", "system:nodes")],
            ADDON_RECONCILE,
        ),
        crb(
            "kubelet-bootstrap",
            "system:node-bootstrapper",
            [subj("User", "kubelet")],
            ADDON_RECONCILE,
        ),
        crb(
            "kubelet-bootstrap-certificate-bootstrap",
            "gce:beta:kubelet-certificate-bootstrap",
            [subj("User", "kubelet")],
            ADDON_RECONCILE,
        ),
        crb(
            "kubelet-bootstrap-node-bootstrapper",
            "system:node-bootstrapper",
            [subj("User", "kubelet")],
            ADDON_RECONCILE,
        ),
        crb("kubelet-cluster-admin", "system:node", [subj("User", "kubelet")], ADDON_RECONCILE),
        crb(
            "kubelet-user-npd-binding",
            "system:node-problem-detector",
            [subj("User", "kubelet")],
            ADDON_RECONCILE,
        ),
        # node-problem-detector runs as a systemd unit on COS: this ServiceAccount never exists
        crb(
            "npd-binding",
            "system:node-problem-detector",
            [subj("ServiceAccount", "node-problem-detector", ks)],
            ADDON_RECONCILE,
        ),
        crb(
            "event-exporter-rb",
            "view",
            [subj("ServiceAccount", "event-exporter-sa", ks)],
            ADDON_RECONCILE,
        ),
        crb(
            "metrics-server:system:auth-delegator",
            "system:auth-delegator",
            [subj("ServiceAccount", "metrics-server", ks)],
            ADDON_RECONCILE,
        ),
        crb(
            "system:konnectivity-server",
            "system:auth-delegator",
            [subj("User", "system:konnectivity-server")],
            ADDON_RECONCILE,
        ),
        crb(
            "kubelet-api-admin",
            "system:kubelet-api-admin",
            [subj("User", "kubelet")],
            ADDON_RECONCILE,
        ),
        cluster_role("system:controller:glbc", ADDON_RECONCILE),
        cluster_role("cloud-provider", ADDON_RECONCILE),
        cluster_role("system:gke-common-webhooks", ADDON_RECONCILE),
        crb(
            "system:gke-common-webhooks",
            "system:gke-common-webhooks",
            [subj("User", "system:gke-common-webhooks")],
            ADDON_RECONCILE,
        ),
        role(ks, "system:controller:glbc", ADDON_RECONCILE),
        role(ks, "cloud-provider", ADDON_RECONCILE),
        role(ks, "gce:cloud-provider", ADDON_RECONCILE),
        rb(
            ks,
            "gce:cloud-provider",
            "Role",
            "gce:cloud-provider",
            [subj("ServiceAccount", "cloud-provider", ks)],
            ADDON_RECONCILE,
        ),
        rb(
            ks,
            "metrics-server-auth-reader",
            "Role",
            "extension-apiserver-authentication-reader",
            [subj("ServiceAccount", "metrics-server", ks)],
            ADDON_RECONCILE,
        ),
        # left over from PodSecurityPolicy days: the ClusterRole is gone, the binding stays
        rb(
            ks,
            "gce:podsecuritypolicy:pdcsi-node-sa",
            "ClusterRole",
            "gce:podsecuritypolicy:privileged",
            [subj("ServiceAccount", "pdcsi-node-sa", ks)],
            ADDON_RECONCILE,
        ),
        role(ks, "pdcsi-leaderelection-role", ADDON_RECONCILE),
        rb(
            ks,
            "pdcsi-leaderelection-binding",
            "Role",
            "pdcsi-leaderelection-role",
            [subj("ServiceAccount", "pdcsi-controller-sa", ks)],
            ADDON_RECONCILE,
        ),
        storage_class(
            "premium-rwo",
            "pd.csi.storage.gke.io",
            {"type": "pd-ssd"},
            labels={**ADDON_ENSURE, "k8s-app": "gcp-compute-persistent-disk-csi-driver"},
        ),
        storage_class(
            "standard",
            "kubernetes.io/gce-pd",
            {"type": "pd-standard"},
            binding="Immediate",
            labels={**ADDON_ENSURE, "kubernetes.io/cluster-service": "true"},
        ),
        storage_class(
            "standard-rwo",
            "pd.csi.storage.gke.io",
            {"type": "pd-balanced"},
            default=True,
            labels={**ADDON_ENSURE, "k8s-app": "gcp-compute-persistent-disk-csi-driver"},
        ),
        webhook_config(
            "MutatingWebhookConfiguration",
            "pod-ready.config.common-webhooks.networking.gke.io",
            [
                (
                    "pod-ready.common-webhooks.networking.gke.io",
                    {"url": "https://127.0.0.1:5443/pod-ready"},
                )
            ],
        ),
        webhook_config(
            "ValidatingWebhookConfiguration",
            "nodelimit.config.common-webhooks.networking.gke.io",
            [
                (
                    "nodelimit.common-webhooks.networking.gke.io",
                    {"url": "https://127.0.0.1:5443/nodelimit"},
                )
            ],
        ),
        webhook_config(
            "ValidatingWebhookConfiguration",
            "warden-validating.config.common-webhooks.networking.gke.io",
            [
                (
                    "warden-validating.common-webhooks.networking.gke.io",
                    {"url": "https://127.0.0.1:5443/warden"},
                )
            ],
        ),
    ]
    for crd_name, kind, scope in (
        ("allowlistedv2workloads.auto.gke.io", "AllowlistedV2Workload", "Cluster"),
        ("allowlistedworkloads.auto.gke.io", "AllowlistedWorkload", "Cluster"),
        ("allowlistsynchronizers.auto.gke.io", "AllowlistSynchronizer", "Cluster"),
        ("workloadallowlists.auto.gke.io", "WorkloadAllowlist", "Cluster"),
        ("audits.warden.gke.io", "Audit", "Cluster"),
        ("backendconfigs.cloud.google.com", "BackendConfig", "Namespaced"),
        ("computeclasses.cloud.google.com", "ComputeClass", "Cluster"),
        ("capacityrequests.internal.autoscaling.gke.io", "CapacityRequest", "Namespaced"),
        ("provisioningrequests.autoscaling.x-k8s.io", "ProvisioningRequest", "Namespaced"),
        ("frontendconfigs.networking.gke.io", "FrontendConfig", "Namespaced"),
        ("gkenetworkparamsets.networking.gke.io", "GKENetworkParamSet", "Cluster"),
        ("managedcertificates.networking.gke.io", "ManagedCertificate", "Namespaced"),
        ("networks.networking.gke.io", "Network", "Cluster"),
        ("serviceattachments.networking.gke.io", "ServiceAttachment", "Namespaced"),
        (
            "servicenetworkendpointgroups.networking.gke.io",
            "ServiceNetworkEndpointGroup",
            "Namespaced",
        ),
        ("servicefunctionchains.networking.gke.io", "ServiceFunctionChain", "Cluster"),
        ("trafficselectors.networking.gke.io", "TrafficSelector", "Namespaced"),
        ("gcpresourceallowlists.node.gke.io", "GCPResourceAllowlist", "Cluster"),
        ("gcpdatasources.datalayer.gke.io", "GCPDataSource", "Namespaced"),
        ("memberships.hub.gke.io", "Membership", "Cluster"),
        ("updateinfos.nodemanagement.gke.io", "UpdateInfo", "Namespaced"),
        ("volumesnapshotclasses.snapshot.storage.k8s.io", "VolumeSnapshotClass", "Cluster"),
        ("volumesnapshotcontents.snapshot.storage.k8s.io", "VolumeSnapshotContent", "Cluster"),
        ("volumesnapshots.snapshot.storage.k8s.io", "VolumeSnapshot", "Namespaced"),
        ("clusterpodmonitorings.monitoring.googleapis.com", "ClusterPodMonitoring", "Cluster"),
        ("clusternodemonitorings.monitoring.googleapis.com", "ClusterNodeMonitoring", "Cluster"),
        ("clusterrules.monitoring.googleapis.com", "ClusterRules", "Cluster"),
        ("globalrules.monitoring.googleapis.com", "GlobalRules", "Cluster"),
        ("operatorconfigs.monitoring.googleapis.com", "OperatorConfig", "Namespaced"),
        ("podmonitorings.monitoring.googleapis.com", "PodMonitoring", "Namespaced"),
        ("rules.monitoring.googleapis.com", "Rules", "Namespaced"),
    ):
        objs.append(crd(crd_name, kind, ("v1",), scope, ADDON_RECONCILE))
    # kube-dns and friends
    dns_labels = {"k8s-app": "kube-dns"}
    objs += [
        deployment(
            ks,
            "kube-dns",
            {**ADDON_RECONCILE, "k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true"},
            pod_template(
                dns_labels,
                [
                    container(
                        "kubedns",
                        "gke.gcr.io/k8s-dns-kube-dns:1.23.0-gke.9",
                        [
                            "--domain=cluster.local.",
                            "--dns-port=10053",
                            "--config-dir=/kube-dns-config",
                            "--v=2",
                        ],
                        resources={
                            "limits": {"memory": "210Mi"},
                            "requests": {"cpu": "100m", "memory": "70Mi"},
                        },
                    ),
                    container(
                        "dnsmasq",
                        "gke.gcr.io/k8s-dns-dnsmasq-nanny:1.23.0-gke.9",
                        [
                            "-v=2",
                            "-logtostderr",
                            "-configDir=/etc/k8s/dns/dnsmasq-nanny",
                            "-restartDnsmasq=true",
                        ],
                    ),
                    container(
                        "sidecar",
                        "gke.gcr.io/k8s-dns-sidecar:1.23.0-gke.9",
                        ["--v=2", "--logtostderr"],
                    ),
                    container(
                        "prometheus-to-sd",
                        "gke.gcr.io/prometheus-to-sd:v0.11.12-gke.11",
                        [
                            "--source=kubedns:http://localhost:10054?allowlisted=probe_kubedns_latency_ms"
                        ],
                    ),
                ],
                serviceAccountName="kube-dns",
                priorityClassName="system-cluster-critical",
                volumes=[_cm_vol("kube-dns-config", "kube-dns", optional=True)],
                nodeSelector=LINUX,
            ),
            replicas=2,
        ),
        service(
            ks,
            "kube-dns",
            dns_labels,
            [("dns", 53, 53), ("dns-tcp", 53, 53)],
            {
                **ADDON_RECONCILE,
                "k8s-app": "kube-dns",
                "kubernetes.io/cluster-service": "true",
                "kubernetes.io/name": "KubeDNS",
            },
            clusterIP=c.service_ip(10),
        ),
        deployment(
            ks,
            "kube-dns-autoscaler",
            {
                **ADDON_RECONCILE,
                "k8s-app": "kube-dns-autoscaler",
                "kubernetes.io/cluster-service": "true",
            },
            pod_template(
                {"k8s-app": "kube-dns-autoscaler"},
                [
                    container(
                        "autoscaler",
                        "gke.gcr.io/cluster-proportional-autoscaler:v1.8.11-gke.14",
                        command=[
                            "/cluster-proportional-autoscaler",
                            "--namespace=kube-system",
                            "--configmap=kube-dns-autoscaler",
                            "--target=Deployment/kube-dns",
                            '--default-params={"linear":{"coresPerReplica":256,"nodesPerReplica":16,"preventSinglePointFailure":true,"includeUnschedulableNodes":true}}',
                            "--logtostderr=true",
                            "--v=2",
                        ],
                    )
                ],
                serviceAccountName="kube-dns-autoscaler",
                priorityClassName="system-cluster-critical",
                nodeSelector=LINUX,
            ),
        ),
        deployment(
            ks,
            "konnectivity-agent",
            {**ADDON_RECONCILE, "k8s-app": "konnectivity-agent"},
            pod_template(
                {"k8s-app": "konnectivity-agent"},
                [
                    container(
                        "konnectivity-agent",
                        "gke.gcr.io/proxy-agent:v0.31.1-gke.5",
                        command=["/proxy-agent"],
                        args=[
                            "--logtostderr=true",
                            "--ca-cert=/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
                            "--proxy-server-host=10.128.0.2",
                            "--proxy-server-port=8132",
                            "--service-account-token-path=/var/run/secrets/tokens/konnectivity-agent-token",
                        ],
                    )
                ],
                serviceAccountName="konnectivity-agent",
                priorityClassName="system-cluster-critical",
                nodeSelector=LINUX,
                volumes=[
                    {
                        "name": "konnectivity-agent-token",
                        "projected": {
                            "sources": [
                                {
                                    "serviceAccountToken": {
                                        "audience": "system:konnectivity-server",
                                        "path": "konnectivity-agent-token",
                                    }
                                }
                            ]
                        },
                    }
                ],
            ),
            replicas=min(nodes, 3),
        ),
        deployment(
            ks,
            "konnectivity-agent-autoscaler",
            {**ADDON_RECONCILE, "k8s-app": "konnectivity-agent-autoscaler"},
            pod_template(
                {"k8s-app": "konnectivity-agent-autoscaler"},
                [
                    container(
                        "autoscaler",
                        "gke.gcr.io/cluster-proportional-autoscaler:v1.8.11-gke.14",
                        command=[
                            "/cluster-proportional-autoscaler",
                            "--namespace=kube-system",
                            "--configmap=konnectivity-agent-autoscaler-config",
                            "--target=deployment/konnectivity-agent",
                            "--logtostderr=true",
                            "--v=2",
                        ],
                    )
                ],
                serviceAccountName="konnectivity-agent-cpha",
                priorityClassName="system-cluster-critical",
                nodeSelector=LINUX,
            ),
        ),
        deployment(
            ks,
            "l7-default-backend",
            {
                **ADDON_RECONCILE,
                "k8s-app": "glbc",
                "kubernetes.io/cluster-service": "true",
                "kubernetes.io/name": "GLBC",
            },
            pod_template(
                {"k8s-app": "glbc", "name": "glbc"},
                [
                    container(
                        "default-http-backend",
                        "gke.gcr.io/ingress-gce-404-server-with-metrics:v1.31.1-gke.0",
                        ports=[{"containerPort": 8080}],
                    )
                ],
                nodeSelector=LINUX,
            ),
        ),
        service(
            ks,
            "default-http-backend",
            {"k8s-app": "glbc"},
            [("http", 80, 8080)],
            {
                **ADDON_RECONCILE,
                "k8s-app": "glbc",
                "kubernetes.io/cluster-service": "true",
                "kubernetes.io/name": "GLBCDefaultBackend",
            },
            type="NodePort",
        ),
        deployment(
            ks,
            "metrics-server-v1.33.0",
            {
                **ADDON_RECONCILE,
                "k8s-app": "metrics-server",
                "kubernetes.io/cluster-service": "true",
                "version": "v1.33.0",
            },
            pod_template(
                {"k8s-app": "metrics-server", "version": "v1.33.0"},
                [
                    container(
                        "metrics-server",
                        "gke.gcr.io/metrics-server:v0.7.2-gke.11",
                        command=[
                            "/metrics-server",
                            "--metric-resolution=30s",
                            "--kubelet-port=10255",
                            "--deprecated-kubelet-completely-insecure=true",
                            "--kubelet-preferred-address-types=InternalIP,Hostname,InternalDNS,ExternalDNS,ExternalIP",
                            "--cert-dir=/tmp",
                            "--secure-port=10250",
                        ],
                        ports=[{"name": "https", "containerPort": 10250}],
                    ),
                    container(
                        "metrics-server-nanny",
                        "gke.gcr.io/addon-resizer:1.8.23-gke.2",
                        command=[
                            "/pod_nanny",
                            "--config-dir=/etc/config",
                            "--cpu=40m",
                            "--extra-cpu=0.5m",
                            "--memory=35Mi",
                            "--extra-memory=4Mi",
                            "--threshold=5",
                            "--deployment=metrics-server-v1.33.0",
                            "--container=metrics-server",
                            "--poll-period=30000",
                            "--estimator=exponential",
                            "--scale-down-delay=24h",
                            "--minClusterSize=5",
                            "--use-metrics=true",
                        ],
                    ),
                ],
                serviceAccountName="metrics-server",
                priorityClassName="system-cluster-critical",
                nodeSelector=LINUX,
                volumes=[
                    _cm_vol("metrics-server-config-volume", "metrics-server-config"),
                    {"name": "tmp-dir", "emptyDir": {}},
                ],
            ),
            selector={"k8s-app": "metrics-server", "version": "v1.33.0"},
        ),
        service(
            ks,
            "metrics-server",
            {"k8s-app": "metrics-server"},
            [("https", 443, "https")],
            {
                **ADDON_RECONCILE,
                "kubernetes.io/cluster-service": "true",
                "kubernetes.io/name": "Metrics-server",
            },
        ),
        api_service(
            "metrics.k8s.io",
            "v1beta1",
            (ks, "metrics-server"),
            {**ADDON_RECONCILE, "kubernetes.io/cluster-service": "true"},
        ),
        deployment(
            ks,
            "event-exporter-gke",
            {
                **ADDON_RECONCILE,
                "k8s-app": "event-exporter",
                "kubernetes.io/cluster-service": "true",
                "version": "v0.4.0",
            },
            pod_template(
                {"k8s-app": "event-exporter", "version": "v0.4.0"},
                [
                    container(
                        "event-exporter",
                        "gke.gcr.io/event-exporter:v0.4.0-gke.14",
                        command=[
                            "/event-exporter",
                            "-sink-opts=-location=us-central1 -cluster=" + name,
                        ],
                    ),
                    container(
                        "prometheus-to-sd-exporter",
                        "gke.gcr.io/prometheus-to-sd:v0.11.12-gke.11",
                        command=[
                            "/monitor",
                            "--stackdriver-prefix=container.googleapis.com/internal/addons",
                            "--api-override=https://monitoring.googleapis.com/",
                            "--source=event_exporter:http://localhost:80?allowlisted=stackdriver_sink_received_entry_count,stackdriver_sink_request_count,stackdriver_sink_successfully_sent_entry_count",
                        ],
                    ),
                ],
                serviceAccountName="event-exporter-sa",
                nodeSelector=LINUX,
            ),
        ),
        daemonset(
            ks,
            "fluentbit-gke",
            {
                **ADDON_RECONCILE,
                "k8s-app": "fluentbit-gke",
                "kubernetes.io/cluster-service": "true",
            },
            pod_template(
                {
                    "k8s-app": "fluentbit-gke",
                    "kubernetes.io/cluster-service": "true",
                    "component": "fluentbit-gke",
                },
                [
                    container("fluentbit", "gke.gcr.io/fluent-bit:v1.8.12-gke.39"),
                    container(
                        "fluentbit-gke",
                        "gke.gcr.io/fluent-bit-gke-exporter:v0.28.0-gke.4",
                        command=[
                            "/fluent-bit-gke-exporter",
                            "--kubernetes-separator=_",
                            "--stackdriver-resource-model=k8s",
                            "--enable-pod-label-discovery",
                            "--pod-label-dot-replacement=_",
                            "--split-stdout-stderr",
                            "--logtostderr",
                        ],
                    ),
                ],
                serviceAccountName="fluentbit-gke",
                priorityClassName="system-node-critical",
                hostNetwork=True,
                nodeSelector={"cloud.google.com/gke-logging-variant": "DEFAULT", **LINUX},
                tolerations=[
                    {"operator": "Exists", "effect": "NoExecute"},
                    {"operator": "Exists", "effect": "NoSchedule"},
                ],
                volumes=[
                    _cm_vol("config-volume", "fluentbit-gke-config-v1.4.0"),
                    _hostpath("varlog", "/var/log"),
                    _hostpath("varrun", "/var/run/google-fluentbit/pos-files"),
                ],
            ),
            selector={"k8s-app": "fluentbit-gke"},
        ),
        daemonset(
            ks,
            "gke-metrics-agent",
            {**ADDON_RECONCILE, "component": "gke-metrics-agent", "k8s-app": "gke-metrics-agent"},
            pod_template(
                {"component": "gke-metrics-agent", "k8s-app": "gke-metrics-agent"},
                [
                    container(
                        "gke-metrics-agent",
                        "gke.gcr.io/gke-metrics-agent:1.15.3-gke.0",
                        command=[
                            "/otelsvc",
                            "--config=/conf/gke-metrics-agent-config.yaml",
                            "--metrics-level=NONE",
                            "--metrics-prefix=",
                        ],
                    ),
                    container(
                        "core-metrics-exporter",
                        "gke.gcr.io/gke-metrics-collector:20241010_2300_RC0",
                    ),
                ],
                serviceAccountName="gke-metrics-agent",
                priorityClassName="system-node-critical",
                hostNetwork=True,
                nodeSelector={"cloud.google.com/gke-metrics-agent-scaling-level": "4", **LINUX},
                tolerations=[
                    {"operator": "Exists", "effect": "NoExecute"},
                    {"operator": "Exists", "effect": "NoSchedule"},
                ],
                volumes=[_cm_vol("gke-metrics-agent-config-vol", "gke-metrics-agent-conf")],
            ),
            selector={"k8s-app": "gke-metrics-agent"},
        ),
        daemonset(
            ks,
            "pdcsi-node",
            {**ADDON_RECONCILE, "k8s-app": "gcp-compute-persistent-disk-csi-driver"},
            pod_template(
                {"k8s-app": "gcp-compute-persistent-disk-csi-driver"},
                [
                    container(
                        "csi-driver-registrar",
                        "gke.gcr.io/csi-node-driver-registrar:v2.9.4-gke.23",
                        [
                            "--v=5",
                            "--csi-address=/csi/csi.sock",
                            "--kubelet-registration-path=/var/lib/kubelet/plugins/pd.csi.storage.gke.io/csi.sock",
                        ],
                    ),
                    container(
                        "gce-pd-driver",
                        "gke.gcr.io/gcp-compute-persistent-disk-csi-driver:v1.15.3-gke.0",
                        [
                            "--v=5",
                            "--endpoint=unix:/csi/csi.sock",
                            "--run-controller-service=false",
                        ],
                    ),
                ],
                serviceAccountName="pdcsi-node-sa",
                priorityClassName="system-node-critical",
                hostNetwork=True,
                nodeSelector=LINUX,
                tolerations=[{"operator": "Exists"}],
                volumes=[
                    _hostpath("kubelet-dir", "/var/lib/kubelet"),
                    _hostpath("plugin-dir", "/var/lib/kubelet/plugins/pd.csi.storage.gke.io/"),
                    _hostpath("device-dir", "/dev"),
                ],
            ),
        ),
    ]
    for ds_name, ds_sa, node_sel, image, vols in _gke_zero_daemonsets():
        spec: dict[str, Any] = {
            "nodeSelector": node_sel,
            "priorityClassName": "system-node-critical",
            "tolerations": [{"operator": "Exists"}],
            "volumes": vols,
        }
        if ds_sa != "default":
            spec["serviceAccountName"] = ds_sa
        objs.append(
            daemonset(
                ks,
                ds_name,
                {**ADDON_RECONCILE, "k8s-app": ds_name},
                pod_template(
                    {"k8s-app": ds_name}, [container(ds_name.split("-v0")[0][:40], image)], **spec
                ),
            )
        )
    # Google Cloud Managed Service for Prometheus
    gmp = "gmp-system"
    gmp_labels = {**ADDON_RECONCILE, "app.kubernetes.io/part-of": "gmp"}
    objs += [
        sa(gmp, "collector", ADDON_RECONCILE),
        sa(gmp, "operator", ADDON_RECONCILE),
        cm(gmp, "config-images", ADDON_RECONCILE),
        cm(gmp, "collector", ADDON_RECONCILE),
        cm(gmp, "rule-evaluator", ADDON_RECONCILE),
        cm(gmp, "rules-generated", ADDON_RECONCILE),
        cm(gmp, "webhook-ca", ADDON_RECONCILE),
        secret(gmp, "alertmanager", labels=ADDON_ENSURE),
        secret(gmp, "rules", labels=ADDON_RECONCILE),
        secret(gmp, "webhook-tls", labels=ADDON_RECONCILE),
        secret(gmp, "collection", labels=ADDON_RECONCILE),
        cluster_role("gmp-system:collector", ADDON_RECONCILE),
        cluster_role("gmp-system:operator", ADDON_RECONCILE),
        cluster_role("gmp-system:operator:webhook-admin", ADDON_RECONCILE),
        crb(
            "gmp-system:collector",
            "gmp-system:collector",
            [subj("ServiceAccount", "collector", gmp)],
            ADDON_RECONCILE,
        ),
        crb(
            "gmp-system:operator",
            "gmp-system:operator",
            [subj("ServiceAccount", "operator", gmp)],
            ADDON_RECONCILE,
        ),
        crb(
            "gmp-system:operator:webhook-admin",
            "gmp-system:operator:webhook-admin",
            [subj("ServiceAccount", "operator", gmp)],
            ADDON_RECONCILE,
        ),
        role(gmp, "operator", ADDON_RECONCILE),
        role("gmp-public", "operator", ADDON_RECONCILE),
        rb(
            gmp,
            "operator",
            "Role",
            "operator",
            [subj("ServiceAccount", "operator", gmp)],
            ADDON_RECONCILE,
        ),
        rb(
            "gmp-public",
            "operator",
            "Role",
            "operator",
            [subj("ServiceAccount", "operator", gmp)],
            ADDON_RECONCILE,
        ),
        deployment(
            gmp,
            "gmp-operator",
            {
                **gmp_labels,
                "app": "managed-prometheus-operator",
                "app.kubernetes.io/component": "operator",
                "app.kubernetes.io/name": "gmp-operator",
            },
            pod_template(
                {
                    "app": "managed-prometheus-operator",
                    "app.kubernetes.io/component": "operator",
                    "app.kubernetes.io/name": "gmp-operator",
                    "app.kubernetes.io/part-of": "gmp",
                },
                [
                    container(
                        "operator",
                        "gke.gcr.io/prometheus-engine/operator:v0.15.3-gke.0",
                        [
                            "--operator-namespace=gmp-system",
                            "--public-namespace=gmp-public",
                            "--webhook-addr=:10250",
                            "--tls-cert-base64=$(TLS_CERT)",
                        ],
                        ports=[{"name": "web", "containerPort": 10250}],
                    )
                ],
                serviceAccountName="operator",
                priorityClassName="system-cluster-critical",
                nodeSelector=LINUX,
            ),
        ),
        service(
            gmp,
            "gmp-operator",
            {
                "app.kubernetes.io/component": "operator",
                "app.kubernetes.io/name": "gmp-operator",
                "app.kubernetes.io/part-of": "gmp",
            },
            [("legacy", 8443, "web"), ("webhook", 443, "web")],
            ADDON_RECONCILE,
        ),
        webhook_config(
            "ValidatingWebhookConfiguration",
            "gmp-operator.gmp-system.monitoring.googleapis.com",
            [
                (
                    "validate.podmonitorings.gmp-operator.gmp-system.monitoring.googleapis.com",
                    {
                        "service": {
                            "namespace": gmp,
                            "name": "gmp-operator",
                            "port": 443,
                            "path": "/validate/monitoring.googleapis.com/v1/podmonitorings",
                        }
                    },
                )
            ],
            ADDON_RECONCILE,
        ),
        webhook_config(
            "MutatingWebhookConfiguration",
            "gmp-operator.gmp-system.monitoring.googleapis.com",
            [
                (
                    "default.podmonitorings.gmp-operator.gmp-system.monitoring.googleapis.com",
                    {
                        "service": {
                            "namespace": gmp,
                            "name": "gmp-operator",
                            "port": 443,
                            "path": "/default/monitoring.googleapis.com/v1/podmonitorings",
                        }
                    },
                )
            ],
            ADDON_RECONCILE,
        ),
        daemonset(
            gmp,
            "collector",
            {**gmp_labels, "app": "managed-prometheus-collector"},
            pod_template(
                {
                    "app": "managed-prometheus-collector",
                    "app.kubernetes.io/name": "collector",
                    "app.kubernetes.io/version": "0.15.3",
                },
                [
                    container(
                        "config-reloader",
                        "gke.gcr.io/prometheus-engine/config-reloader:v0.15.3-gke.0",
                        [
                            "--config-file=/prometheus/config/config.yaml",
                            "--config-file-output=/prometheus/config_out/config.yaml",
                            "--reload-url=http://127.0.0.1:19090/-/reload",
                        ],
                    ),
                    container(
                        "prometheus",
                        "gke.gcr.io/prometheus-engine/prometheus:v2.45.3-gmp.9-gke.0",
                        [
                            "--config.file=/prometheus/config_out/config.yaml",
                            "--storage.tsdb.path=/prometheus/data",
                            "--web.listen-address=:19090",
                        ],
                    ),
                ],
                serviceAccountName="collector",
                priorityClassName="system-node-critical",
                nodeSelector=LINUX,
                volumes=[
                    _cm_vol("config", "collector"),
                    _secret_vol("collection-secret", "collection"),
                    {"name": "config-out", "emptyDir": {}},
                    {"name": "storage", "emptyDir": {}},
                ],
            ),
        ),
        deployment(
            gmp,
            "rule-evaluator",
            {**gmp_labels, "app": "managed-prometheus-rule-evaluator"},
            pod_template(
                {
                    "app": "managed-prometheus-rule-evaluator",
                    "app.kubernetes.io/name": "rule-evaluator",
                    "app.kubernetes.io/version": "0.15.3",
                },
                [
                    container(
                        "config-reloader",
                        "gke.gcr.io/prometheus-engine/config-reloader:v0.15.3-gke.0",
                        [
                            "--config-file=/prometheus/config/config.yaml",
                            "--watched-dir=/etc/rules",
                        ],
                    ),
                    container(
                        "evaluator",
                        "gke.gcr.io/prometheus-engine/rule-evaluator:v0.15.3-gke.0",
                        [
                            "--config.file=/prometheus/config_out/config.yaml",
                            "--web.listen-address=:19092",
                        ],
                    ),
                ],
                serviceAccountName="collector",
                priorityClassName="system-cluster-critical",
                nodeSelector=LINUX,
                volumes=[
                    _cm_vol("config", "rule-evaluator"),
                    _cm_vol("rules", "rules-generated"),
                    _secret_vol("rules-secret", "rules"),
                    {"name": "config-out", "emptyDir": {}},
                ],
            ),
            replicas=0,
        ),
        service(
            gmp,
            "rule-evaluator",
            {"app": "managed-prometheus-rule-evaluator"},
            [("r-eval-metrics", 19092, "r-eval-metrics")],
            ADDON_RECONCILE,
        ),
        statefulset(
            gmp,
            "alertmanager",
            {**gmp_labels, "app": "managed-prometheus-alertmanager"},
            pod_template(
                {
                    "app": "managed-prometheus-alertmanager",
                    "app.kubernetes.io/name": "alertmanager",
                    "app.kubernetes.io/version": "0.27.0",
                },
                [
                    container(
                        "alertmanager",
                        "gke.gcr.io/prometheus-engine/alertmanager:v0.27.0-gmp.1-gke.0",
                        [
                            "--config.file=/alertmanager/config_out/config.yaml",
                            "--storage.path=/alertmanager-data",
                            "--cluster.listen-address=[$(POD_IP)]:9094",
                            "--web.listen-address=:9093",
                        ],
                    ),
                    container(
                        "config-reloader",
                        "gke.gcr.io/prometheus-engine/config-reloader:v0.15.3-gke.0",
                        [
                            "--config-file=/alertmanager/config.yaml",
                            "--config-file-output=/alertmanager/config_out/config.yaml",
                            "--reload-url=http://127.0.0.1:9093/-/reload",
                        ],
                    ),
                ],
                serviceAccountName="collector",
                priorityClassName="system-cluster-critical",
                nodeSelector=LINUX,
                volumes=[
                    _secret_vol("config", "alertmanager"),
                    {"name": "config-out", "emptyDir": {}},
                    {"name": "alertmanager-data", "emptyDir": {}},
                ],
            ),
            replicas=0,
            service="alertmanager",
        ),
        service(
            gmp,
            "alertmanager",
            {"app": "managed-prometheus-alertmanager"},
            [("alertmanager", 9093, 9093)],
            ADDON_RECONCILE,
            clusterIP="None",
        ),
        custom(
            "monitoring.googleapis.com/v1",
            "OperatorConfig",
            "config",
            "gmp-public",
            labels=ADDON_ENSURE,
        ),
        custom(
            "networking.gke.io/v1", "Network", "default", labels=ADDON_ENSURE, spec={"type": "L3"}
        ),
        custom(
            "networking.gke.io/v1",
            "Network",
            "pod-network",
            labels=ADDON_ENSURE,
            spec={"type": "L3"},
        ),
        # GKE-managed kube-state-metrics package (on by default with Managed Prometheus)
        sa("gke-managed-cim", "kube-state-metrics", ADDON_RECONCILE),
        cluster_role("gke-managed-cim:kube-state-metrics", ADDON_RECONCILE),
        crb(
            "gke-managed-cim:kube-state-metrics",
            "gke-managed-cim:kube-state-metrics",
            [subj("ServiceAccount", "kube-state-metrics", "gke-managed-cim")],
            ADDON_RECONCILE,
        ),
        statefulset(
            "gke-managed-cim",
            "kube-state-metrics",
            {**ADDON_RECONCILE, "app.kubernetes.io/name": "kube-state-metrics"},
            pod_template(
                {"app.kubernetes.io/name": "kube-state-metrics"},
                [
                    container(
                        "kube-state-metrics",
                        "gke.gcr.io/kube-state-metrics:v2.13.0-gke.2",
                        [
                            "--port=8080",
                            "--telemetry-port=8081",
                            "--pod=$(POD_NAME)",
                            "--pod-namespace=$(POD_NAMESPACE)",
                        ],
                        ports=[{"name": "metrics", "containerPort": 8080}],
                    )
                ],
                serviceAccountName="kube-state-metrics",
                priorityClassName="system-cluster-critical",
                nodeSelector=LINUX,
            ),
            replicas=1,
            service="kube-state-metrics",
        ),
        service(
            "gke-managed-cim",
            "kube-state-metrics",
            {"app.kubernetes.io/name": "kube-state-metrics"},
            [("metrics", 8080, "metrics")],
            ADDON_RECONCILE,
            clusterIP="None",
        ),
        custom(
            "monitoring.googleapis.com/v1",
            "PodMonitoring",
            "kube-state-metrics",
            "gke-managed-cim",
            labels=ADDON_RECONCILE,
            spec={"selector": {"matchLabels": {"app.kubernetes.io/name": "kube-state-metrics"}}},
        ),
        # GPU telemetry, idle until a GPU node pool exists
        cm("gke-managed-system", "dcgm-exporter-metrics", ADDON_RECONCILE),
        daemonset(
            "gke-managed-system",
            "dcgm-exporter",
            {**ADDON_RECONCILE, "app.kubernetes.io/name": "gke-managed-dcgm-exporter"},
            pod_template(
                {"app.kubernetes.io/name": "gke-managed-dcgm-exporter"},
                [
                    container(
                        "dcgm-exporter",
                        "gke.gcr.io/nvidia/dcgm-exporter:3.3.5-3.4.0-ubuntu22.04",
                        ["-f", "/etc/dcgm-exporter/counters.csv"],
                    )
                ],
                nodeSelector={"cloud.google.com/gke-gpu-driver-version": "default"},
                priorityClassName="system-node-critical",
                volumes=[_cm_vol("dcgm-exporter-metrics", "dcgm-exporter-metrics")],
            ),
        ),
    ]
    c.apply(objs)
    for node in c.nodes:
        node_name = node["metadata"]["name"]
        pod = c.make_pod(
            f"kube-proxy-{node_name}",
            ks,
            pod_template(
                {"component": "kube-proxy", "tier": "node"},
                [
                    container(
                        "kube-proxy",
                        "gke.gcr.io/kube-proxy-amd64:v1.33.5-gke.1046000",
                        command=[
                            "/bin/sh",
                            "-c",
                            "exec kube-proxy --master=https://10.128.0.2 --kubeconfig=/var/lib/kube-proxy/kubeconfig --cluster-cidr=10.24.0.0/14 --oom-score-adj=-998 --v=2 --iptables-sync-period=1m --iptables-min-sync-period=10s --ipvs-sync-period=1m --ipvs-min-sync-period=10s --detect-local-mode=NodeCIDR",  # noqa: E501
                        ],
                        resources={"requests": {"cpu": "100m"}},
                    )
                ],
                hostNetwork=True,
                priorityClassName="system-node-critical",
                volumes=[
                    _hostpath("varlog", "/var/log"),
                    _hostpath("kubeconfig", "/var/lib/kube-proxy/kubeconfig"),
                ],
            ),
            owner=node,
            node=node_name,
            static=True,
            created=c.created,
        )
        pod["metadata"]["annotations"] = {
            "kubernetes.io/config.hash": digest(node_name)[:32],
            "kubernetes.io/config.mirror": digest(node_name)[:32],
            "kubernetes.io/config.seen": "2025-01-01T00:00:00.000000000Z",
            "kubernetes.io/config.source": "file",
        }
        pod["metadata"]["ownerReferences"][0].pop("blockOwnerDeletion", None)
    return _finish(c)


# --- AKS ----------------------------------------------------------------------------------

AKS_LABELS = {"kubernetes.azure.com/managedby": "aks"}


def new_aks_cluster(
    now: datetime, nodes: int = 3, *, name: str = "prod-aks", age: timedelta = timedelta(days=40)
) -> Cluster:
    """An AKS 1.33 cluster (Azure CNI Overlay, one system node pool, default add-ons)."""
    c = Cluster(now, "azure", name=name, installed_days_ago=age.days)
    c.add_nodes(
        nodes,
        instance_type="Standard_D4ds_v5",
        region="eastus",
        zones=["eastus-1", "eastus-2", "eastus-3"],
    )
    kubernetes_core(c, ["10.224.0.4"])
    ks = "kube-system"
    recon = {**ADDON_RECONCILE, **AKS_LABELS}
    ensure = {**ADDON_ENSURE, **AKS_LABELS}
    csi_labels = {**recon, "kubernetes.io/cluster-service": "true"}
    sc_labels = {**ADDON_ENSURE, "kubernetes.io/cluster-service": "true"}
    objs: list[Obj] = [
        cm(
            ks,
            "coredns",
            {**recon, "k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true"},
            {"Corefile": ".:53 {...}"},
        ),
        cm(
            ks,
            "coredns-custom",
            {**ensure, "k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true"},
        ),
        cm(ks, "coredns-autoscaler"),
        cm(
            ks,
            "azure-ip-masq-agent-config-reconciled",
            {**recon, "component": "ip-masq-agent", "kubernetes.io/cluster-service": "true"},
        ),
        cm(ks, "metrics-server-config", {**ensure, "kubernetes.io/cluster-service": "true"}),
        cm(ks, "konnectivity-agent-autoscaler-config", ensure),
        cm(ks, "overlay-upgrade-data", AKS_LABELS),
        cm(ks, "cns-config", recon),
        secret(ks, "konnectivity-certs", labels=AKS_LABELS),
        secret(
            ks,
            "bootstrap-token-" + digest(name, "bt")[:6],
            "bootstrap.kubernetes.io/token",
            labels=AKS_LABELS,
        ),
        storage_class(
            "azurefile",
            "file.csi.azure.com",
            {"skuName": "Standard_LRS"},
            binding="Immediate",
            labels=sc_labels,
        ),
        storage_class(
            "azurefile-csi",
            "file.csi.azure.com",
            {"skuName": "Standard_LRS"},
            binding="Immediate",
            labels=sc_labels,
        ),
        storage_class(
            "azurefile-csi-premium",
            "file.csi.azure.com",
            {"skuName": "Premium_LRS"},
            binding="Immediate",
            labels=sc_labels,
        ),
        storage_class(
            "azurefile-premium",
            "file.csi.azure.com",
            {"skuName": "Premium_LRS"},
            binding="Immediate",
            labels=sc_labels,
        ),
        storage_class(
            "default",
            "disk.csi.azure.com",
            {"skuname": "StandardSSD_LRS"},
            default=True,
            labels=sc_labels,
        ),
        storage_class(
            "managed",
            "disk.csi.azure.com",
            {"kind": "Managed", "storageaccounttype": "StandardSSD_LRS"},
            labels=sc_labels,
        ),
        storage_class(
            "managed-csi", "disk.csi.azure.com", {"skuname": "StandardSSD_LRS"}, labels=sc_labels
        ),
        storage_class(
            "managed-csi-premium",
            "disk.csi.azure.com",
            {"skuname": "Premium_LRS"},
            labels=sc_labels,
        ),
        storage_class(
            "managed-premium",
            "disk.csi.azure.com",
            {"kind": "Managed", "storageaccounttype": "Premium_LRS"},
            labels=sc_labels,
        ),
        crd(
            "volumesnapshotclasses.snapshot.storage.k8s.io",
            "VolumeSnapshotClass",
            ("v1",),
            "Cluster",
            recon,
        ),
        crd(
            "volumesnapshotcontents.snapshot.storage.k8s.io",
            "VolumeSnapshotContent",
            ("v1",),
            "Cluster",
            recon,
        ),
        crd(
            "volumesnapshots.snapshot.storage.k8s.io",
            "VolumeSnapshot",
            ("v1",),
            "Namespaced",
            recon,
        ),
        crd(
            "nodenetworkconfigs.acn.azure.com",
            "NodeNetworkConfig",
            ("v1alpha",),
            "Namespaced",
            recon,
        ),
        {
            "apiVersion": "snapshot.storage.k8s.io/v1",
            "kind": "VolumeSnapshotClass",
            "metadata": {"name": "csi-azuredisk-vsc", "labels": sc_labels},
            "driver": "disk.csi.azure.com",
            "deletionPolicy": "Delete",
            "parameters": {"incremental": "true"},
        },
        {
            "apiVersion": "snapshot.storage.k8s.io/v1",
            "kind": "VolumeSnapshotClass",
            "metadata": {"name": "csi-azurefile-vsc", "labels": sc_labels},
            "driver": "file.csi.azure.com",
            "deletionPolicy": "Delete",
        },
        webhook_config(
            "MutatingWebhookConfiguration",
            "aks-node-mutating-webhook",
            [
                (
                    "aks-node-mutating-webhook.azmk8s.io",
                    {"url": "https://127.0.0.1:9443/mutate-node"},
                )
            ],
            AKS_LABELS,
        ),
        webhook_config(
            "ValidatingWebhookConfiguration",
            "aks-node-validating-webhook",
            [
                (
                    "aks-node-validating-webhook.azmk8s.io",
                    {"url": "https://127.0.0.1:9443/validate-node"},
                )
            ],
            AKS_LABELS,
        ),
        api_service("metrics.k8s.io", "v1beta1", (ks, "metrics-server"), recon),
        cluster_role("aks-service", recon),
        crb("aks-service-rolebinding", "aks-service", [subj("User", "aks-support")], recon),
        crb(
            "aks-cluster-admin-binding",
            "cluster-admin",
            [subj("User", "clusterAdmin"), subj("User", "kubeAdmin")],
            recon,
        ),
        crb(
            "kubelet-bootstrap",
            "system:node-bootstrapper",
            [subj("Group", "system:bootstrappers")],
            recon,
        ),
        crb(
            "node-client-auto-approve-csr",
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            [subj("Group", "system:bootstrappers")],
            recon,
        ),
        crb(
            "node-client-auto-renew-crt",
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            [subj("Group", "system:nodes")],
            recon,
        ),
        crb(
            "metrics-server:system:auth-delegator",
            "system:auth-delegator",
            [subj("ServiceAccount", "metrics-server", ks)],
            recon,
        ),
        rb(
            ks,
            "metrics-server-auth-reader",
            "Role",
            "extension-apiserver-authentication-reader",
            [subj("ServiceAccount", "metrics-server", ks)],
            recon,
        ),
        cluster_role(
            "system:metrics-server-aggregated-reader",
            {
                **recon,
                "rbac.authorization.k8s.io/aggregate-to-admin": "true",
                "rbac.authorization.k8s.io/aggregate-to-edit": "true",
                "rbac.authorization.k8s.io/aggregate-to-view": "true",
            },
        ),
        cluster_role("system:persistent-volume-secret-operator", recon),
        crb(
            "system:persistent-volume-binder",
            "system:persistent-volume-secret-operator",
            [subj("ServiceAccount", "persistent-volume-binder", ks)],
            recon,
        ),
        cluster_role("system:azure-cloud-provider-secret-getter", recon),
        crb(
            "system:azure-cloud-provider-secret-getter",
            "system:azure-cloud-provider-secret-getter",
            [subj("ServiceAccount", "azure-cloud-provider", ks)],
            recon,
        ),
        sa(ks, "azure-cloud-provider", recon),
    ]
    role_for_sa = {
        "coredns": "system:coredns",
        "coredns-autoscaler": "system:coredns-autoscaler",
        "metrics-server": "system:metrics-server",
        "azure-cns": "azure-cns",
        "cloud-node-manager": "cloud-node-manager",
        "csi-azuredisk-node-sa": "csi-azuredisk-node-role",
        "csi-azurefile-node-sa": "csi-azurefile-node-secret-role",
        "konnectivity-agent": "system:konnectivity-agent",
        "kube-proxy": "system:aks-kube-proxy",
        "azure-ip-masq-agent": "azure-ip-masq-agent",
    }
    for sa_name, role_name in role_for_sa.items():
        objs += [
            sa(ks, sa_name, recon),
            cluster_role(role_name, recon),
            crb(
                role_name if role_name.startswith("system:") else role_name + "-binding",
                role_name,
                [subj("ServiceAccount", sa_name, ks)],
                recon,
            ),
        ]
    dns = {"k8s-app": "kube-dns", "version": "v20"}
    objs += [
        deployment(
            ks,
            "coredns",
            {
                **recon,
                "k8s-app": "kube-dns",
                "kubernetes.io/cluster-service": "true",
                "version": "v20",
            },
            pod_template(
                dns,
                [
                    container(
                        "coredns",
                        "mcr.microsoft.com/oss/v2/kubernetes/coredns:v1.12.1-1",
                        ["-conf", "/etc/coredns/Corefile"],
                        resources={
                            "limits": {"memory": "500Mi"},
                            "requests": {"cpu": "100m", "memory": "70Mi"},
                        },
                    )
                ],
                serviceAccountName="coredns",
                priorityClassName="system-node-critical",
                nodeSelector=LINUX,
                volumes=[
                    {
                        "name": "config-volume",
                        "configMap": {
                            "name": "coredns",
                            "items": [{"key": "Corefile", "path": "Corefile"}],
                        },
                    },
                    _cm_vol("custom-config-volume", "coredns-custom", optional=True),
                    {"name": "tmp", "emptyDir": {}},
                ],
            ),
            replicas=2,
        ),
        service(
            ks,
            "kube-dns",
            {"k8s-app": "kube-dns"},
            [("dns", 53, 53), ("dns-tcp", 53, 53)],
            {
                **recon,
                "k8s-app": "kube-dns",
                "kubernetes.io/cluster-service": "true",
                "kubernetes.io/name": "CoreDNS",
            },
            clusterIP=c.service_ip(10),
        ),
        pdb(ks, "coredns-pdb", {"k8s-app": "kube-dns"}, recon),
        deployment(
            ks,
            "coredns-autoscaler",
            {**recon, "k8s-app": "coredns-autoscaler", "kubernetes.io/cluster-service": "true"},
            pod_template(
                {"k8s-app": "coredns-autoscaler"},
                [
                    container(
                        "autoscaler",
                        "mcr.microsoft.com/oss/v2/kubernetes/autoscaler/cluster-proportional-autoscaler:v1.8.11-5",
                        command=[
                            "/cluster-proportional-autoscaler",
                            "--namespace=kube-system",
                            "--configmap=coredns-autoscaler",
                            "--target=deployment/coredns",
                            '--default-params={"ladder":{"coresToReplicas":[[1,2],[512,3],[1024,4],[2048,5]],"nodesToReplicas":[[1,2],[8,3],[16,4],[32,5]]}}',
                            "--logtostderr=true",
                            "--v=2",
                        ],
                    )
                ],
                serviceAccountName="coredns-autoscaler",
                priorityClassName="system-cluster-critical",
                nodeSelector=LINUX,
            ),
        ),
        deployment(
            ks,
            "konnectivity-agent",
            {**recon, "app": "konnectivity-agent", "component": "tunnel"},
            pod_template(
                {"app": "konnectivity-agent", "component": "tunnel"},
                [
                    container(
                        "konnectivity-agent",
                        "mcr.microsoft.com/oss/v2/kubernetes/apiserver-network-proxy/agent:v0.31.2-2",
                        command=["/agent"],
                        args=[
                            "--logtostderr=true",
                            "--ca-cert=/certs/ca.crt",
                            "--agent-cert=/certs/client.crt",
                            "--agent-key=/certs/client.key",
                            "--proxy-server-host=prod-aks-dns-12345678.hcp.eastus.azmk8s.io",
                            "--proxy-server-port=443",
                        ],
                    )
                ],
                serviceAccountName="konnectivity-agent",
                priorityClassName="system-cluster-critical",
                nodeSelector=LINUX,
                volumes=[_secret_vol("certs", "konnectivity-certs")],
            ),
            replicas=2,
        ),
        pdb(ks, "konnectivity-agent", {"app": "konnectivity-agent"}, recon),
        deployment(
            ks,
            "konnectivity-agent-autoscaler",
            {**recon, "app": "konnectivity-agent-autoscaler"},
            pod_template(
                {"app": "konnectivity-agent-autoscaler"},
                [
                    container(
                        "autoscaler",
                        "mcr.microsoft.com/oss/v2/kubernetes/autoscaler/cluster-proportional-autoscaler:v1.8.11-5",
                        command=[
                            "/cluster-proportional-autoscaler",
                            "--namespace=kube-system",
                            "--configmap=konnectivity-agent-autoscaler-config",
                            "--target=deployment/konnectivity-agent",
                            "--logtostderr=true",
                        ],
                    )
                ],
                serviceAccountName="konnectivity-agent",
                priorityClassName="system-cluster-critical",
                nodeSelector=LINUX,
            ),
        ),
        deployment(
            ks,
            "metrics-server",
            {**recon, "k8s-app": "metrics-server", "kubernetes.io/cluster-service": "true"},
            pod_template(
                {"k8s-app": "metrics-server"},
                [
                    container(
                        "metrics-server",
                        "mcr.microsoft.com/oss/v2/kubernetes/metrics-server:v0.7.2-3",
                        [
                            "--kubelet-insecure-tls",
                            "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
                            "--cert-dir=/tmp",
                            "--secure-port=4443",
                        ],
                        ports=[{"name": "https", "containerPort": 4443}],
                    ),
                    container(
                        "metrics-server-vpa",
                        "mcr.microsoft.com/oss/v2/kubernetes/autoscaler/addon-resizer:v1.8.23-2",
                        command=[
                            "/pod_nanny",
                            "--config-dir=/etc/config",
                            "--cpu=150m",
                            "--extra-cpu=0.5m",
                            "--memory=100Mi",
                            "--extra-memory=4Mi",
                            "--poll-period=180000",
                            "--threshold=5",
                            "--deployment=metrics-server",
                            "--container=metrics-server",
                        ],
                    ),
                ],
                serviceAccountName="metrics-server",
                priorityClassName="system-cluster-critical",
                nodeSelector=LINUX,
                volumes=[
                    _cm_vol("metrics-server-config-volume", "metrics-server-config"),
                    {"name": "tmp-dir", "emptyDir": {}},
                ],
            ),
            replicas=2,
        ),
        service(
            ks,
            "metrics-server",
            {"k8s-app": "metrics-server"},
            [("", 443, "https")],
            {
                **recon,
                "kubernetes.io/cluster-service": "true",
                "kubernetes.io/name": "Metrics-server",
            },
        ),
        pdb(ks, "metrics-server-pdb", {"k8s-app": "metrics-server"}, recon),
    ]
    node_ds = [
        (
            "azure-cns",
            "azure-cns",
            LINUX,
            "mcr.microsoft.com/containernetworking/azure-cns:v1.6.18",
            [_cm_vol("cns-config", "cns-config"), _hostpath("cni-bin", "/opt/cni/bin")],
        ),
        (
            "azure-cns-win",
            "azure-cns",
            WINDOWS,
            "mcr.microsoft.com/containernetworking/azure-cns:v1.6.18",
            [_cm_vol("cns-config", "cns-config")],
        ),
        (
            "azure-ip-masq-agent",
            "azure-ip-masq-agent",
            LINUX,
            "mcr.microsoft.com/aks/ip-masq-agent-v2:v0.1.15",
            [
                {
                    "name": "azure-ip-masq-agent-config-volume",
                    "projected": {
                        "sources": [
                            {"configMap": {"name": "azure-ip-masq-agent-config", "optional": True}},
                            {
                                "configMap": {
                                    "name": "azure-ip-masq-agent-config-reconciled",
                                    "optional": True,
                                }
                            },
                        ]
                    },
                }
            ],
        ),
        (
            "cloud-node-manager",
            "cloud-node-manager",
            LINUX,
            "mcr.microsoft.com/oss/kubernetes/azure-cloud-node-manager:v1.33.1",
            [],
        ),
        (
            "cloud-node-manager-windows",
            "cloud-node-manager",
            WINDOWS,
            "mcr.microsoft.com/oss/kubernetes/azure-cloud-node-manager:v1.33.1",
            [],
        ),
        (
            "csi-azuredisk-node",
            "csi-azuredisk-node-sa",
            LINUX,
            "mcr.microsoft.com/oss/v2/kubernetes-csi/azuredisk-csi:v1.32.3",
            [_hostpath("socket-dir", "/var/lib/kubelet/plugins/disk.csi.azure.com")],
        ),
        (
            "csi-azuredisk-node-win",
            "csi-azuredisk-node-sa",
            WINDOWS,
            "mcr.microsoft.com/oss/v2/kubernetes-csi/azuredisk-csi:v1.32.3",
            [],
        ),
        (
            "csi-azurefile-node",
            "csi-azurefile-node-sa",
            LINUX,
            "mcr.microsoft.com/oss/v2/kubernetes-csi/azurefile-csi:v1.32.2",
            [_hostpath("socket-dir", "/var/lib/kubelet/plugins/file.csi.azure.com")],
        ),
        (
            "csi-azurefile-node-win",
            "csi-azurefile-node-sa",
            WINDOWS,
            "mcr.microsoft.com/oss/v2/kubernetes-csi/azurefile-csi:v1.32.2",
            [],
        ),
        (
            "kube-proxy",
            "kube-proxy",
            LINUX,
            "mcr.microsoft.com/oss/kubernetes/kube-proxy:v1.33.5",
            [
                _hostpath("kubeconfig", "/var/lib/kubelet/kubeconfig"),
                _hostpath("certificates", "/etc/kubernetes/certs"),
            ],
        ),
    ]
    for ds_name, ds_sa, sel, image, vols in node_ds:
        objs.append(
            daemonset(
                ks,
                ds_name,
                {
                    **recon,
                    "component": ds_name,
                    "k8s-app": ds_name,
                    "kubernetes.io/cluster-service": "true",
                },
                pod_template(
                    {"k8s-app": ds_name, "component": ds_name},
                    [container(ds_name.removesuffix("-win").removesuffix("-windows"), image)],
                    serviceAccountName=ds_sa,
                    priorityClassName="system-node-critical",
                    hostNetwork=True,
                    nodeSelector=sel,
                    tolerations=[{"operator": "Exists"}],
                    volumes=vols,
                ),
                selector={"k8s-app": ds_name},
            )
        )
    for obj in objs:
        if obj["kind"] in ("ClusterRole", "ClusterRoleBinding", "StorageClass") and obj["metadata"][
            "name"
        ].startswith(("csi-", "system:coredns")):
            obj["metadata"].setdefault("labels", {}).update(csi_labels)
    c.apply(objs)
    c.apply(
        [
            custom(
                "acn.azure.com/v1alpha",
                "NodeNetworkConfig",
                n["metadata"]["name"],
                ks,
                labels={
                    "kubernetes.azure.com/podnetwork-delegationguid": "",
                    "managed": "true",
                    "owner": n["metadata"]["name"],
                },
            )
            for n in c.nodes
        ]
    )
    return _finish(c)


PLATFORMS = {"eks": new_eks_cluster, "gke": new_gke_cluster, "aks": new_aks_cluster}
