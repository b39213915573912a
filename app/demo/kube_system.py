"""The add-ons EKS, GKE and AKS run in kube-system, the bootstrap RBAC, and the API server's
Service: what a cluster has before anyone deploys anything. None of it is waste."""

from __future__ import annotations

from typing import Any

from app.demo.apps import Part, build
from app.demo.objects import RBAC_GROUP, Gen, Owner, role_ref
from app.demo.platform import BOOTSTRAP, RBAC, namespace

ECR = "602401143452.dkr.ecr.{region}.amazonaws.com"


def _system_parts(gen: Gen) -> tuple[Owner, list[Part]]:
    cloud = gen.cloud
    node_critical, cluster_critical = "system-node-critical", "system-cluster-critical"

    def p(name: str, image: str, **kw: Any) -> Part:
        """A system add-on: small, labelled ``k8s-app``, no config of its own unless given."""
        defaults: dict[str, Any] = {
            "configs": (),
            "secrets": (),
            "service": None,
            "selector_key": "k8s-app",
            "cpu": "50m",
            "memory": "64Mi",
        }
        return Part(name, image, **(defaults | kw))

    if cloud.provider == "aws":
        ecr = ECR.format(region=cloud.region) + "/eks"
        owner = Owner({"app.kubernetes.io/managed-by": "EKS"}, {})
        return owner, [
            p(
                "coredns",
                f"{ecr}/coredns",
                version="v1.11.3-eksbuild.2",
                files=("coredns",),
                service="kube-dns",
                port=53,
                pdb=True,
                priority_class=cluster_critical,
            ),
            p(
                "aws-node",
                f"{ecr}/amazon-k8s-cni",
                version="v1.19.0-eksbuild.1",
                kind="DaemonSet",
                configs=("amazon-vpc-cni",),
                cluster_role=True,
                priority_class=node_critical,
            ),
            p(
                "kube-proxy",
                f"{ecr}/kube-proxy",
                version=f"v{cloud.version}.4-eksbuild.2",
                kind="DaemonSet",
                files=("kube-proxy", "kube-proxy-config"),
                priority_class=node_critical,
            ),
            p(
                "ebs-csi-controller",
                f"{ecr}/aws-ebs-csi-driver",
                version="v1.37.0",
                cluster_role=True,
                pdb=True,
                priority_class=cluster_critical,
            ),
            p(
                "ebs-csi-node",
                f"{ecr}/aws-ebs-csi-driver",
                version="v1.37.0",
                kind="DaemonSet",
                cluster_role=True,
                priority_class=node_critical,
            ),
            p(
                "metrics-server",
                "registry.k8s.io/metrics-server/metrics-server",
                version="v0.7.2",
                replicas=1,
                service="metrics-server",
                port=10250,
                cluster_role=True,
                pdb=True,
            ),
            p(
                "cluster-autoscaler",
                "registry.k8s.io/autoscaling/cluster-autoscaler",
                version=f"v{cloud.version}.0",
                replicas=1,
                cluster_role=True,
                leader_election=True,
                priority_class=cluster_critical,
            ),
            p(
                "aws-load-balancer-controller",
                "public.ecr.aws/eks/aws-load-balancer-controller",
                version="v2.10.1",
                secrets=("aws-load-balancer-tls",),
                service="aws-load-balancer-webhook-service",
                port=9443,
                cluster_role=True,
                leader_election=True,
                pdb=True,
            ),
        ]
    if cloud.provider == "gcp":
        owner = Owner({"addonmanager.kubernetes.io/mode": "Reconcile"}, {})
        gke = "gke.gcr.io"
        return owner, [
            p(
                "kube-dns",
                f"{gke}/k8s-dns-kube-dns",
                version="1.23.0-gke.9",
                files=("kube-dns",),
                service="kube-dns",
                port=53,
                priority_class=cluster_critical,
            ),
            p(
                "kube-dns-autoscaler",
                f"{gke}/cluster-proportional-autoscaler",
                version="v1.8.11-gke.4",
                replicas=1,
                configs=("kube-dns-autoscaler",),
            ),
            p(
                "fluentbit-gke",
                f"{gke}/fluent-bit",
                version="v1.8.12-gke.34",
                kind="DaemonSet",
                files=("fluentbit-gke-config-v1.4.0",),
                priority_class=node_critical,
            ),
            p(
                "gke-metrics-agent",
                f"{gke}/gke-metrics-agent",
                version="1.14.3-gke.0",
                kind="DaemonSet",
                files=("gke-metrics-agent-conf",),
                priority_class=node_critical,
            ),
            p(
                "pdcsi-node",
                f"{gke}/gcp-compute-persistent-disk-csi-driver",
                version="v1.15.2-gke.0",
                kind="DaemonSet",
                priority_class=node_critical,
            ),
            p(
                "konnectivity-agent",
                f"{gke}/proxy-agent",
                version="v0.30.3-gke.1",
                replicas=2,
                priority_class=cluster_critical,
            ),
            p(
                "metrics-server",
                f"{gke}/metrics-server",
                version="v0.7.1-gke.23",
                replicas=1,
                service="metrics-server",
                port=10250,
            ),
        ]
    owner = Owner(
        {"kubernetes.azure.com/managedby": "aks", "addonmanager.kubernetes.io/mode": "Reconcile"},
        {},
    )
    mcr = "mcr.microsoft.com/oss/v2/kubernetes"
    return owner, [
        p(
            "coredns",
            f"{mcr}/coredns",
            version="v1.9.4-6",
            files=("coredns", "coredns-custom"),
            service="kube-dns",
            port=53,
            priority_class=cluster_critical,
        ),
        p(
            "coredns-autoscaler",
            f"{mcr}/autoscaler/cluster-proportional-autoscaler",
            version="v1.8.11-5",
            replicas=1,
            configs=("coredns-autoscaler",),
        ),
        p(
            "kube-proxy",
            f"{mcr}/kube-proxy",
            version=f"v{cloud.version}-hotfix.1",
            kind="DaemonSet",
            priority_class=node_critical,
        ),
        p(
            "azure-ip-masq-agent",
            f"{mcr}/ip-masq-agent",
            version="v0.1.15-2",
            kind="DaemonSet",
            files=("azure-ip-masq-agent-config-reconciled",),
            priority_class=node_critical,
        ),
        p(
            "cloud-node-manager",
            f"{mcr}/azure-cloud-node-manager",
            version=f"v{cloud.version}-1",
            kind="DaemonSet",
            priority_class=node_critical,
        ),
        p(
            "csi-azuredisk-node",
            f"{mcr}/azuredisk-csi",
            version="v1.30.5",
            kind="DaemonSet",
            priority_class=node_critical,
        ),
        p(
            "konnectivity-agent",
            f"{mcr}/apiserver-network-proxy/agent",
            version="v0.30.3-hotfix",
            replicas=2,
            priority_class=cluster_critical,
        ),
        p(
            "metrics-server",
            f"{mcr}/metrics-server",
            version="v0.7.2-1",
            replicas=2,
            service="metrics-server",
            port=10250,
        ),
    ]


