"""Brand-new managed clusters, as `kubectl get` shows them a few hours after creation."""

from __future__ import annotations

from datetime import timedelta

from tests.redteam.bootstrap import READ, bootstrap
from tests.redteam.kube import (
    Cluster,
    c,
    env,
    env_cm,
    env_field,
    env_secret,
    group,
    helm_labels,
    ps,
    rule,
    sa_subject,
    user,
    v_cm,
    v_empty,
    v_host,
    v_secret,
)

FRESH = timedelta(hours=3)
CRIT = "system-cluster-critical"
NODE_CRIT = "system-node-critical"
ECR = "602401143452.dkr.ecr.us-east-1.amazonaws.com"


# ----------------------------------------------------------------------------------------
# EKS 1.31, managed add-ons, Karpenter, CloudWatch observability
# ----------------------------------------------------------------------------------------
def eks(created: timedelta = FRESH) -> Cluster:
    k = Cluster("eks", created)
    for i, (zone, ng, itype) in enumerate(
        [("us-east-1a", "system", "m6i.large"), ("us-east-1b", "system", "m6i.large")]
    ):
        k.node(
            f"ip-10-0-{10 + i}-{20 + i}.ec2.internal",
            {
                "eks.amazonaws.com/nodegroup": ng,
                "eks.amazonaws.com/capacityType": "ON_DEMAND",
                "eks.amazonaws.com/nodegroup-image": "ami-0abc123",
                "eks.amazonaws.com/sourceLaunchTemplateId": "lt-0123",
                "node.kubernetes.io/instance-type": itype,
                "topology.kubernetes.io/region": "us-east-1",
                "topology.kubernetes.io/zone": zone,
                "topology.ebs.csi.aws.com/zone": zone,
                "k8s.io/cloud-provider-aws": "a1b2c3",
            },
            f"aws:///{zone}/i-0{i}1234567890abcd",
            "2",
            "7910Mi",
        )
    k.node(
        "ip-10-0-33-7.ec2.internal",
        {
            "karpenter.sh/nodepool": "default",
            "karpenter.sh/capacity-type": "spot",
            "karpenter.sh/initialized": "true",
            "karpenter.sh/registered": "true",
            "karpenter.k8s.aws/ec2nodeclass": "default",
            "karpenter.k8s.aws/instance-family": "c7i",
            "node.kubernetes.io/instance-type": "c7i.xlarge",
            "topology.kubernetes.io/region": "us-east-1",
            "topology.kubernetes.io/zone": "us-east-1c",
        },
        "aws:///us-east-1c/i-0feedbeef00000001",
        "4",
        "7479Mi",
    )
    bootstrap(k)
    ks = "kube-system"
    eks_l = {"eks.amazonaws.com/component": "x"}

    # aws-auth and EKS-managed RBAC.
    k.cm(ks, "aws-auth", data={"mapRoles": "- rolearn: arn:aws:iam::1:role/ng\n"})
    k.cm(
        ks,
        "amazon-vpc-cni",
        data={"enable-windows-ipam": "false", "enable-network-policy-controller": "false"},
        labels={"app.kubernetes.io/name": "aws-node", "app.kubernetes.io/instance": "aws-vpc-cni"},
    )
    for name, subj in [
        ("eks:addon-manager", user("eks:addon-manager")),
        ("eks:certificate-controller-approver", user("eks:certificate-controller")),
        ("eks:certificate-controller-signer", user("eks:certificate-controller")),
        ("eks:cloud-controller-manager", user("eks:cloud-controller-manager")),
        (
            "eks:cloud-provider-extraction-migration",
            user("eks:cloud-provider-extraction-migration"),
        ),
        ("eks:cluster-event-watcher", user("eks:cluster-event-watcher")),
        ("eks:fargate-manager", user("eks:fargate-manager")),
        ("eks:k8s-metrics", user("eks:k8s-metrics")),
        ("eks:kube-proxy-windows", group("eks:kube-proxy-windows")),
        ("eks:node-bootstrapper", group("system:bootstrappers")),
        ("eks:node-manager", user("eks:node-manager")),
        ("eks:nodewatcher", user("eks:nodewatcher")),
        ("eks:pod-identity-mutating-webhook", user("eks:pod-identity-mutating-webhook")),
        ("eks:tagging-controller", user("eks:tagging-controller")),
        ("eks:network-policy-controller", user("eks:network-policy-controller")),
        ("eks:service-operations", user("eks:service-operations")),
        ("eks:addon-cluster-admin", user("eks:addon-manager")),
    ]:
        k.clusterrole(
            name, [rule(["*"], ["*"], READ)], labels=eks_l | {"eks.amazonaws.com/component": "eks"}
        )
        k.crb(name, name, [subj], labels={"eks.amazonaws.com/component": "eks"})
    k.clusterrole(
        "eks:podsecuritypolicy:privileged",
        [rule([""], ["pods"], READ)],
        labels={"eks.amazonaws.com/component": "pod-security-policy"},
    )
    k.clusterrole("vpc-resource-controller-role", [rule([""], ["nodes", "pods"], READ)])
    k.crb(
        "vpc-resource-controller-rolebinding",
        "vpc-resource-controller-role",
        [user("eks:vpc-resource-controller")],
    )
    for name in (
        "eks:authenticator",
        "eks:certificate-controller",
        "eks:fargate-manager",
        "eks:k8s-metrics",
        "eks:node-manager",
        "eks-vpc-resource-controller-role",
        "eks:addon-manager",
        "eks:az-poller",
    ):
        k.role(ks, name, [rule([""], ["configmaps"], READ)])
        k.rb(
            ks,
            name,
            name,
            [user(name if name.startswith("eks:") else "eks:vpc-resource-controller")],
        )
    # The API server's pod-identity and vpc-resource webhooks are URL webhooks (no Service).
    k.obj(
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
        "pod-identity-webhook",
        body={
            "webhooks": [
                {
                    "name": "iam-for-pods.amazonaws.com",
                    "clientConfig": {"url": "https://127.0.0.1:23443/mutate"},
                }
            ]
        },
    )
    k.obj(
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
        "vpc-resource-mutating-webhook",
        body={
            "webhooks": [
                {
                    "name": "mpod.vpc.k8s.aws",
                    "clientConfig": {"url": "https://127.0.0.1:9443/mutate"},
                }
            ]
        },
    )

    # vpc-cni add-on.
    k.sa(ks, "aws-node", annotations={"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/vpc-cni"})
    k.clusterrole(
        "aws-node",
        [rule(["crd.k8s.amazonaws.com"], ["eniconfigs"], READ)],
        labels={"app.kubernetes.io/name": "aws-node"},
    )
    k.crb("aws-node", "aws-node", [sa_subject(ks, "aws-node")])
    for plural, grp, kind in [
        ("eniconfigs", "crd.k8s.amazonaws.com", "ENIConfig"),
        ("policyendpoints", "networking.k8s.aws", "PolicyEndpoint"),
        ("cninodes", "vpcresources.k8s.aws", "CNINode"),
        ("securitygrouppolicies", "vpcresources.k8s.aws", "SecurityGroupPolicy"),
    ]:
        k.crd(
            plural,
            grp,
            kind,
            versions=("v1alpha1",),
            scope="Cluster" if kind in ("ENIConfig", "CNINode") else "Namespaced",
            labels={"app.kubernetes.io/name": "amazon-vpc-cni"} if kind != "CNINode" else None,
        )
    for n in k.nodes:
        k.cr("vpcresources.k8s.aws/v1alpha1", "CNINode", n["metadata"]["name"])
    k.ds(
        ks,
        "aws-node",
        ps(
            c(
                "aws-node",
                f"{ECR}/amazon-k8s-cni:v1.19.0",
                env=[
                    env("ADDITIONAL_ENI_TAGS", "{}"),
                    env("AWS_VPC_K8S_CNI_LOGLEVEL", "DEBUG"),
                    env_field("MY_NODE_NAME", "spec.nodeName"),
                ],
                cpu="25m",
            ),
            c(
                "aws-eks-nodeagent",
                f"{ECR}/amazon/aws-network-policy-agent:v1.1.5",
                args=["--enable-ipv6=false", "--enable-network-policy=false"],
            ),
            sa="aws-node",
            pc=NODE_CRIT,
            host_network=True,
            init=[c("aws-vpc-cni-init", f"{ECR}/amazon-k8s-cni-init:v1.19.0")],
            volumes=[
                v_host("cni-bin-dir", "/opt/cni/bin"),
                v_host("log-dir", "/var/log/aws-routed-eni"),
                v_host("run-dir", "/var/run/aws-node"),
                v_host("xtables-lock", "/run/xtables.lock"),
            ],
        ),
        selector={"k8s-app": "aws-node"},
        labels={"app.kubernetes.io/name": "aws-node"},
    )

    # kube-proxy add-on.
    k.sa(ks, "kube-proxy", labels={"eks.amazonaws.com/component": "kube-proxy"})
    k.crb(
        "eks:kube-proxy",
        "system:node-proxier",
        [sa_subject(ks, "kube-proxy")],
        labels={"eks.amazonaws.com/component": "kube-proxy"},
    )
    k.cm(
        ks,
        "kube-proxy",
        labels={"eks.amazonaws.com/component": "kube-proxy", "k8s-app": "kube-proxy"},
    )
    k.cm(
        ks,
        "kube-proxy-config",
        labels={"eks.amazonaws.com/component": "kube-proxy", "k8s-app": "kube-proxy"},
    )
    k.ds(
        ks,
        "kube-proxy",
        ps(
            c(
                "kube-proxy",
                f"{ECR}/eks/kube-proxy:v1.31.2-minimal-eksbuild.3",
                command=[
                    "kube-proxy",
                    "--v=2",
                    "--config=/var/lib/kube-proxy-config/config",
                    "--hostname-override=$(NODE_NAME)",
                ],
                cpu="100m",
            ),
            sa="kube-proxy",
            pc=NODE_CRIT,
            host_network=True,
            volumes=[
                v_host("varlog", "/var/log"),
                v_host("xtables-lock", "/run/xtables.lock"),
                v_host("lib-modules", "/lib/modules"),
                v_cm("kubeconfig", "kube-proxy"),
                v_cm("config", "kube-proxy-config"),
            ],
        ),
        selector={"k8s-app": "kube-proxy"},
        labels={"eks.amazonaws.com/component": "kube-proxy"},
    )

    # coredns add-on.
    k.sa(ks, "coredns", labels={"eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"})
    k.clusterrole(
        "system:coredns",
        [rule([""], ["endpoints", "services", "pods", "namespaces"], READ)],
        labels={
            "eks.amazonaws.com/component": "coredns",
            "k8s-app": "kube-dns",
            "kubernetes.io/bootstrapping": "rbac-defaults",
        },
    )
    k.crb(
        "system:coredns",
        "system:coredns",
        [sa_subject(ks, "coredns")],
        labels={
            "eks.amazonaws.com/component": "coredns",
            "k8s-app": "kube-dns",
            "kubernetes.io/bootstrapping": "rbac-defaults",
        },
    )
    k.cm(ks, "coredns", labels={"eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"})
    dns_sel = {"eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"}
    k.deploy(
        ks,
        "coredns",
        ps(
            c(
                "coredns",
                f"{ECR}/eks/coredns:v1.11.3-eksbuild.2",
                args=["-conf", "/etc/coredns/Corefile"],
                cpu="100m",
                mem="70Mi",
            ),
            sa="coredns",
            pc=CRIT,
            volumes=[v_cm("config-volume", "coredns")],
        ),
        selector=dns_sel,
        replicas=2,
        labels={"kubernetes.io/name": "CoreDNS"},
    )
    k.svc(
        ks,
        "kube-dns",
        {"k8s-app": "kube-dns"},
        ports=[("dns", 53, 53), ("dns-tcp", 53, 53), ("metrics", 9153, 9153)],
        labels={
            "eks.amazonaws.com/component": "kube-dns",
            "k8s-app": "kube-dns",
            "kubernetes.io/cluster-service": "true",
            "kubernetes.io/name": "CoreDNS",
        },
    )
    k.pdb(ks, "coredns", dns_sel, labels=dns_sel)

    # eks-pod-identity-agent add-on (hostNetwork, no ServiceAccount of its own).
    k.ds(
        ks,
        "eks-pod-identity-agent",
        ps(
            c(
                "eks-pod-identity-agent",
                f"{ECR}/eks/eks-pod-identity-agent:0.1.10",
                command=["/go-runner", "/eks-pod-identity-agent", "server"],
                args=["--port", "80", "--cluster-name", "prod", "--probe-port", "2703"],
            ),
            init=[
                c(
                    "eks-pod-identity-agent-init",
                    f"{ECR}/eks/eks-pod-identity-agent:0.1.10",
                    command=["/go-runner", "/eks-pod-identity-agent", "initialize"],
                )
            ],
            pc=NODE_CRIT,
            host_network=True,
        ),
        selector={
            "app.kubernetes.io/name": "eks-pod-identity-agent",
            "app.kubernetes.io/instance": "eks-pod-identity-agent",
        },
    )

    # aws-ebs-csi-driver add-on: controller, node DaemonSets (one for Windows, which fits no node).
    ebs_l = {"app.kubernetes.io/name": "aws-ebs-csi-driver", "app.kubernetes.io/managed-by": "EKS"}
    k.sa(
        ks,
        "ebs-csi-controller-sa",
        labels=ebs_l,
        annotations={"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/ebs-csi"},
    )
    k.sa(ks, "ebs-csi-node-sa", labels=ebs_l)
    for role_name, res in [
        ("ebs-external-attacher-role", ["volumeattachments"]),
        ("ebs-external-provisioner-role", ["persistentvolumes"]),
        ("ebs-external-resizer-role", ["persistentvolumeclaims"]),
        ("ebs-external-snapshotter-role", ["volumesnapshotcontents"]),
    ]:
        k.clusterrole(
            role_name,
            [rule(["", "storage.k8s.io", "snapshot.storage.k8s.io"], res, ALLV)],
            labels=ebs_l,
        )
        k.crb(
            role_name.replace("-role", "-binding"),
            role_name,
            [sa_subject(ks, "ebs-csi-controller-sa")],
            labels=ebs_l,
        )
    k.clusterrole("ebs-csi-node-role", [rule([""], ["nodes"], ["get", "patch"])], labels=ebs_l)
    k.crb(
        "ebs-csi-node-getter-binding",
        "ebs-csi-node-role",
        [sa_subject(ks, "ebs-csi-node-sa")],
        labels=ebs_l,
    )
    k.role(
        ks, "ebs-csi-leases-role", [rule(["coordination.k8s.io"], ["leases"], ALLV)], labels=ebs_l
    )
    k.rb(
        ks,
        "ebs-csi-leases-rolebinding",
        "ebs-csi-leases-role",
        [sa_subject(ks, "ebs-csi-controller-sa")],
        labels=ebs_l,
    )
    ebs_img = "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.37.0"
    k.deploy(
        ks,
        "ebs-csi-controller",
        ps(
            c(
                "ebs-plugin",
                ebs_img,
                args=["controller", "--endpoint=$(CSI_ENDPOINT)", "--batching=true"],
                env=[
                    env("CSI_ENDPOINT", "unix:///var/lib/csi/sockets/pluginproxy/csi.sock"),
                    env_secret("AWS_ACCESS_KEY_ID", "aws-secret", "key_id", optional=True),
                    env_secret("AWS_SECRET_ACCESS_KEY", "aws-secret", "access_key", optional=True),
                    env_cm("AWS_EC2_ENDPOINT", "aws-meta", "endpoint", optional=True),
                ],
            ),
            c("csi-provisioner", "public.ecr.aws/csi-components/csi-provisioner:v5.1.0"),
            c("csi-attacher", "public.ecr.aws/csi-components/csi-attacher:v4.7.0"),
            c("csi-snapshotter", "public.ecr.aws/csi-components/csi-snapshotter:v8.1.0"),
            c("csi-resizer", "public.ecr.aws/csi-components/csi-resizer:v1.12.0"),
            c("liveness-probe", "public.ecr.aws/csi-components/livenessprobe:v2.14.0"),
            sa="ebs-csi-controller-sa",
            pc=CRIT,
            volumes=[v_empty("socket-dir")],
        ),
        selector={"app": "ebs-csi-controller", **ebs_l},
        replicas=2,
    )
    k.pdb(ks, "ebs-csi-controller", {"app": "ebs-csi-controller", **ebs_l}, labels=ebs_l)
    node_spec = ps(
        c("ebs-plugin", ebs_img, args=["node", "--endpoint=$(CSI_ENDPOINT)"]),
        c(
            "node-driver-registrar",
            "public.ecr.aws/csi-components/csi-node-driver-registrar:v2.12.0",
        ),
        c("liveness-probe", "public.ecr.aws/csi-components/livenessprobe:v2.14.0"),
        sa="ebs-csi-node-sa",
        pc=NODE_CRIT,
        volumes=[
            v_host("kubelet-dir", "/var/lib/kubelet"),
            v_host("plugin-dir", "/var/lib/kubelet/plugins/ebs.csi.aws.com/"),
        ],
    )
    k.ds(
        ks,
        "ebs-csi-node",
        node_spec,
        selector={"app": "ebs-csi-node", **ebs_l},
        node_selector={"kubernetes.io/os": "linux"},
    )
    k.ds(
        ks,
        "ebs-csi-node-windows",
        node_spec,
        selector={
            "app": "ebs-csi-node",
            **ebs_l,
            "app.kubernetes.io/component": "csi-driver-windows",
        },
        node_selector={"kubernetes.io/os": "windows"},
    )
    k.obj("storage.k8s.io/v1", "CSIDriver", "ebs.csi.aws.com", labels=ebs_l)
    # EKS 1.30+: gp2 is still created but no longer annotated as the default class.
    k.storageclass("gp2", "kubernetes.io/aws-ebs", params={"fsType": "ext4", "type": "gp2"})
    for plural, kind in [
        ("volumesnapshotclasses", "VolumeSnapshotClass"),
        ("volumesnapshotcontents", "VolumeSnapshotContent"),
        ("volumesnapshots", "VolumeSnapshot"),
    ]:
        k.crd(
            plural,
            "snapshot.storage.k8s.io",
            kind,
            versions=("v1",),
            scope="Namespaced" if kind == "VolumeSnapshot" else "Cluster",
            labels={
                "api-approved.kubernetes.io": "https://github.com/kubernetes-csi/external-snapshotter/pull/814"
            },
        )

    # metrics-server add-on.
    ms_l = {
        "app.kubernetes.io/name": "metrics-server",
        "app.kubernetes.io/instance": "metrics-server",
    }
    k.sa(ks, "metrics-server", labels=ms_l)
    k.clusterrole(
        "system:metrics-server", [rule([""], ["nodes/metrics", "pods", "nodes"], READ)], labels=ms_l
    )
    k.clusterrole(
        "system:metrics-server-aggregated-reader",
        [rule(["metrics.k8s.io"], ["pods", "nodes"], READ)],
        labels={
            **ms_l,
            "rbac.authorization.k8s.io/aggregate-to-admin": "true",
            "rbac.authorization.k8s.io/aggregate-to-edit": "true",
            "rbac.authorization.k8s.io/aggregate-to-view": "true",
        },
    )
    k.crb("system:metrics-server", "system:metrics-server", [sa_subject(ks, "metrics-server")])
    k.crb(
        "metrics-server:system:auth-delegator",
        "system:auth-delegator",
        [sa_subject(ks, "metrics-server")],
    )
    k.rb(
        ks,
        "metrics-server-auth-reader",
        "extension-apiserver-authentication-reader",
        [sa_subject(ks, "metrics-server")],
    )
    k.deploy(
        ks,
        "metrics-server",
        ps(
            c(
                "metrics-server",
                f"{ECR}/eks/metrics-server:v0.7.2-eksbuild.1",
                args=[
                    "--secure-port=10251",
                    "--cert-dir=/tmp",
                    "--kubelet-preferred-address-types=InternalIP",
                    "--kubelet-use-node-status-port",
                    "--metric-resolution=15s",
                ],
            ),
            sa="metrics-server",
            pc=CRIT,
            volumes=[v_empty("tmp")],
        ),
        selector=ms_l,
        replicas=2,
    )
    k.svc(ks, "metrics-server", ms_l, ports=[("https", 443, "https")], labels=ms_l)
    k.pdb(ks, "metrics-server", ms_l, min_available=1, labels=ms_l)
    k.apiservice("metrics.k8s.io", "v1beta1", (ks, "metrics-server"), labels=ms_l)
    for g, v in [("", "v1"), ("apps", "v1"), ("batch", "v1"), ("rbac.authorization.k8s.io", "v1")]:
        k.apiservice(g, v, None, labels={"kube-aggregator.kubernetes.io/automanaged": "onstart"})

    # amazon-cloudwatch-observability add-on.
    cw = "amazon-cloudwatch"
    k.namespace(cw, labels={"name": "amazon-cloudwatch"})
    cw_l = {
        "app.kubernetes.io/name": "amazon-cloudwatch-observability",
        "app.kubernetes.io/managed-by": "EKS",
    }
    k.sa(cw, "amazon-cloudwatch-observability-controller-manager", labels=cw_l)
    k.sa(cw, "cloudwatch-agent", labels=cw_l)
    k.sa(cw, "dcgm-exporter-service-acct", labels=cw_l)
    k.sa(cw, "neuron-monitor-service-acct", labels=cw_l)
    k.clusterrole(
        "amazon-cloudwatch-observability-manager-role",
        [
            rule(["cloudwatch.aws.amazon.com"], ["*"], ALLV),
            rule(["", "apps"], ["configmaps", "daemonsets", "services", "serviceaccounts"], ALLV),
        ],
        labels=cw_l,
    )
    k.crb(
        "amazon-cloudwatch-observability-manager-rolebinding",
        "amazon-cloudwatch-observability-manager-role",
        [sa_subject(cw, "amazon-cloudwatch-observability-controller-manager")],
        labels=cw_l,
    )
    k.clusterrole(
        "cloudwatch-agent-role", [rule([""], ["pods", "nodes", "endpoints"], READ)], labels=cw_l
    )
    k.crb(
        "cloudwatch-agent-role-binding",
        "cloudwatch-agent-role",
        [sa_subject(cw, "cloudwatch-agent")],
        labels=cw_l,
    )
    k.role(cw, "dcgm-exporter-role", [rule([""], ["configmaps"], ["get"])], labels=cw_l)
    k.rb(
        cw,
        "dcgm-exporter-role-binding",
        "dcgm-exporter-role",
        [sa_subject(cw, "dcgm-exporter-service-acct")],
        labels=cw_l,
    )
    k.role(cw, "neuron-monitor-role", [rule([""], ["configmaps"], ["get"])], labels=cw_l)
    k.rb(
        cw,
        "neuron-monitor-role-binding",
        "neuron-monitor-role",
        [sa_subject(cw, "neuron-monitor-service-acct")],
        labels=cw_l,
    )
    k.secret(
        cw,
        "amazon-cloudwatch-observability-controller-manager-service-cert",
        "kubernetes.io/tls",
        labels=cw_l,
    )
    k.secret(cw, "amazon-cloudwatch-observability-agent-cert", labels=cw_l)
    k.secret(cw, "amazon-cloudwatch-observability-agent-server-cert", labels=cw_l)
    k.secret(cw, "amazon-cloudwatch-observability-agent-client-cert", labels=cw_l)
    k.deploy(
        cw,
        "amazon-cloudwatch-observability-controller-manager",
        ps(
            c(
                "manager",
                "public.ecr.aws/cloudwatch-agent/cloudwatch-agent-operator:2.4.0",
                args=[
                    "--auto-instrumentation-config={}",
                    "--feature-gates=operator.autoinstrumentation",
                ],
            ),
            sa="amazon-cloudwatch-observability-controller-manager",
            volumes=[
                v_secret("cert", "amazon-cloudwatch-observability-controller-manager-service-cert")
            ],
        ),
        selector={
            "app.kubernetes.io/name": "amazon-cloudwatch-observability",
            "control-plane": "controller-manager",
        },
        labels=cw_l,
    )
    k.svc(
        cw,
        "amazon-cloudwatch-observability-webhook-service",
        {
            "app.kubernetes.io/name": "amazon-cloudwatch-observability",
            "control-plane": "controller-manager",
        },
        ports=[("https", 443, 9443)],
        labels=cw_l,
    )
    k.webhook(
        "MutatingWebhookConfiguration",
        "amazon-cloudwatch-observability-mutating-webhook-configuration",
        [(cw, "amazon-cloudwatch-observability-webhook-service")] * 3,
        labels=cw_l,
    )
    k.webhook(
        "ValidatingWebhookConfiguration",
        "amazon-cloudwatch-observability-validating-webhook-configuration",
        [(cw, "amazon-cloudwatch-observability-webhook-service")] * 3,
        labels=cw_l,
    )
    for plural, kind in [
        ("amazoncloudwatchagents", "AmazonCloudWatchAgent"),
        ("instrumentations", "Instrumentation"),
        ("dcgmexporters", "DcgmExporter"),
        ("neuronmonitors", "NeuronMonitor"),
    ]:
        k.crd(plural, "cloudwatch.aws.amazon.com", kind, versions=("v1alpha1",), labels=cw_l)
    agent_cr = k.cr(
        "cloudwatch.aws.amazon.com/v1alpha1", "AmazonCloudWatchAgent", "cloudwatch-agent", cw
    )
    k.cr(
        "cloudwatch.aws.amazon.com/v1alpha1",
        "Instrumentation",
        "cloudwatch-agent-auto-instrumentation",
        cw,
    )
    dcgm_cr = k.cr("cloudwatch.aws.amazon.com/v1alpha1", "DcgmExporter", "dcgm-exporter", cw)
    neuron_cr = k.cr("cloudwatch.aws.amazon.com/v1alpha1", "NeuronMonitor", "neuron-monitor", cw)
    own = Cluster.ref
    k.cm(
        cw,
        "cloudwatch-agent",
        owner=own(agent_cr),
        labels={
            "app.kubernetes.io/component": "amazon-cloudwatch-agent",
            "app.kubernetes.io/managed-by": "amazon-cloudwatch-agent-operator",
        },
    )
    k.cm(cw, "cwagent-clusterleader", data={})  # leader election lock written by the agent
    k.ds(
        cw,
        "cloudwatch-agent",
        ps(
            c(
                "cloudwatch-agent",
                "public.ecr.aws/cloudwatch-agent/cloudwatch-agent:1.300049.1",
                env=[env_field("HOST_IP", "status.hostIP"), env("K8S_NAMESPACE", cw)],
            ),
            sa="cloudwatch-agent",
            volumes=[
                v_cm("cloudwatch-agent-config", "cloudwatch-agent"),
                v_host("rootfs", "/"),
                v_secret("agenttls", "amazon-cloudwatch-observability-agent-cert"),
            ],
        ),
        selector={
            "app.kubernetes.io/component": "amazon-cloudwatch-agent",
            "app.kubernetes.io/instance": "amazon-cloudwatch.cloudwatch-agent",
        },
        owner=own(agent_cr),
    )
    k.svc(
        cw,
        "cloudwatch-agent",
        {
            "app.kubernetes.io/component": "amazon-cloudwatch-agent",
            "app.kubernetes.io/instance": "amazon-cloudwatch.cloudwatch-agent",
        },
        ports=[("otlp-grpc", 4317, 4317)],
        owner=own(agent_cr),
    )
    k.svc(
        cw,
        "cloudwatch-agent-headless",
        {
            "app.kubernetes.io/component": "amazon-cloudwatch-agent",
            "app.kubernetes.io/instance": "amazon-cloudwatch.cloudwatch-agent",
        },
        ports=[("otlp-grpc", 4317, 4317)],
        headless=True,
        owner=own(agent_cr),
    )
    k.cm(cw, "fluent-bit-config", labels={"k8s-app": "fluent-bit", **cw_l})
    k.cm(cw, "fluent-bit-windows-config", labels={"k8s-app": "fluent-bit", **cw_l})
    k.ds(
        cw,
        "fluent-bit",
        ps(
            c(
                "fluent-bit",
                "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2.20241008",
                env=[
                    env_cm("AWS_REGION", "fluent-bit-cluster-info", "logs.region"),
                    env_cm("CLUSTER_NAME", "fluent-bit-cluster-info", "cluster.name"),
                ],
            ),
            sa="cloudwatch-agent",
            volumes=[v_cm("fluent-bit-config", "fluent-bit-config"), v_host("varlog", "/var/log")],
        ),
        selector={"k8s-app": "fluent-bit"},
        labels=cw_l,
    )
    k.cm(cw, "fluent-bit-cluster-info", data={"cluster.name": "prod", "logs.region": "us-east-1"})
    k.ds(
        cw,
        "fluent-bit-windows",
        ps(
            c(
                "fluent-bit",
                "public.ecr.aws/aws-observability/aws-for-fluent-bit:windowsservercore",
            ),
            sa="cloudwatch-agent",
            volumes=[v_cm("fluent-bit-config", "fluent-bit-windows-config")],
        ),
        selector={"k8s-app": "fluent-bit-windows"},
        labels=cw_l,
        node_selector={"kubernetes.io/os": "windows"},
    )
    k.ds(
        cw,
        "cloudwatch-agent-windows",
        ps(
            c("cloudwatch-agent", "public.ecr.aws/cloudwatch-agent/cloudwatch-agent:1.300049.1"),
            sa="cloudwatch-agent",
            volumes=[v_cm("cloudwatch-agent-config", "cloudwatch-agent-windows")],
        ),
        selector={"app.kubernetes.io/component": "amazon-cloudwatch-agent-windows"},
        node_selector={"kubernetes.io/os": "windows"},
        owner=own(agent_cr),
    )
    k.cm(cw, "cloudwatch-agent-windows", owner=own(agent_cr))
    k.cm(cw, "dcgm-exporter-config-map", owner=own(dcgm_cr))
    k.ds(
        cw,
        "dcgm-exporter",
        ps(
            c("dcgm-exporter", "nvcr.io/nvidia/k8s/dcgm-exporter:3.3.7-3.5.0-ubuntu22.04"),
            sa="dcgm-exporter-service-acct",
            volumes=[
                v_cm("dcgm-config", "dcgm-exporter-config-map"),
                v_secret("dcgmtls", "amazon-cloudwatch-observability-agent-server-cert"),
            ],
        ),
        selector={"k8s-app": "dcgm-exporter"},
        owner=own(dcgm_cr),
        node_selector={"node.kubernetes.io/instance-type": "p4d.24xlarge"},
    )
    k.svc(
        cw,
        "dcgm-exporter-service",
        {"k8s-app": "dcgm-exporter"},
        ports=[("metrics", 9400, 9400)],
        owner=own(dcgm_cr),
    )
    k.cm(cw, "neuron-monitor-config-map", owner=own(neuron_cr))
    k.ds(
        cw,
        "neuron-monitor",
        ps(
            c("neuron-monitor", "public.ecr.aws/neuron/neuron-monitor:1.2.0"),
            sa="neuron-monitor-service-acct",
            volumes=[
                v_cm("neuron-config", "neuron-monitor-config-map"),
                v_secret("neurontls", "amazon-cloudwatch-observability-agent-server-cert"),
            ],
        ),
        selector={"k8s-app": "neuron-monitor"},
        owner=own(neuron_cr),
        node_selector={"node.kubernetes.io/instance-type": "trn1.32xlarge"},
    )
    k.svc(
        cw,
        "neuron-monitor-service",
        {"k8s-app": "neuron-monitor"},
        ports=[("metrics", 8000, 8000)],
        owner=own(neuron_cr),
    )

    # Karpenter 1.x (Helm, kube-system as the docs install it).
    rel = ("karpenter", ks)
    kl = helm_labels("karpenter", "karpenter", "1.1.0", "karpenter")
    k.helm_release(ks, "karpenter", "karpenter", "1.1.0")
    k.sa(
        ks,
        "karpenter",
        labels=kl,
        helm=rel,
        annotations={"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/KarpenterController"},
    )
    k.clusterrole(
        "karpenter-core",
        [rule(["karpenter.sh"], ["nodepools", "nodeclaims"], ALLV)],
        labels=kl,
        helm=rel,
    )
    k.clusterrole(
        "karpenter", [rule(["karpenter.k8s.aws"], ["ec2nodeclasses"], ALLV)], labels=kl, helm=rel
    )
    k.clusterrole(
        "karpenter-admin",
        [rule(["karpenter.sh", "karpenter.k8s.aws"], ["*"], ALLV)],
        labels={**kl, "rbac.authorization.k8s.io/aggregate-to-admin": "true"},
        helm=rel,
    )
    k.crb("karpenter-core", "karpenter-core", [sa_subject(ks, "karpenter")], labels=kl, helm=rel)
    k.crb("karpenter", "karpenter", [sa_subject(ks, "karpenter")], labels=kl, helm=rel)
    k.role(ks, "karpenter", [rule(["coordination.k8s.io"], ["leases"], ALLV)], labels=kl, helm=rel)
    k.rb(ks, "karpenter", "karpenter", [sa_subject(ks, "karpenter")], labels=kl, helm=rel)
    k.role(
        ks, "karpenter-dns", [rule([""], ["services"], ["get"], ["kube-dns"])], labels=kl, helm=rel
    )
    k.rb(ks, "karpenter-dns", "karpenter-dns", [sa_subject(ks, "karpenter")], labels=kl, helm=rel)
    k.role(
        "kube-node-lease",
        "karpenter-lease",
        [rule(["coordination.k8s.io"], ["leases"], ALLV)],
        labels=kl,
        helm=rel,
    )
    k.rb(
        "kube-node-lease",
        "karpenter-lease",
        "karpenter-lease",
        [sa_subject(ks, "karpenter")],
        labels=kl,
        helm=rel,
    )
    ksel = {"app.kubernetes.io/name": "karpenter", "app.kubernetes.io/instance": "karpenter"}
    k.deploy(
        ks,
        "karpenter",
        ps(
            c(
                "controller",
                "public.ecr.aws/karpenter/controller:1.1.0",
                env=[
                    env("CLUSTER_NAME", "prod"),
                    env("INTERRUPTION_QUEUE", "Karpenter-prod"),
                    env_field("SYSTEM_NAMESPACE", "metadata.namespace"),
                ],
                cpu="1",
                mem="1Gi",
            ),
            sa="karpenter",
            pc=CRIT,
            node_selector={"eks.amazonaws.com/nodegroup": "system"},
        ),
        selector=ksel,
        labels=kl,
        replicas=2,
        helm=rel,
    )
    k.svc(
        ks, "karpenter", ksel, ports=[("http-metrics", 8080, "http-metrics")], labels=kl, helm=rel
    )
    k.pdb(ks, "karpenter", ksel, labels=kl, helm=rel)
    for plural, grp, kind in [
        ("nodepools", "karpenter.sh", "NodePool"),
        ("nodeclaims", "karpenter.sh", "NodeClaim"),
        ("ec2nodeclasses", "karpenter.k8s.aws", "EC2NodeClass"),
    ]:
        k.crd(plural, grp, kind, scope="Cluster")
    k.cr("karpenter.sh/v1", "NodePool", "default")
    k.cr("karpenter.k8s.aws/v1", "EC2NodeClass", "default")
    k.cr("karpenter.sh/v1", "NodeClaim", "default-x7k2p")
    return k