def kube_system(gen: Gen) -> None:
    """System namespaces, the add-ons in kube-system, bootstrap RBAC and priority classes."""
    born = gen.ago(400)
    for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
        namespace(gen, name, created=born)
    owner, parts = _system_parts(gen)
    for part in parts:
        build(gen, "kube-system", part, owner, created=born)
    if gen.cloud.provider == "aws":
        for cm in ("aws-auth", "extension-apiserver-authentication"):
            gen.obj("v1", "ConfigMap", gen.meta("ConfigMap", cm, "kube-system", created=born))
    gen.obj("v1", "ConfigMap", gen.meta("ConfigMap", "cluster-info", "kube-public", created=born))
    _api_server(gen, born)
    for name, value in (
        ("system-cluster-critical", 2000000000),
        ("system-node-critical", 2000001000),
    ):
        gen.obj(
            "scheduling.k8s.io/v1",
            "PriorityClass",
            gen.meta("PriorityClass", name, created=born),
            value=value,
            globalDefault=False,
        )
    for role in ("cluster-admin", "admin", "edit", "view", "system:node-proxier", "system:coredns"):
        gen.obj(
            RBAC,
            "ClusterRole",
            gen.meta("ClusterRole", role, created=born, labels=BOOTSTRAP),
            rules=[{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
        )
    gen.obj(
        RBAC,
        "ClusterRoleBinding",
        gen.meta("ClusterRoleBinding", "cluster-admin", created=born, labels=BOOTSTRAP),
        roleRef=role_ref("ClusterRole", "cluster-admin"),
        subjects=[{"apiGroup": RBAC_GROUP, "kind": "Group", "name": "system:masters"}],
    )
    gen.obj(
        "apiregistration.k8s.io/v1",
        "APIService",
        gen.meta("APIService", "v1beta1.metrics.k8s.io", created=born),
        spec={
            "group": "metrics.k8s.io",
            "version": "v1beta1",
            "service": {"name": "metrics-server", "namespace": "kube-system", "port": 443},
            "groupPriorityMinimum": 100,
            "versionPriority": 100,
        },
    )


def _api_server(gen: Gen, born: str) -> None:
    """The ``kubernetes`` Service and its EndpointSlice (the API server's addresses)."""
    gen.obj(
        "v1",
        "Service",
        gen.meta(
            "Service",
            "kubernetes",
            "default",
            created=born,
            labels={"component": "apiserver", "provider": "kubernetes"},
        ),
        spec={
            "type": "ClusterIP",
            "clusterIP": "172.20.0.1",
            "ports": [{"name": "https", "port": 443, "targetPort": 443, "protocol": "TCP"}],
        },
    )
    gen.obj(
        "discovery.k8s.io/v1",
        "EndpointSlice",
        gen.meta(
            "EndpointSlice",
            "kubernetes",
            "default",
            created=born,
            labels={"kubernetes.io/service-name": "kubernetes"},
        ),
        addressType="IPv4",
        endpoints=[
            {"addresses": ["10.0.0.12"], "conditions": {"ready": True}},
            {"addresses": ["10.0.1.12"], "conditions": {"ready": True}},
        ],
        ports=[{"name": "https", "port": 443, "protocol": "TCP"}],
    )