ALLV = ["get", "list", "watch", "create", "update", "patch", "delete"]


# ----------------------------------------------------------------------------------------
# GKE Autopilot 1.31 (Dataplane V2, Managed Prometheus, Gateway API)
# ----------------------------------------------------------------------------------------
def gke_autopilot(created: timedelta = FRESH) -> Cluster:
    k = Cluster("gke", created)
    for i, zone in enumerate(["us-central1-a", "us-central1-b", "us-central1-f"]):
        pool = "default-pool" if i < 2 else "nap-e2-standard-2-1lm0o6fo"
        k.node(
            f"gk3-prod-{pool[:12]}-{suffix_(i)}",
            {
                "cloud.google.com/gke-nodepool": pool,
                "cloud.google.com/gke-os-distribution": "cos",
                "cloud.google.com/gke-boot-disk": "pd-balanced",
                "cloud.google.com/gke-container-runtime": "containerd",
                "cloud.google.com/gke-provisioning": "standard",
                "cloud.google.com/machine-family": "e2",
                "cloud.google.com/compute-class": "autopilot",
                "cloud.google.com/gke-netd-ready": "true",
                "iam.gke.io/gke-metadata-server-enabled": "true",
                "node.kubernetes.io/instance-type": "e2-standard-2" if i < 2 else "e2-standard-4",
                "topology.kubernetes.io/region": "us-central1",
                "topology.kubernetes.io/zone": zone,
                "topology.gke.io/zone": zone,
            },
            f"gce://prod-project/{zone}/gk3-prod-{pool[:12]}-{suffix_(i)}",
            "2" if i < 2 else "4",
            "8Gi",
        )
    bootstrap(k)
    ks = "kube-system"
    gke = {"addonmanager.kubernetes.io/mode": "Reconcile"}
    for ns in (
        "gke-managed-system",
        "gke-managed-cim",
        "gke-managed-filestorecsi",
        "gke-managed-parallelstorecsi",
        "gke-managed-volumepopulator",
        "gke-gmp-system",
        "gmp-public",
    ):
        k.namespace(
            ns,
            labels={
                "addonmanager.kubernetes.io/mode": "Reconcile",
                "components.gke.io/layer": "addon",
            },
        )

    # kube-system ConfigMaps written and read by GKE's control plane or add-on manager.
    for name in (
        "cluster-autoscaler-status",
        "cluster-kubestore",
        "clustermetrics",
        "gke-common-webhook-heartbeat",
        "ingress-uid",
        "kubedns-config-images",
        "gke-common-webhook-lock",
        "gke-metrics-agent-conf",
        "konnectivity-agent-autoscaler-config",
        "kube-dns-autoscaler",
        "metrics-server-config",
        "fluentbit-gke-config-v1.4.0",
        "cilium-config",
        "netd-config",
        "node-local-dns",
        "ip-masq-agent",
        "gke-metadata-server-config",
        "kube-dns",
        "pdcsi-controller-config",
        "gcsfusecsi-image-config",
        "antrea-config",
    ):
        k.cm(
            ks,
            name,
            labels=gke if not name.startswith(("cluster-", "ingress", "gke-common")) else None,
        )
    sa = lambda name: k.sa(ks, name, labels=gke)  # noqa: E731
    for name in (
        "kube-dns",
        "kube-dns-autoscaler",
        "konnectivity-agent",
        "konnectivity-agent-cpha",
        "metrics-server",
        "netd",
        "cilium",
        "fluentbit-gke",
        "gke-metrics-agent",
        "pdcsi-node-sa",
        "gcsfusecsi-node-sa",
        "gke-metadata-server",
        "event-exporter-sa",
        "node-local-dns",
        "egress-nat-controller",
        "glbc",
        "cloud-provider",
        "pkgextract-service",
        "pkgextract-cleanup-service",
        "antrea-controller",
        "l7-default-backend",
        "ip-masq-agent",
        "filestorecsi-node-sa",
        "nvidia-gpu-device-plugin",
        "tpu-device-plugin",
        "runsc-metric-server",
        "gke-spiffe-node-agent",
        "image-package-extractor",
    ):
        sa(name)
    for name in (
        "kubelet-cluster-admin",
        "gce:podsecuritypolicy:calico-sa",
        "ca-cr-actor",
        "gke-metrics-agent",
        "system:gke-common-webhooks",
        "cloud-provider",
        "gce:beta:kubelet-certificate-bootstrap",
        "gce:beta:kubelet-certificate-rotation",
        "system:clustermetrics",
        "system:controller:glbc",
        "system:gcp-controller-manager",
        "system:kube-dns-autoscaler",
        "system:managed-certificate-controller",
        "system:metrics-server",
        "system:metrics-server-nanny",
        "netd",
        "cilium",
        "node-local-dns",
        "gke-metadata-server",
        "filestorecsi-node-role",
        "gcsfusecsi-node",
        "event-exporter-rb",
        "pdcsi-node",
        "egress-nat-controller",
        "gke-managed-cim:kube-state-metrics",
        "system:glbc-status",
        "pkgextract-role",
        "runsc-metric-server",
        "gke-spiffe-node-agent",
    ):
        k.clusterrole(name, [rule([""], ["nodes", "pods"], READ)], labels=gke)
    for name, subj in [
        ("kubelet-cluster-admin", user("kubelet")),
        ("ca-cr", user("cluster-autoscaler")),
        ("gke-metrics-agent", sa_subject(ks, "gke-metrics-agent")),
        ("system:gke-common-webhooks", user("system:gke-common-webhooks")),
        ("cloud-provider", sa_subject(ks, "cloud-provider")),
        ("gce:beta:kubelet-certificate-bootstrap", user("kubelet")),
        ("gce:beta:kubelet-certificate-rotation", group("system:nodes")),
        ("system:clustermetrics", user("system:clustermetrics")),
        ("system:controller:glbc", user("system:controller:glbc")),
        ("system:gcp-controller-manager", user("system:gcp-controller-manager")),
        ("system:kube-dns-autoscaler", sa_subject(ks, "kube-dns-autoscaler")),
        ("system:managed-certificate-controller", user("system:managed-certificate-controller")),
        ("system:metrics-server", sa_subject(ks, "metrics-server")),
        ("system:metrics-server-nanny", sa_subject(ks, "metrics-server")),
        ("netd", sa_subject(ks, "netd")),
        ("cilium", sa_subject(ks, "cilium")),
        ("node-local-dns", sa_subject(ks, "node-local-dns")),
        ("gke-metadata-server", sa_subject(ks, "gke-metadata-server")),
        ("filestorecsi-node-role", sa_subject(ks, "filestorecsi-node-sa")),
        ("gcsfusecsi-node", sa_subject(ks, "gcsfusecsi-node-sa")),
        ("event-exporter-rb", sa_subject(ks, "event-exporter-sa")),
        ("pdcsi-node", sa_subject(ks, "pdcsi-node-sa")),
        ("egress-nat-controller", sa_subject(ks, "egress-nat-controller")),
        ("gke-managed-cim:kube-state-metrics", sa_subject("gke-managed-cim", "kube-state-metrics")),
        ("system:glbc-status", user("system:controller:glbc")),
        ("pkgextract-role", sa_subject(ks, "pkgextract-service")),
        ("runsc-metric-server", sa_subject(ks, "runsc-metric-server")),
        ("gke-spiffe-node-agent", sa_subject(ks, "gke-spiffe-node-agent")),
    ]:
        role = name if name != "ca-cr" else "ca-cr-actor"
        k.crb(name, role, [subj], labels=gke)
    k.role(ks, "gce:cloud-provider", [rule([""], ["configmaps"], ALLV)], labels=gke)
    k.rb(
        ks,
        "gce:cloud-provider",
        "gce:cloud-provider",
        [sa_subject(ks, "cloud-provider")],
        labels=gke,
    )
    k.role(ks, "system:fluentbit-gke", [rule([""], ["configmaps"], READ)], labels=gke)
    k.rb(
        ks,
        "system:fluentbit-gke",
        "system:fluentbit-gke",
        [sa_subject(ks, "fluentbit-gke")],
        labels=gke,
    )
    k.rb(
        ks,
        "metrics-server-auth-reader",
        "extension-apiserver-authentication-reader",
        [sa_subject(ks, "metrics-server")],
        labels=gke,
    )
    k.rb(
        ks,
        "konnectivity-agent-cpha",
        "system:controller:bootstrap-signer",
        [sa_subject(ks, "konnectivity-agent-cpha")],
        labels=gke,
    )

    cos = {"cloud.google.com/gke-os-distribution": "cos"}
    g = "gke.gcr.io"
    k.ds(
        ks,
        "anetd",
        ps(
            c(
                "cilium-agent",
                f"{g}/cilium/cilium:v1.14.12-gke",
                args=["--config-dir=/tmp/cilium/config-map"],
            ),
            sa="cilium",
            pc=NODE_CRIT,
            host_network=True,
            volumes=[v_cm("cilium-config-path", "cilium-config")],
        ),
        selector={"k8s-app": "cilium"},
        labels=gke,
    )
    k.ds(
        ks,
        "netd",
        ps(
            c("netd", f"{g}/netd:v0.8.1-gke.14"),
            sa="netd",
            pc=NODE_CRIT,
            volumes=[v_cm("netd-config", "netd-config")],
        ),
        selector={"app": "netd"},
        labels=gke,
    )
    k.ds(
        ks,
        "fluentbit-gke",
        ps(
            c("fluentbit", f"{g}/fluent-bit:v1.8.12-gke.40"),
            c("fluentbit-gke", f"{g}/fluent-bit-gke-exporter"),
            sa="fluentbit-gke",
            pc=NODE_CRIT,
            volumes=[v_cm("config-volume", "fluentbit-gke-config-v1.4.0")],
        ),
        selector={"k8s-app": "fluentbit-gke"},
        labels=gke,
    )
    k.ds(
        ks,
        "gke-metrics-agent",
        ps(
            c("gke-metrics-agent", f"{g}/gke-metrics-agent:1.13.0-gke.0"),
            sa="gke-metrics-agent",
            pc=NODE_CRIT,
            volumes=[v_cm("gke-metrics-agent-config-vol", "gke-metrics-agent-conf")],
        ),
        selector={"component": "gke-metrics-agent"},
        labels=gke,
    )
    k.ds(
        ks,
        "pdcsi-node",
        ps(
            c("csi-driver-registrar", f"{g}/csi-node-driver-registrar"),
            c("gce-pd-driver", f"{g}/gcp-compute-persistent-disk-csi-driver"),
            sa="pdcsi-node-sa",
            pc=NODE_CRIT,
        ),
        selector={"k8s-app": "gcp-compute-persistent-disk-csi-driver"},
        labels=gke,
    )
    k.ds(
        ks,
        "pdcsi-node-windows",
        ps(
            c("gce-pd-driver", f"{g}/gcp-compute-persistent-disk-csi-driver"),
            sa="pdcsi-node-sa",
            pc=NODE_CRIT,
        ),
        selector={"k8s-app": "gcp-compute-persistent-disk-csi-driver-windows"},
        labels=gke,
        node_selector={"kubernetes.io/os": "windows"},
    )
    k.ds(
        ks,
        "gcsfusecsi-node",
        ps(
            c("gcs-fuse-csi-driver", f"{g}/gcs-fuse-csi-driver"),
            sa="gcsfusecsi-node-sa",
            pc=NODE_CRIT,
            volumes=[v_cm("image-config", "gcsfusecsi-image-config", True)],
        ),
        selector={"k8s-app": "gcs-fuse-csi-driver"},
        labels=gke,
    )
    k.ds(
        ks,
        "filestore-node",
        ps(
            c("gcp-filestore-driver", f"{g}/gcp-filestore-csi-driver"),
            sa="filestorecsi-node-sa",
            pc=NODE_CRIT,
        ),
        selector={"k8s-app": "gcp-filestore-csi-driver"},
        labels=gke,
    )
    k.ds(
        ks,
        "gke-metadata-server",
        ps(
            c("gke-metadata-server", f"{g}/gke-metadata-server:20241008"),
            sa="gke-metadata-server",
            pc=NODE_CRIT,
            volumes=[v_cm("config", "gke-metadata-server-config", True)],
        ),
        selector={"k8s-app": "gke-metadata-server"},
        labels=gke,
        node_selector={"iam.gke.io/gke-metadata-server-enabled": "true"},
    )
    k.ds(
        ks,
        "node-local-dns",
        ps(
            c("node-cache", f"{g}/k8s-dns-node-cache:1.23.0-gke.1"),
            sa="node-local-dns",
            pc=NODE_CRIT,
            volumes=[
                v_cm("config-volume", "node-local-dns"),
                v_cm("kube-dns-config", "kube-dns", True),
            ],
        ),
        selector={"k8s-app": "node-local-dns"},
        labels=gke,
    )
    k.ds(
        ks,
        "ip-masq-agent",
        ps(
            c("ip-masq-agent", f"{g}/ip-masq-agent:v2.9.3-gke.5"),
            sa="ip-masq-agent",
            pc=NODE_CRIT,
            volumes=[v_cm("config", "ip-masq-agent", True)],
        ),
        selector={"k8s-app": "ip-masq-agent"},
        labels=gke,
    )
    # DaemonSets that fit no node on a CPU-only Autopilot cluster: GPU, TPU, gVisor, metadata.
    for name, sel, sa_name in [
        (
            "nvidia-gpu-device-plugin-small-cos",
            {"cloud.google.com/gke-accelerator": "nvidia-l4"},
            "nvidia-gpu-device-plugin",
        ),
        (
            "nvidia-gpu-device-plugin-medium-cos",
            {"cloud.google.com/gke-accelerator": "nvidia-a100-80gb"},
            "nvidia-gpu-device-plugin",
        ),
        (
            "nvidia-gpu-device-plugin-large-cos",
            {"cloud.google.com/gke-accelerator": "nvidia-h100-80gb"},
            "nvidia-gpu-device-plugin",
        ),
        (
            "nvidia-gpu-device-plugin-small-ubuntu",
            {
                "cloud.google.com/gke-os-distribution": "ubuntu",
                "cloud.google.com/gke-accelerator": "nvidia-l4",
            },
            "nvidia-gpu-device-plugin",
        ),
        (
            "tpu-device-plugin",
            {"cloud.google.com/gke-tpu-accelerator": "tpu-v5-lite-podslice"},
            "tpu-device-plugin",
        ),
        ("runsc-metric-server", {"sandbox.gke.io/runtime": "gvisor"}, "runsc-metric-server"),
        ("metadata-proxy-v0.1", {"cloud.google.com/metadata-proxy-ready": "true"}, "default"),
        (
            "image-package-extractor",
            {"cloud.google.com/gke-image-streaming": "true"},
            "image-package-extractor",
        ),
        (
            "gke-spiffe-node-agent",
            {"security.gke.io/spiffe-enabled": "true"},
            "gke-spiffe-node-agent",
        ),
    ]:
        k.ds(
            ks,
            name,
            ps(c(name, f"{g}/{name}:latest"), sa=sa_name, pc=NODE_CRIT),
            selector={"k8s-app": name},
            labels=gke,
            node_selector={**cos, **sel},
        )
    k.deploy(
        ks,
        "kube-dns",
        ps(
            c("kubedns", f"{g}/k8s-dns-kube-dns:1.23.0-gke.9"),
            c("dnsmasq", f"{g}/k8s-dns-dnsmasq-nanny"),
            c("sidecar", f"{g}/k8s-dns-sidecar"),
            c("prometheus-to-sd", f"{g}/prometheus-to-sd"),
            sa="kube-dns",
            pc=CRIT,
            volumes=[v_cm("kube-dns-config", "kube-dns", True)],
        ),
        selector={"k8s-app": "kube-dns"},
        labels=gke,
        replicas=2,
    )
    k.svc(
        ks,
        "kube-dns",
        {"k8s-app": "kube-dns"},
        ports=[("dns", 53, 53), ("dns-tcp", 53, 53)],
        labels={**gke, "k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true"},
    )
    k.svc(
        ks,
        "kube-dns-upstream",
        {"k8s-app": "kube-dns"},
        ports=[("dns", 53, 53)],
        labels={**gke, "k8s-app": "kube-dns-upstream"},
    )
    k.deploy(
        ks,
        "kube-dns-autoscaler",
        ps(
            c(
                "autoscaler",
                f"{g}/cluster-proportional-autoscaler:v1.8.11-gke.9",
                command=[
                    "/cluster-proportional-autoscaler",
                    "--namespace=kube-system",
                    "--configmap=kube-dns-autoscaler",
                    "--target=Deployment/kube-dns",
                ],
            ),
            sa="kube-dns-autoscaler",
            pc=CRIT,
        ),
        selector={"k8s-app": "kube-dns-autoscaler"},
        labels=gke,
    )
    k.deploy(
        ks,
        "konnectivity-agent",
        ps(
            c("konnectivity-agent", f"{g}/proxy-agent:v0.30.3-gke.1"),
            sa="konnectivity-agent",
            pc=CRIT,
        ),
        selector={"k8s-app": "konnectivity-agent"},
        labels=gke,
        replicas=3,
    )
    k.deploy(
        ks,
        "konnectivity-agent-autoscaler",
        ps(
            c(
                "autoscaler",
                f"{g}/cluster-proportional-autoscaler",
                command=[
                    "/cluster-proportional-autoscaler",
                    "--namespace=kube-system",
                    "--configmap=konnectivity-agent-autoscaler-config",
                    "--target=deployment/konnectivity-agent",
                ],
            ),
            sa="konnectivity-agent-cpha",
            pc=CRIT,
        ),
        selector={"k8s-app": "konnectivity-agent-autoscaler"},
        labels=gke,
    )
    k.deploy(
        ks,
        "metrics-server-v1.31.0",
        ps(
            c("metrics-server", f"{g}/metrics-server:v0.7.1-gke.23"),
            c(
                "metrics-server-nanny",
                f"{g}/addon-resizer:1.8.21-gke.0",
                command=[
                    "/pod_nanny",
                    "--config-dir=/etc/config",
                    "--deployment=metrics-server-v1.31.0",
                ],
            ),
            sa="metrics-server",
            pc=CRIT,
            volumes=[v_cm("metrics-server-config-volume", "metrics-server-config")],
        ),
        selector={"k8s-app": "metrics-server", "version": "v1.31.0"},
        labels=gke,
    )
    k.svc(
        ks,
        "metrics-server",
        {"k8s-app": "metrics-server"},
        ports=[("https", 443, "https")],
        labels=gke,
    )
    k.apiservice("metrics.k8s.io", "v1beta1", (ks, "metrics-server"), labels=gke)
    k.deploy(
        ks,
        "event-exporter-gke",
        ps(c("event-exporter", f"{g}/event-exporter:v0.4.0-gke.17"), sa="event-exporter-sa"),
        selector={"k8s-app": "event-exporter"},
        labels=gke,
    )
    k.deploy(
        ks,
        "l7-default-backend",
        ps(c("default-http-backend", f"{g}/ingress-gce-404-server"), sa="l7-default-backend"),
        selector={"k8s-app": "glbc"},
        labels=gke,
    )
    k.svc(ks, "default-http-backend", {"k8s-app": "glbc"}, type_="NodePort", labels=gke)
    k.deploy(
        ks,
        "egress-nat-controller",
        ps(c("egress-nat-controller", f"{g}/egress-nat-controller"), sa="egress-nat-controller"),
        selector={"k8s-app": "egress-nat-controller"},
        labels=gke,
    )
    k.deploy(
        ks,
        "antrea-controller-horizontal-autoscaler",
        ps(
            c(
                "autoscaler",
                f"{g}/cluster-proportional-autoscaler",
                command=[
                    "/cluster-proportional-autoscaler",
                    "--configmap=antrea-config",
                    "--target=deployment/antrea-controller",
                ],
            ),
            sa="antrea-controller",
        ),
        selector={"k8s-app": "antrea-controller-autoscaler"},
        labels=gke,
        replicas=0,
    )
    k.pdb(ks, "kube-dns", {"k8s-app": "kube-dns"}, labels=gke)
    k.pdb(ks, "konnectivity-agent", {"k8s-app": "konnectivity-agent"}, labels=gke)
    # Autopilot's extra priority classes.
    for name, value in [
        ("gke-critical-daemonset", 1000000),
        ("gke-managed-balloon-pod", -10),
        ("gmp-critical", 1000000000),
    ]:
        k.priorityclass(name, value, labels=gke)
    k.storageclass(
        "standard-rwo",
        "pd.csi.storage.gke.io",
        default=True,
        params={"type": "pd-balanced"},
        labels=gke,
    )
    k.storageclass(
        "standard",
        "kubernetes.io/gce-pd",
        params={"type": "pd-standard"},
        labels=gke,
        binding="Immediate",
    )
    k.storageclass("premium-rwo", "pd.csi.storage.gke.io", params={"type": "pd-ssd"}, labels=gke)
    k.storageclass(
        "standard-rwx", "filestore.csi.storage.gke.io", params={"tier": "standard"}, labels=gke
    )
    k.storageclass(
        "premium-rwx", "filestore.csi.storage.gke.io", params={"tier": "premium"}, labels=gke
    )
    k.storageclass(
        "enterprise-rwx", "filestore.csi.storage.gke.io", params={"tier": "enterprise"}, labels=gke
    )
    k.storageclass(
        "enterprise-multishare-rwx",
        "filestore.csi.storage.gke.io",
        params={"tier": "enterprise", "multishare": "true"},
        labels=gke,
    )
    k.storageclass(
        "zonal-rwx", "filestore.csi.storage.gke.io", params={"tier": "zonal"}, labels=gke
    )

    # gke-managed-cim: kube-state-metrics for the built-in dashboards.
    cim = "gke-managed-cim"
    k.sa(cim, "kube-state-metrics", labels=gke)
    k.sts(
        cim,
        "kube-state-metrics",
        ps(
            c("kube-state-metrics", f"{g}/kube-state-metrics:v2.7.0-gke.64"),
            c("ksm-metrics-collector", f"{g}/gke-metrics-collector"),
            sa="kube-state-metrics",
            pc="gmp-critical",
        ),
        selector={"app.kubernetes.io/name": "gke-managed-kube-state-metrics"},
        labels=gke,
    )
    k.svc(
        cim,
        "kube-state-metrics",
        {"app.kubernetes.io/name": "gke-managed-kube-state-metrics"},
        headless=True,
        labels=gke,
    )
    k.role(cim, "kube-state-metrics", [rule([""], ["pods"], ["get"])], labels=gke)
    k.rb(
        cim,
        "kube-state-metrics",
        "kube-state-metrics",
        [sa_subject(cim, "kube-state-metrics")],
        labels=gke,
    )

    # Google Cloud Managed Service for Prometheus.
    gmp = "gke-gmp-system"
    for name in ("collector", "operator", "rule-evaluator", "alertmanager"):
        k.sa(gmp, name, labels=gke)
    k.clusterrole(
        "gmp-system:collector", [rule([""], ["pods", "nodes", "endpoints"], READ)], labels=gke
    )
    k.clusterrole(
        "gmp-system:operator", [rule(["monitoring.googleapis.com"], ["*"], ALLV)], labels=gke
    )
    k.crb(
        "gmp-system:collector", "gmp-system:collector", [sa_subject(gmp, "collector")], labels=gke
    )
    k.crb("gmp-system:operator", "gmp-system:operator", [sa_subject(gmp, "operator")], labels=gke)
    k.role(
        gmp,
        "operator",
        [rule(["", "apps"], ["secrets", "configmaps", "deployments", "statefulsets"], ALLV)],
        labels=gke,
    )
    k.rb(gmp, "operator", "operator", [sa_subject(gmp, "operator")], labels=gke)
    k.role("gmp-public", "operator", [rule([""], ["secrets"], READ)], labels=gke)
    k.rb("gmp-public", "operator", "operator", [sa_subject(gmp, "operator")], labels=gke)
    k.secret(gmp, "webhook-tls", labels=gke)
    k.deploy(
        gmp,
        "gmp-operator",
        ps(
            c(
                "operator",
                f"{g}/gke-distroless/prometheus-engine/operator:v0.13.1-gke.0",
                args=[
                    "--operator-namespace=gke-gmp-system",
                    "--public-namespace=gmp-public",
                    "--webhook-addr=:10250",
                    "--tls-cert-base64=...",
                    "--tls-key-base64=...",
                ],
            ),
            sa="operator",
            pc="gmp-critical",
        ),
        selector={"app.kubernetes.io/name": "gmp-operator"},
        labels=gke,
    )
    k.svc(
        gmp,
        "gmp-operator",
        {"app.kubernetes.io/name": "gmp-operator"},
        ports=[("webhook", 443, 10250)],
        labels=gke,
    )
    k.webhook(
        "ValidatingWebhookConfiguration",
        "gmp-operator.gke-gmp-system.monitoring.googleapis.com",
        [(gmp, "gmp-operator")],
        labels=gke,
    )
    k.webhook(
        "MutatingWebhookConfiguration",
        "gmp-operator.gke-gmp-system.monitoring.googleapis.com",
        [(gmp, "gmp-operator")],
        labels=gke,
    )
    for name in ("collector", "rule-evaluator", "alertmanager"):
        k.cm(gmp, name, labels=gke)
    k.cm(gmp, "config-images", labels=gke)
    k.cm(gmp, "rules-generated", labels=gke)
    k.secret(gmp, "collection", labels=gke)
    k.secret(gmp, "rules", labels=gke)
    k.secret(gmp, "alertmanager", labels=gke)
    k.ds(
        gmp,
        "collector",
        ps(
            c("prometheus", f"{g}/gke-distroless/prometheus-engine/prometheus:v2.45.3-gmp.9-gke.0"),
            c("config-reloader", f"{g}/gke-distroless/prometheus-engine/config-reloader"),
            sa="collector",
            pc="gmp-critical",
            volumes=[
                v_cm("config", "collector"),
                v_secret("collection-secret", "collection"),
                v_empty("storage"),
            ],
        ),
        selector={"app.kubernetes.io/name": "collector"},
        labels=gke,
    )
    # The rule-evaluator and alertmanager are kept at zero replicas until the user adds Rules.
    k.deploy(
        gmp,
        "rule-evaluator",
        ps(
            c("evaluator", f"{g}/gke-distroless/prometheus-engine/rule-evaluator"),
            c("config-reloader", f"{g}/gke-distroless/prometheus-engine/config-reloader"),
            sa="rule-evaluator",
            pc="gmp-critical",
            volumes=[
                v_cm("config", "rule-evaluator"),
                v_cm("rules", "rules-generated"),
                v_secret("rules-secret", "rules"),
            ],
        ),
        selector={"app.kubernetes.io/name": "rule-evaluator"},
        labels=gke,
        replicas=0,
    )
    k.sts(
        gmp,
        "alertmanager",
        ps(
            c("alertmanager", f"{g}/gke-distroless/prometheus-engine/alertmanager"),
            sa="alertmanager",
            pc="gmp-critical",
            volumes=[v_secret("config", "alertmanager"), v_empty("alertmanager-data")],
        ),
        selector={"app": "managed-prometheus-alertmanager"},
        labels=gke,
        replicas=0,
    )
    k.svc(
        gmp, "alertmanager", {"app": "managed-prometheus-alertmanager"}, headless=True, labels=gke
    )
    k.svc(gmp, "rule-evaluator", {"app.kubernetes.io/name": "rule-evaluator"}, labels=gke)
    for plural, kind, scope in [
        ("podmonitorings", "PodMonitoring", "Namespaced"),
        ("clusterpodmonitorings", "ClusterPodMonitoring", "Cluster"),
        ("clusternodemonitorings", "ClusterNodeMonitoring", "Cluster"),
        ("rules", "Rules", "Namespaced"),
        ("clusterrules", "ClusterRules", "Cluster"),
        ("globalrules", "GlobalRules", "Cluster"),
        ("operatorconfigs", "OperatorConfig", "Namespaced"),
    ]:
        k.crd(
            plural,
            "monitoring.googleapis.com",
            kind,
            versions=("v1alpha1", "v1"),
            scope=scope,
            labels=gke,
        )
    k.cr("monitoring.googleapis.com/v1", "OperatorConfig", "config", "gmp-public")

    # GKE's own CRDs: most have no instance on a fresh cluster.
    for plural, grp, kind, inst in [
        ("allowlistedworkloads", "auto.gke.io", "AllowlistedWorkload", True),
        ("allowlistedv2workloads", "auto.gke.io", "AllowlistedV2Workload", True),
        ("allowlistsynchronizers", "auto.gke.io", "AllowlistSynchronizer", False),
        ("workloadallowlists", "auto.gke.io", "WorkloadAllowlist", False),
        ("computeclasses", "cloud.google.com", "ComputeClass", True),
        ("backendconfigs", "cloud.google.com", "BackendConfig", False),
        ("frontendconfigs", "networking.gke.io", "FrontendConfig", False),
        ("managedcertificates", "networking.gke.io", "ManagedCertificate", False),
        ("serviceattachments", "networking.gke.io", "ServiceAttachment", False),
        ("servicenetworkendpointgroups", "networking.gke.io", "ServiceNetworkEndpointGroup", False),
        ("gcpbackendpolicies", "networking.gke.io", "GCPBackendPolicy", False),
        ("gcpgatewaypolicies", "networking.gke.io", "GCPGatewayPolicy", False),
        ("healthcheckpolicies", "networking.gke.io", "HealthCheckPolicy", False),
        ("redirectservices", "networking.gke.io", "RedirectService", False),
        ("networks", "networking.gke.io", "Network", True),
        ("gkenetworkparamsets", "networking.gke.io", "GKENetworkParamSet", False),
        ("networkloggings", "networking.gke.io", "NetworkLogging", True),
        ("fqdnnetworkpolicies", "networking.gke.io", "FQDNNetworkPolicy", False),
        ("egressnatpolicies", "networking.gke.io", "EgressNATPolicy", True),
        ("updateinfos", "nodemanagement.gke.io", "UpdateInfo", False),
        ("memberships", "hub.gke.io", "Membership", False),
        ("capacityrequests", "internal.autoscaling.gke.io", "CapacityRequest", False),
        ("provisioningrequests", "autoscaling.x-k8s.io", "ProvisioningRequest", False),
        ("audits", "warden.gke.io", "Audit", False),
        ("ciliumnodes", "cilium.io", "CiliumNode", True),
        ("ciliumidentities", "cilium.io", "CiliumIdentity", True),
        ("ciliumendpoints", "cilium.io", "CiliumEndpoint", True),
        ("ciliumclusterwidenetworkpolicies", "cilium.io", "CiliumClusterwideNetworkPolicy", False),
        ("ciliumnetworkpolicies", "cilium.io", "CiliumNetworkPolicy", False),
        ("gatewayclasses", "gateway.networking.k8s.io", "GatewayClass", True),
        ("gateways", "gateway.networking.k8s.io", "Gateway", False),
        ("httproutes", "gateway.networking.k8s.io", "HTTPRoute", False),
        ("grpcroutes", "gateway.networking.k8s.io", "GRPCRoute", False),
        ("referencegrants", "gateway.networking.k8s.io", "ReferenceGrant", False),
        ("volumesnapshotclasses", "snapshot.storage.k8s.io", "VolumeSnapshotClass", False),
        ("volumesnapshotcontents", "snapshot.storage.k8s.io", "VolumeSnapshotContent", False),
        ("volumesnapshots", "snapshot.storage.k8s.io", "VolumeSnapshot", False),
    ]:
        k.crd(
            plural,
            grp,
            kind,
            versions=("v1beta1", "v1"),
            labels=gke,
            scope="Cluster"
            if kind in ("ComputeClass", "GatewayClass", "Network", "CiliumNode")
            else "Namespaced",
        )
        if inst:
            for i in range(2):
                k.cr(
                    f"{grp}/v1",
                    kind,
                    f"{kind.lower()}-{i}",
                    None
                    if kind in ("ComputeClass", "GatewayClass", "Network", "CiliumNode")
                    else ks,
                )
    return k


def suffix_(i: int) -> str:
    return ["8f2a1c0d-xk2p", "8f2a1c0d-r7mq", "3b1e9f44-zz9w"][i]


# ----------------------------------------------------------------------------------------
# AKS 1.31, Azure CNI Overlay powered by Cilium, Workload Identity, KEDA, Azure Policy,
# Container Insights (ama-logs)
# ----------------------------------------------------------------------------------------
def aks(created: timedelta = FRESH) -> Cluster:
    k = Cluster("aks", created)
    for i in range(3):
        pool = "system" if i < 2 else "user"
        k.node(
            f"aks-{pool}-31415926-vmss00000{i}",
            {
                "agentpool": pool,
                "kubernetes.azure.com/agentpool": pool,
                "kubernetes.azure.com/cluster": "MC_prod-rg_prod_eastus",
                "kubernetes.azure.com/mode": "system" if pool == "system" else "user",
                "kubernetes.azure.com/os-sku": "AzureLinux",
                "kubernetes.azure.com/network-policy": "cilium",
                "kubernetes.azure.com/ebpf-dataplane": "cilium",
                "kubernetes.azure.com/azure-cni-overlay": "true",
                "kubernetes.azure.com/node-image-version": "AKSAzureLinux-V2gen2-202411.12.0",
                "kubernetes.azure.com/role": "agent",
                "node.kubernetes.io/instance-type": "Standard_D4ds_v5",
                "topology.kubernetes.io/region": "eastus",
                "topology.kubernetes.io/zone": f"eastus-{i + 1}",
                "topology.disk.csi.azure.com/zone": f"eastus-{i + 1}",
            },
            "azure:///subscriptions/0000/resourceGroups/mc_prod-rg_prod_eastus/providers/"
            f"Microsoft.Compute/virtualMachineScaleSets/aks-{pool}-31415926-vmss/virtualMachines/{i}",
            "4",
            "16Gi",
        )
    bootstrap(k)
    ks = "kube-system"
    aksl = {"kubernetes.azure.com/managedby": "aks", "addonmanager.kubernetes.io/mode": "Reconcile"}
    mcr = "mcr.microsoft.com"

    k.cm(ks, "coredns", labels=aksl)
    k.cm(
        ks,
        "coredns-custom",
        labels={"addonmanager.kubernetes.io/mode": "EnsureExists", "k8s-app": "kube-dns"},
    )
    k.cm(ks, "coredns-autoscaler", labels=aksl)
    k.cm(ks, "azure-ip-masq-agent-config-reconciled", labels=aksl)
    k.cm(ks, "cilium-config", labels=aksl)
    k.cm(ks, "azure-cns-config", labels=aksl)
    k.cm(ks, "ama-logs-rs-config", labels=aksl)
    k.cm(ks, "ama-logs-config-map", labels=aksl)
    k.cm(ks, "overlay-upgrade-data", labels=aksl)
    k.cm(ks, "konnectivity-agent-autoscaler", labels=aksl)
    k.cm(ks, "cluster-autoscaler-status", data={"status": "..."})
    k.cm(ks, "azure-wi-webhook-config", labels=aksl)
    k.cm(ks, "cloud-node-manager-config", labels=aksl)

    for name in (
        "coredns",
        "coredns-autoscaler",
        "konnectivity-agent",
        "cilium",
        "cilium-operator",
        "azure-cns",
        "azure-ip-masq-agent",
        "cloud-node-manager",
        "csi-azuredisk-node-sa",
        "csi-azurefile-node-sa",
        "ama-logs",
        "azure-policy",
        "azure-policy-webhook-account",
        "azure-wi-webhook-admin",
        "keda-operator",
        "keda-metrics-server",
        "keda-webhook",
        "metrics-server",
        "hubble-relay",
        "hubble-generate-certs",
        "csi-azuredisk-controller-sa",
    ):
        k.sa(ks, name, labels=aksl)
    for name in (
        "system:coredns",
        "system:coredns-autoscaler",
        "cilium",
        "cilium-operator",
        "azure-cns",
        "system:azure-cloud-provider",
        "system:azure-cloud-provider-secret-getter",
        "cloud-node-manager",
        "csi-azuredisk-node-role",
        "csi-azurefile-node-secret-role",
        "ama-logs-reader",
        "policy-agent",
        "azure-policy-webhook-cluster-role",
        "azure-wi-webhook-manager-role",
        "keda-operator",
        "keda-operator-external-metrics-reader",
        "system:metrics-server",
        "aks-service",
        "hubble-relay",
        "acr-pull-secret-reader",
        "system:prometheus",
        "aks-cluster-admin-role",
    ):
        k.clusterrole(name, [rule(["*"], ["*"], READ)], labels=aksl)
    for name, role, subj in [
        ("system:coredns", "system:coredns", sa_subject(ks, "coredns")),
        (
            "system:coredns-autoscaler",
            "system:coredns-autoscaler",
            sa_subject(ks, "coredns-autoscaler"),
        ),
        ("cilium", "cilium", sa_subject(ks, "cilium")),
        ("cilium-operator", "cilium-operator", sa_subject(ks, "cilium-operator")),
        ("azure-cns", "azure-cns", sa_subject(ks, "azure-cns")),
        (
            "system:azure-cloud-provider",
            "system:azure-cloud-provider",
            sa_subject(ks, "azure-cloud-provider"),
        ),
        (
            "system:azure-cloud-provider-secret-getter",
            "system:azure-cloud-provider-secret-getter",
            sa_subject(ks, "persistent-volume-binder"),
        ),
        ("cloud-node-manager", "cloud-node-manager", sa_subject(ks, "cloud-node-manager")),
        (
            "csi-azuredisk-node-role-binding",
            "csi-azuredisk-node-role",
            sa_subject(ks, "csi-azuredisk-node-sa"),
        ),
        (
            "csi-azurefile-node-secret-binding",
            "csi-azurefile-node-secret-role",
            sa_subject(ks, "csi-azurefile-node-sa"),
        ),
        ("amareadonlyclusterrolebinding", "ama-logs-reader", sa_subject(ks, "ama-logs")),
        ("policy-agent", "policy-agent", sa_subject(ks, "azure-policy")),
        (
            "azure-policy-webhook-cluster-rolebinding",
            "azure-policy-webhook-cluster-role",
            sa_subject(ks, "azure-policy-webhook-account"),
        ),
        (
            "azure-wi-webhook-manager-rolebinding",
            "azure-wi-webhook-manager-role",
            sa_subject(ks, "azure-wi-webhook-admin"),
        ),
        ("keda-operator", "keda-operator", sa_subject(ks, "keda-operator")),
        (
            "keda-hpa-controller-external-metrics",
            "keda-operator-external-metrics-reader",
            sa_subject(ks, "horizontal-pod-autoscaler"),
        ),
        (
            "keda-system-auth-delegator",
            "system:auth-delegator",
            sa_subject(ks, "keda-metrics-server"),
        ),
        ("system:metrics-server", "system:metrics-server", sa_subject(ks, "metrics-server")),
        ("aks-service-rolebinding", "aks-service", user("aks-support")),
        ("hubble-relay", "hubble-relay", sa_subject(ks, "hubble-relay")),
        ("acr-pull-secret-reader", "acr-pull-secret-reader", user("aks-acrpull")),
        ("system:prometheus", "system:prometheus", sa_subject(ks, "ama-metrics-serviceaccount")),
        ("aks-cluster-admin-binding", "cluster-admin", user("clusterAdmin")),
        (
            "aks-cluster-admin-binding-aad",
            "cluster-admin",
            group("8f3c0000-0000-0000-0000-aadadmins"),
        ),
    ]:
        k.crb(name, role, [subj], labels=aksl)
    k.rb(
        ks,
        "keda-auth-reader",
        "extension-apiserver-authentication-reader",
        [sa_subject(ks, "keda-metrics-server")],
        labels=aksl,
    )
    k.rb(
        ks,
        "metrics-server-auth-reader",
        "extension-apiserver-authentication-reader",
        [sa_subject(ks, "metrics-server")],
        labels=aksl,
    )
    k.role(
        ks,
        "azure-wi-webhook-manager-role",
        [rule([""], ["secrets"], ["get", "list", "watch", "update"])],
        labels=aksl,
    )
    k.rb(
        ks,
        "azure-wi-webhook-manager-rolebinding",
        "azure-wi-webhook-manager-role",
        [sa_subject(ks, "azure-wi-webhook-admin")],
        labels=aksl,
    )
    k.role(ks, "cilium-config-agent", [rule([""], ["configmaps"], READ)], labels=aksl)
    k.rb(ks, "cilium-config-agent", "cilium-config-agent", [sa_subject(ks, "cilium")], labels=aksl)
    k.role(ks, "hubble-generate-certs", [rule([""], ["secrets"], ALLV)], labels=aksl)
    k.rb(
        ks,
        "hubble-generate-certs",
        "hubble-generate-certs",
        [sa_subject(ks, "hubble-generate-certs")],
        labels=aksl,
    )

    for name in (
        "konnectivity-certs",
        "ama-logs-secret",
        "azure-wi-webhook-server-cert",
        "kedaorg-certs",
        "azure-policy-webhook-cert",
        "hubble-relay-client-certs",
        "hubble-server-certs",
        "cilium-ca",
        "azure-cns-certs",
    ):
        k.secret(ks, name, "kubernetes.io/tls" if "cert" in name else "Opaque", labels=aksl)
    k.secret(ks, "bootstrap-token-a1b2c3", "bootstrap.kubernetes.io/token")

    k.deploy(
        ks,
        "coredns",
        ps(
            c(
                "coredns",
                f"{mcr}/oss/kubernetes/coredns:v1.11.3-1",
                args=["-conf", "/etc/coredns/Corefile"],
            ),
            sa="coredns",
            pc=CRIT,
            volumes=[
                v_cm("config-volume", "coredns"),
                v_cm("custom-config-volume", "coredns-custom", True),
            ],
        ),
        selector={"k8s-app": "kube-dns", "version": "v20"},
        labels=aksl,
        replicas=2,
    )
    k.svc(
        ks,
        "kube-dns",
        {"k8s-app": "kube-dns"},
        ports=[("dns", 53, 53), ("dns-tcp", 53, 53)],
        labels={**aksl, "k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true"},
    )
    k.pdb(ks, "coredns-pdb", {"k8s-app": "kube-dns"}, labels=aksl)
    k.deploy(
        ks,
        "coredns-autoscaler",
        ps(
            c(
                "autoscaler",
                f"{mcr}/oss/kubernetes/autoscaler/cluster-proportional-autoscaler:v1.8.11",
                command=[
                    "/cluster-proportional-autoscaler",
                    "--namespace=kube-system",
                    "--configmap=coredns-autoscaler",
                    "--target=deployment/coredns",
                ],
            ),
            sa="coredns-autoscaler",
            pc=CRIT,
        ),
        selector={"k8s-app": "coredns-autoscaler"},
        labels=aksl,
    )
    k.deploy(
        ks,
        "konnectivity-agent",
        ps(
            c("konnectivity-agent", f"{mcr}/oss/kubernetes/apiserver-network-proxy/agent:v0.30.3"),
            sa="konnectivity-agent",
            pc=CRIT,
            volumes=[v_secret("certs", "konnectivity-certs")],
        ),
        selector={"app": "konnectivity-agent"},
        labels=aksl,
        replicas=2,
    )
    k.pdb(ks, "konnectivity-agent", {"app": "konnectivity-agent"}, labels=aksl)
    k.deploy(
        ks,
        "konnectivity-agent-autoscaler",
        ps(
            c(
                "autoscaler",
                f"{mcr}/oss/kubernetes/autoscaler/cluster-proportional-autoscaler",
                command=[
                    "/cluster-proportional-autoscaler",
                    "--configmap=konnectivity-agent-autoscaler",
                    "--target=deployment/konnectivity-agent",
                ],
            ),
            sa="konnectivity-agent",
            pc=CRIT,
        ),
        selector={"app": "konnectivity-agent-autoscaler"},
        labels=aksl,
    )
    k.deploy(
        ks,
        "metrics-server",
        ps(
            c("metrics-server", f"{mcr}/oss/kubernetes/metrics-server:v0.7.2"),
            c(
                "metrics-server-vpa",
                f"{mcr}/oss/kubernetes/autoscaler/addon-resizer:1.8.22",
                command=["/pod_nanny", "--config-dir=/etc/config", "--deployment=metrics-server"],
            ),
            sa="metrics-server",
            pc=CRIT,
            volumes=[v_cm("metrics-server-config-volume", "metrics-server-config")],
        ),
        selector={"k8s-app": "metrics-server"},
        labels=aksl,
        replicas=2,
    )
    k.cm(ks, "metrics-server-config", labels=aksl)
    k.svc(
        ks,
        "metrics-server",
        {"k8s-app": "metrics-server"},
        ports=[("https", 443, "https")],
        labels=aksl,
    )
    k.pdb(ks, "metrics-server-pdb", {"k8s-app": "metrics-server"}, labels=aksl)
    k.apiservice("metrics.k8s.io", "v1beta1", (ks, "metrics-server"), labels=aksl)

    # Cilium dataplane.
    k.ds(
        ks,
        "cilium",
        ps(
            c(
                "cilium-agent",
                f"{mcr}/containernetworking/cilium/cilium:v1.14.15-241024",
                command=["cilium-agent"],
                args=["--config-dir=/tmp/cilium/config-map"],
            ),
            init=[
                c("install-cni-binaries", f"{mcr}/containernetworking/cilium/cilium:v1.14.15"),
                c("mount-cgroup", f"{mcr}/containernetworking/cilium/cilium:v1.14.15"),
            ],
            sa="cilium",
            pc=NODE_CRIT,
            host_network=True,
            volumes=[
                v_cm("cilium-config-path", "cilium-config"),
                v_host("bpf-maps", "/sys/fs/bpf"),
                {
                    "name": "hubble-tls",
                    "projected": {
                        "sources": [{"secret": {"name": "hubble-server-certs", "optional": True}}]
                    },
                },
            ],
        ),
        selector={"k8s-app": "cilium"},
        labels=aksl,
    )
    k.deploy(
        ks,
        "cilium-operator",
        ps(
            c(
                "cilium-operator",
                f"{mcr}/containernetworking/cilium/operator-generic:v1.14.15",
                args=["--config-dir=/tmp/cilium/config-map"],
                env=[env_cm("CILIUM_K8S_NAMESPACE", "cilium-config", "k8s-namespace", True)],
            ),
            sa="cilium-operator",
            pc=CRIT,
            host_network=True,
            volumes=[v_cm("cilium-config-path", "cilium-config")],
        ),
        selector={"io.cilium/app": "operator", "name": "cilium-operator"},
        labels=aksl,
        replicas=2,
    )
    k.deploy(
        ks,
        "hubble-relay",
        ps(
            c("hubble-relay", f"{mcr}/oss/cilium/hubble-relay:v1.14.15"),
            sa="hubble-relay",
            pc=CRIT,
            volumes=[
                {
                    "name": "tls",
                    "projected": {"sources": [{"secret": {"name": "hubble-relay-client-certs"}}]},
                },
                v_cm("config", "hubble-relay-config"),
            ],
        ),
        selector={"k8s-app": "hubble-relay"},
        labels=aksl,
    )
    k.cm(ks, "hubble-relay-config", labels=aksl)
    k.svc(ks, "hubble-relay", {"k8s-app": "hubble-relay"}, ports=[("grpc", 443, 4245)], labels=aksl)
    k.svc(ks, "hubble-peer", {"k8s-app": "cilium"}, ports=[("peer", 443, 4244)], labels=aksl)
    k.ds(
        ks,
        "azure-cns",
        ps(
            c("cns-container", f"{mcr}/containernetworking/azure-cns:v1.6.13"),
            sa="azure-cns",
            pc=NODE_CRIT,
            host_network=True,
            volumes=[
                v_cm("cns-config", "azure-cns-config"),
                v_secret("cns-certs", "azure-cns-certs", True),
            ],
            init=[c("cni-installer", f"{mcr}/containernetworking/azure-cni:v1.6.13")],
        ),
        selector={"k8s-app": "azure-cns"},
        labels=aksl,
    )
    k.ds(
        ks,
        "azure-cns-win",
        ps(
            c("cns-container", f"{mcr}/containernetworking/azure-cns:v1.6.13"),
            sa="azure-cns",
            volumes=[v_cm("cns-config", "azure-cns-config")],
        ),
        selector={"k8s-app": "azure-cns-win"},
        labels=aksl,
        node_selector={"kubernetes.io/os": "windows"},
    )
    k.ds(
        ks,
        "azure-ip-masq-agent",
        ps(
            c("azure-ip-masq-agent", f"{mcr}/aks/ip-masq-agent-v2:v0.1.14"),
            sa="azure-ip-masq-agent",
            pc=NODE_CRIT,
            host_network=True,
            volumes=[
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
        selector={"k8s-app": "azure-ip-masq-agent"},
        labels=aksl,
    )
    k.ds(
        ks,
        "cloud-node-manager",
        ps(
            c("cloud-node-manager", f"{mcr}/oss/kubernetes/azure-cloud-node-manager:v1.31.1"),
            sa="cloud-node-manager",
            pc=NODE_CRIT,
            host_network=True,
            volumes=[v_cm("config", "cloud-node-manager-config", True)],
        ),
        selector={"k8s-app": "cloud-node-manager"},
        labels=aksl,
    )
    k.ds(
        ks,
        "cloud-node-manager-windows",
        ps(
            c(
                "cloud-node-manager",
                f"{mcr}/oss/kubernetes/azure-cloud-node-manager:v1.31.1-windows",
            ),
            sa="cloud-node-manager",
            pc=NODE_CRIT,
        ),
        selector={"k8s-app": "cloud-node-manager-windows"},
        labels=aksl,
        node_selector={"kubernetes.io/os": "windows"},
    )
    for drv, sa_name in [
        ("csi-azuredisk-node", "csi-azuredisk-node-sa"),
        ("csi-azurefile-node", "csi-azurefile-node-sa"),
    ]:
        spec = ps(
            c(drv.split("-")[1], f"{mcr}/oss/kubernetes-csi/{drv}:v1.31.0"),
            c("node-driver-registrar", f"{mcr}/oss/kubernetes-csi/csi-node-driver-registrar"),
            sa=sa_name,
            pc=NODE_CRIT,
            host_network=True,
        )
        k.ds(ks, drv, spec, selector={"app": drv}, labels=aksl)
        k.ds(
            ks,
            f"{drv}-win",
            spec,
            selector={"app": f"{drv}-win"},
            labels=aksl,
            node_selector={"kubernetes.io/os": "windows"},
        )

    # Container Insights.
    k.ds(
        ks,
        "ama-logs",
        ps(
            c(
                "ama-logs",
                f"{mcr}/azuremonitor/containerinsights/ciprod:3.1.24",
                env=[env_secret("AKS_REGION", "ama-logs-secret", "region", True)],
            ),
            c("ama-logs-prometheus", f"{mcr}/azuremonitor/containerinsights/ciprod:3.1.24"),
            sa="ama-logs",
            pc=NODE_CRIT,
            volumes=[
                v_secret("ama-logs-secret", "ama-logs-secret"),
                v_cm("settings-vol-config", "container-azm-ms-agentconfig", True),
                v_cm("ama-logs-adx-secret", "ama-logs-config-map", True),
                v_secret("ama-logs-adx", "ama-logs-secret-adx", True),
            ],
        ),
        selector={"component": "ama-logs-agent", "tier": "node"},
        labels=aksl,
    )
    k.ds(
        ks,
        "ama-logs-windows",
        ps(
            c("ama-logs-windows", f"{mcr}/azuremonitor/containerinsights/ciprod:win-3.1.24"),
            sa="ama-logs",
            pc=NODE_CRIT,
            volumes=[v_secret("ama-logs-secret", "ama-logs-secret")],
        ),
        selector={"component": "ama-logs-agent-windows", "tier": "node-win"},
        labels=aksl,
        node_selector={"kubernetes.io/os": "windows"},
    )
    k.deploy(
        ks,
        "ama-logs-rs",
        ps(
            c("ama-logs", f"{mcr}/azuremonitor/containerinsights/ciprod:3.1.24"),
            sa="ama-logs",
            pc=CRIT,
            volumes=[
                v_secret("ama-logs-secret", "ama-logs-secret"),
                v_cm("ama-logs-rs-config", "ama-logs-rs-config"),
                v_cm("settings-vol-config", "container-azm-ms-agentconfig", True),
            ],
        ),
        selector={"rsName": "ama-logs-rs"},
        labels=aksl,
    )

    # Workload Identity webhook.
    wi_sel = {"azure-workload-identity.io/system": "true"}
    k.deploy(
        ks,
        "azure-wi-webhook-controller-manager",
        ps(
            c(
                "manager",
                f"{mcr}/oss/azure/workload-identity/webhook:v1.3.0",
                args=["--log-level=info", "--disable-cert-rotation=false"],
                env_from=[{"configMapRef": {"name": "azure-wi-webhook-config"}}],
            ),
            sa="azure-wi-webhook-admin",
            pc=CRIT,
            volumes=[v_secret("cert", "azure-wi-webhook-server-cert")],
        ),
        selector=wi_sel,
        labels=aksl,
        replicas=2,
    )
    k.svc(ks, "azure-wi-webhook-webhook-service", wi_sel, ports=[("https", 443, 9443)], labels=aksl)
    k.webhook(
        "MutatingWebhookConfiguration",
        "azure-wi-webhook-mutating-webhook-configuration",
        [(ks, "azure-wi-webhook-webhook-service")],
        labels=aksl,
    )
    k.pdb(ks, "azure-wi-webhook-controller-manager", wi_sel, labels=aksl)

    # KEDA add-on.
    for name, sel, sa_name in [
        ("keda-operator", {"app": "keda-operator"}, "keda-operator"),
        (
            "keda-operator-metrics-apiserver",
            {"app": "keda-operator-metrics-apiserver"},
            "keda-metrics-server",
        ),
        ("keda-admission-webhooks", {"app": "keda-admission-webhooks"}, "keda-webhook"),
    ]:
        k.deploy(
            ks,
            name,
            ps(
                c(
                    name,
                    f"{mcr}/aks/keda/{name}:2.15.1",
                    args=["--cert-dir=/certs"],
                    env=[env_field("WATCH_NAMESPACE", "metadata.namespace")],
                ),
                sa=sa_name,
                pc=CRIT,
                volumes=[v_secret("certificates", "kedaorg-certs")],
            ),
            selector=sel,
            labels={**aksl, "app.kubernetes.io/part-of": "keda-operator"},
        )
    k.svc(
        ks,
        "keda-operator",
        {"app": "keda-operator"},
        ports=[("metricsservice", 9666, 9666)],
        labels=aksl,
    )
    k.svc(
        ks,
        "keda-operator-metrics-apiserver",
        {"app": "keda-operator-metrics-apiserver"},
        ports=[("https", 443, 6443)],
        labels=aksl,
    )
    k.svc(
        ks,
        "keda-admission-webhooks",
        {"app": "keda-admission-webhooks"},
        ports=[("https", 443, 9443)],
        labels=aksl,
    )
    k.apiservice(
        "external.metrics.k8s.io", "v1beta1", (ks, "keda-operator-metrics-apiserver"), labels=aksl
    )
    k.webhook(
        "ValidatingWebhookConfiguration",
        "keda-admission",
        [(ks, "keda-admission-webhooks")] * 3,
        labels=aksl,
    )
    for plural, kind in [
        ("scaledobjects", "ScaledObject"),
        ("scaledjobs", "ScaledJob"),
        ("triggerauthentications", "TriggerAuthentication"),
        ("clustertriggerauthentications", "ClusterTriggerAuthentication"),
        ("cloudeventsources", "CloudEventSource"),
        ("clustercloudeventsources", "ClusterCloudEventSource"),
    ]:
        k.crd(
            plural,
            "keda.sh" if "event" not in plural else "eventing.keda.sh",
            kind,
            versions=("v1alpha1",),
            labels={"app.kubernetes.io/part-of": "keda-operator", **aksl},
        )

    # Azure Policy add-on (Gatekeeper).
    gk = "gatekeeper-system"
    k.namespace(
        gk,
        labels={
            "admission.gatekeeper.sh/ignore": "no-self-managing",
            "control-plane": "controller-manager",
            **aksl,
        },
    )
    k.deploy(
        ks,
        "azure-policy",
        ps(
            c("azure-policy", f"{mcr}/azure-policy/policy-kubernetes-addon-prod:1.8.0"),
            sa="azure-policy",
            pc=CRIT,
        ),
        selector={"app": "azure-policy"},
        labels=aksl,
    )
    k.deploy(
        ks,
        "azure-policy-webhook",
        ps(
            c("azure-policy-webhook", f"{mcr}/azure-policy/policy-kubernetes-webhook:1.8.0"),
            sa="azure-policy-webhook-account",
            pc=CRIT,
            volumes=[v_secret("cert", "azure-policy-webhook-cert")],
        ),
        selector={"app": "azure-policy-webhook"},
        labels=aksl,
    )
    k.svc(
        ks,
        "azure-policy-webhook-service",
        {"app": "azure-policy-webhook"},
        ports=[("https", 443, 9443)],
        labels=aksl,
    )
    k.webhook(
        "MutatingWebhookConfiguration",
        "azure-policy-mutating-webhook-configuration",
        [(ks, "azure-policy-webhook-service")],
        labels=aksl,
    )
    for name in ("gatekeeper-admin",):
        k.sa(gk, name, labels=aksl)
    k.clusterrole("gatekeeper-manager-role", [rule(["*"], ["*"], ALLV)], labels=aksl)
    k.crb(
        "gatekeeper-manager-rolebinding",
        "gatekeeper-manager-role",
        [sa_subject(gk, "gatekeeper-admin")],
        labels=aksl,
    )
    k.role(gk, "gatekeeper-manager-role", [rule([""], ["secrets"], ALLV)], labels=aksl)
    k.rb(
        gk,
        "gatekeeper-manager-rolebinding",
        "gatekeeper-manager-role",
        [sa_subject(gk, "gatekeeper-admin")],
        labels=aksl,
    )
    k.secret(gk, "gatekeeper-webhook-server-cert", labels=aksl)
    gk_img = f"{mcr}/oss/open-policy-agent/gatekeeper:v3.17.1"
    k.deploy(
        gk,
        "gatekeeper-audit",
        ps(
            c(
                "manager",
                gk_img,
                args=["--operation=audit", "--operation=status", "--disable-cert-rotation"],
            ),
            sa="gatekeeper-admin",
            pc=CRIT,
            volumes=[v_secret("cert", "gatekeeper-webhook-server-cert"), v_empty("tmp-volume")],
        ),
        selector={"control-plane": "audit-controller", "gatekeeper.sh/operation": "audit"},
        labels=aksl,
    )
    k.deploy(
        gk,
        "gatekeeper-controller",
        ps(
            c(
                "manager",
                gk_img,
                args=["--port=8443", "--operation=webhook", "--operation=mutation-webhook"],
            ),
            sa="gatekeeper-admin",
            pc=CRIT,
            volumes=[v_secret("cert", "gatekeeper-webhook-server-cert")],
        ),
        selector={"control-plane": "controller-manager", "gatekeeper.sh/operation": "webhook"},
        labels=aksl,
        replicas=2,
    )
    k.svc(
        gk,
        "gatekeeper-webhook-service",
        {"control-plane": "controller-manager", "gatekeeper.sh/operation": "webhook"},
        ports=[("https-webhook-server", 443, "webhook-server")],
        labels=aksl,
    )
    k.pdb(
        gk,
        "gatekeeper-controller",
        {"control-plane": "controller-manager", "gatekeeper.sh/operation": "webhook"},
        labels=aksl,
    )
    k.webhook(
        "ValidatingWebhookConfiguration",
        "gatekeeper-validating-webhook-configuration",
        [(gk, "gatekeeper-webhook-service")] * 2,
        labels=aksl,
    )
    k.webhook(
        "MutatingWebhookConfiguration",
        "gatekeeper-mutating-webhook-configuration",
        [(gk, "gatekeeper-webhook-service")],
        labels=aksl,
    )
    for plural, grp, kind, inst in [
        ("constrainttemplates", "templates.gatekeeper.sh", "ConstraintTemplate", False),
        ("configs", "config.gatekeeper.sh", "Config", True),
        ("assign", "mutations.gatekeeper.sh", "Assign", False),
        ("assignmetadata", "mutations.gatekeeper.sh", "AssignMetadata", False),
        ("assignimage", "mutations.gatekeeper.sh", "AssignImage", False),
        ("modifyset", "mutations.gatekeeper.sh", "ModifySet", False),
        ("providers", "externaldata.gatekeeper.sh", "Provider", False),
        ("expansiontemplate", "expansion.gatekeeper.sh", "ExpansionTemplate", False),
        ("syncsets", "syncset.gatekeeper.sh", "SyncSet", False),
        ("constraintpodstatuses", "status.gatekeeper.sh", "ConstraintPodStatus", False),
        (
            "constrainttemplatepodstatuses",
            "status.gatekeeper.sh",
            "ConstraintTemplatePodStatus",
            False,
        ),
        ("mutatorpodstatuses", "status.gatekeeper.sh", "MutatorPodStatus", False),
        ("configpodstatuses", "status.gatekeeper.sh", "ConfigPodStatus", True),
    ]:
        k.crd(
            plural,
            grp,
            kind,
            versions=("v1beta1", "v1"),
            labels={"gatekeeper.sh/system": "yes", **aksl},
        )
        if inst:
            k.cr(f"{grp}/v1", kind, "config" if kind == "Config" else "gatekeeper-audit-config", gk)

    # Azure CNS / Cilium CRDs.
    for plural, grp, kind, inst in [
        ("nodenetworkconfigs", "acn.azure.com", "NodeNetworkConfig", True),
        ("multitenantpodnetworkconfigs", "acn.azure.com", "MultitenantPodNetworkConfig", False),
        ("podnetworkinstances", "acn.azure.com", "PodNetworkInstance", False),
        ("ciliumnodes", "cilium.io", "CiliumNode", True),
        ("ciliumidentities", "cilium.io", "CiliumIdentity", True),
        ("ciliumendpoints", "cilium.io", "CiliumEndpoint", True),
        ("ciliumnetworkpolicies", "cilium.io", "CiliumNetworkPolicy", False),
        ("ciliumclusterwidenetworkpolicies", "cilium.io", "CiliumClusterwideNetworkPolicy", False),
        ("ciliumexternalworkloads", "cilium.io", "CiliumExternalWorkload", False),
        ("ciliumlocalredirectpolicies", "cilium.io", "CiliumLocalRedirectPolicy", False),
        ("ciliumcidrgroups", "cilium.io", "CiliumCIDRGroup", False),
        ("ciliumloadbalancerippools", "cilium.io", "CiliumLoadBalancerIPPool", False),
        ("ciliumnodeconfigs", "cilium.io", "CiliumNodeConfig", False),
        ("ciliuml2announcementpolicies", "cilium.io", "CiliumL2AnnouncementPolicy", False),
        ("ciliumpodippools", "cilium.io", "CiliumPodIPPool", False),
        ("volumesnapshotclasses", "snapshot.storage.k8s.io", "VolumeSnapshotClass", True),
        ("volumesnapshotcontents", "snapshot.storage.k8s.io", "VolumeSnapshotContent", False),
        ("volumesnapshots", "snapshot.storage.k8s.io", "VolumeSnapshot", False),
    ]:
        k.crd(
            plural,
            grp,
            kind,
            versions=("v2",) if grp == "cilium.io" else ("v1alpha", "v1"),
            labels=aksl,
        )
        if inst:
            k.cr(f"{grp}/v1", kind, f"{kind.lower()}-sample", ks)

    # AKS storage classes: only managed-csi is the default; the others exist on every cluster.
    k.storageclass(
        "default",
        "disk.csi.azure.com",
        default=True,
        params={"skuname": "StandardSSD_LRS"},
        labels=aksl,
    )
    for name, prov, sku in [
        ("managed-csi-premium", "disk.csi.azure.com", "Premium_LRS"),
        ("managed", "disk.csi.azure.com", "StandardSSD_LRS"),
        ("managed-premium", "disk.csi.azure.com", "Premium_LRS"),
        ("managed-csi", "disk.csi.azure.com", "StandardSSD_LRS"),
        ("azurefile", "file.csi.azure.com", "Standard_LRS"),
        ("azurefile-csi", "file.csi.azure.com", "Standard_LRS"),
        ("azurefile-csi-premium", "file.csi.azure.com", "Premium_LRS"),
        ("azurefile-premium", "file.csi.azure.com", "Premium_LRS"),
    ]:
        k.storageclass(
            name,
            prov,
            params={"skuname": sku},
            labels=aksl,
            binding="Immediate" if "file" in prov else "WaitForFirstConsumer",
        )
    return k
