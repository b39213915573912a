"""Healthy installs of well-known applications, as their Helm charts and operators create them."""

# ruff: noqa: E731

from __future__ import annotations

from datetime import timedelta

from tests.redteam.bootstrap import READ
from tests.redteam.kube import (
    Cluster,
    Obj,
    c,
    env,
    env_cm,
    env_field,
    env_secret,
    helm_labels,
    ps,
    rule,
    sa_subject,
    v_cm,
    v_empty,
    v_host,
    v_pvc,
    v_secret,
)

INSTALLED = timedelta(days=60)
UPGRADED = timedelta(days=12)
ALLV = ["get", "list", "watch", "create", "update", "patch", "delete"]


# ----------------------------------------------------------------------------------------
# kube-prometheus-stack (release "kps" in "monitoring")
# ----------------------------------------------------------------------------------------
def kube_prometheus_stack(k: Cluster, sc: str = "gp3") -> None:
    ns, rel, ver = "monitoring", "kps", "66.2.1"
    helm = (rel, ns)
    k.namespace(ns, created=INSTALLED)
    k.helm_release(ns, rel, "kube-prometheus-stack", ver, revisions=4, created=UPGRADED)
    L = lambda name, **x: helm_labels(
        rel,
        "kube-prometheus-stack",
        ver,
        name,
        app_kubernetes_io__part_of="kube-prometheus-stack",
        release=rel,
        heritage="Helm",
        **x,
    )
    # prometheus-operator with its admission webhook TLS secret (written by kube-webhook-certgen).
    op_sel = {"app": "kube-prometheus-stack-operator", "release": rel}
    k.sa(ns, "kps-operator", labels=L("kube-prometheus-stack-prometheus-operator"), helm=helm)
    k.clusterrole(
        "kps-operator",
        [
            rule(["monitoring.coreos.com"], ["*"], ["*"]),
            rule(["apps"], ["statefulsets"], ["*"]),
            rule([""], ["configmaps", "secrets"], ["*"]),
        ],
        labels=L("kube-prometheus-stack-prometheus-operator"),
        helm=helm,
    )
    k.crb(
        "kps-operator",
        "kps-operator",
        [sa_subject(ns, "kps-operator")],
        labels=L("kube-prometheus-stack-prometheus-operator"),
        helm=helm,
    )
    k.secret(ns, "kps-admission", created=INSTALLED, data={"ca": "..", "cert": "..", "key": ".."})
    k.deploy(
        ns,
        "kps-operator",
        ps(
            c(
                "kube-prometheus-stack",
                "quay.io/prometheus-operator/prometheus-operator:v0.78.2",
                args=[
                    "--kubelet-service=kube-system/kps-kubelet",
                    "--kubelet-endpoints=true",
                    "--kubelet-endpointslice=false",
                    "--localhost=127.0.0.1",
                    "--prometheus-config-reloader=quay.io/prometheus-operator/prometheus-config-reloader:v0.78.2",
                    "--config-reloader-cpu-request=0",
                    "--web.enable-tls=true",
                    "--web.cert-file=/cert/cert",
                    "--web.key-file=/cert/key",
                    "--web.listen-address=:10250",
                    "--web.tls-min-version=VersionTLS13",
                ],
            ),
            sa="kps-operator",
            volumes=[v_secret("tls-secret", "kps-admission")],
        ),
        selector=op_sel,
        labels=L("kube-prometheus-stack-prometheus-operator"),
        helm=helm,
        created=INSTALLED,
        old_revisions=3,
    )
    k.svc(
        ns,
        "kps-operator",
        op_sel,
        ports=[("https", 443, "https")],
        labels=L("kube-prometheus-stack-prometheus-operator"),
        helm=helm,
    )
    k.webhook(
        "ValidatingWebhookConfiguration",
        "kps-admission",
        [(ns, "kps-operator")],
        labels=L("kube-prometheus-stack-admission"),
        helm=helm,
    )
    k.webhook(
        "MutatingWebhookConfiguration",
        "kps-admission",
        [(ns, "kps-operator")],
        labels=L("kube-prometheus-stack-admission"),
        helm=helm,
    )
    # The kubelet Service the operator maintains (selector-less; Endpoints mirrored to a slice).
    kubelet = k.svc(
        "kube-system",
        "kps-kubelet",
        None,
        headless=True,
        ports=[
            ("https-metrics", 10250, 10250),
            ("http-metrics", 10255, 10255),
            ("cadvisor", 4194, 4194),
        ],
        labels={
            "app.kubernetes.io/managed-by": "prometheus-operator",
            "app.kubernetes.io/name": "kubelet",
            "k8s-app": "kubelet",
        },
    )
    k.endpoint_slice(
        kubelet,
        [(f"10.0.0.{i}", n["metadata"]["name"]) for i, n in enumerate(k.nodes)],
        mirrored=True,
    )

    # CRDs (the chart installs them) and custom resources.
    for plural, kind in [
        ("alertmanagerconfigs", "AlertmanagerConfig"),
        ("alertmanagers", "Alertmanager"),
        ("podmonitors", "PodMonitor"),
        ("probes", "Probe"),
        ("prometheusagents", "PrometheusAgent"),
        ("prometheuses", "Prometheus"),
        ("prometheusrules", "PrometheusRule"),
        ("scrapeconfigs", "ScrapeConfig"),
        ("servicemonitors", "ServiceMonitor"),
        ("thanosrulers", "ThanosRuler"),
    ]:
        k.crd(
            plural,
            "monitoring.coreos.com",
            kind,
            versions=("v1alpha1",)
            if kind in ("AlertmanagerConfig", "PrometheusAgent", "ScrapeConfig")
            else ("v1",),
            created=INSTALLED,
            annotations={
                "controller-gen.kubebuilder.io/version": "v0.16.4",
                "operator.prometheus.io/version": "0.78.2",
            },
        )
    prom = k.cr(
        "monitoring.coreos.com/v1",
        "Prometheus",
        "kps-prometheus",
        ns,
        labels=L("kube-prometheus-stack-prometheus"),
        helm=helm,
    )
    am = k.cr(
        "monitoring.coreos.com/v1",
        "Alertmanager",
        "kps-alertmanager",
        ns,
        labels=L("kube-prometheus-stack-alertmanager"),
        helm=helm,
    )
    for name in (
        "kps-alertmanager.rules",
        "kps-k8s.rules.container-cpu",
        "kps-node-exporter",
        "kps-kubernetes-apps",
        "kps-prometheus-operator",
    ):
        k.cr(
            "monitoring.coreos.com/v1",
            "PrometheusRule",
            name,
            ns,
            labels=L("kube-prometheus-stack"),
            helm=helm,
        )
    for name in (
        "kps-alertmanager",
        "kps-apiserver",
        "kps-coredns",
        "kps-grafana",
        "kps-kube-state-metrics",
        "kps-kubelet",
        "kps-operator",
        "kps-prometheus",
        "kps-prometheus-node-exporter",
    ):
        k.cr(
            "monitoring.coreos.com/v1",
            "ServiceMonitor",
            name,
            ns,
            labels=L("kube-prometheus-stack"),
            helm=helm,
        )

    # Prometheus: the operator creates the StatefulSet, its Secrets, rule ConfigMap and Service.
    p_own = Cluster.ref(prom)
    p_lab = {
        "app.kubernetes.io/managed-by": "prometheus-operator",
        "managed-by": "prometheus-operator",
        "operator.prometheus.io/name": "kps-prometheus",
        "prometheus": "kps-prometheus",
    }
    k.sa(ns, "kps-prometheus", labels=L("kube-prometheus-stack-prometheus"), helm=helm)
    k.clusterrole(
        "kps-prometheus",
        [rule([""], ["nodes", "nodes/metrics", "services", "endpoints", "pods"], READ)],
        labels=L("kube-prometheus-stack-prometheus"),
        helm=helm,
    )
    k.crb(
        "kps-prometheus",
        "kps-prometheus",
        [sa_subject(ns, "kps-prometheus")],
        labels=L("kube-prometheus-stack-prometheus"),
        helm=helm,
    )
    k.secret(
        ns,
        "prometheus-kps-prometheus",
        owner=p_own,
        labels=p_lab,
        data={"prometheus.yaml.gz": ".."},
    )
    k.secret(ns, "prometheus-kps-prometheus-tls-assets-0", owner=p_own, labels=p_lab)
    k.secret(ns, "prometheus-kps-prometheus-web-config", owner=p_own, labels=p_lab)
    k.cm(
        ns,
        "prometheus-kps-prometheus-rulefiles-0",
        owner=p_own,
        labels={**p_lab, "prometheus-name": "kps-prometheus"},
    )
    prom_spec = ps(
        c(
            "prometheus",
            "quay.io/prometheus/prometheus:v2.55.1",
            args=[
                "--web.console.templates=/etc/prometheus/consoles",
                "--config.file=/etc/prometheus/config_out/prometheus.env.yaml",
                "--web.config.file=/etc/prometheus/web_config/web-config.yaml",
                "--storage.tsdb.retention.time=10d",
            ],
            cpu="500m",
            mem="2Gi",
        ),
        c(
            "config-reloader",
            "quay.io/prometheus-operator/prometheus-config-reloader:v0.78.2",
            args=[
                "--config-file=/etc/prometheus/config/prometheus.yaml.gz",
                "--config-envsubst-file=/etc/prometheus/config_out/prometheus.env.yaml",
            ],
        ),
        init=[
            c(
                "init-config-reloader",
                "quay.io/prometheus-operator/prometheus-config-reloader:v0.78.2",
            )
        ],
        sa="kps-prometheus",
        volumes=[
            v_secret("config", "prometheus-kps-prometheus"),
            {
                "name": "tls-assets",
                "projected": {
                    "sources": [{"secret": {"name": "prometheus-kps-prometheus-tls-assets-0"}}]
                },
            },
            v_empty("config-out"),
            v_cm("prometheus-kps-prometheus-rulefiles-0", "prometheus-kps-prometheus-rulefiles-0"),
            v_secret("web-config", "prometheus-kps-prometheus-web-config"),
        ],
    )
    k.sts(
        ns,
        "prometheus-kps-prometheus",
        prom_spec,
        selector={
            "app.kubernetes.io/instance": "kps-prometheus",
            "app.kubernetes.io/name": "prometheus",
            "operator.prometheus.io/name": "kps-prometheus",
            "operator.prometheus.io/shard": "0",
            "prometheus": "kps-prometheus",
        },
        labels=p_lab,
        owner=p_own,
        service_name="prometheus-operated",
        vcts=[("prometheus-kps-prometheus-db", "50Gi", sc)],
        created=INSTALLED,
    )
    k.svc(
        ns,
        "prometheus-operated",
        {"app.kubernetes.io/name": "prometheus"},
        headless=True,
        ports=[("web", 9090, "web")],
        owner=p_own,
        labels={"managed-by": "prometheus-operator", "operated-prometheus": "true"},
    )
    k.svc(
        ns,
        "kps-prometheus",
        {"app.kubernetes.io/name": "prometheus", "operator.prometheus.io/name": "kps-prometheus"},
        ports=[("http-web", 9090, 9090), ("reloader-web", 8080, "reloader-web")],
        labels=L("kube-prometheus-stack-prometheus", self_monitor="true"),
        helm=helm,
    )

    # Alertmanager: the chart ships the config Secret, the operator renders "-generated".
    a_own = Cluster.ref(am)
    a_lab = {
        "app.kubernetes.io/managed-by": "prometheus-operator",
        "managed-by": "prometheus-operator",
        "alertmanager": "kps-alertmanager",
    }
    k.sa(ns, "kps-alertmanager", labels=L("kube-prometheus-stack-alertmanager"), helm=helm)
    k.secret(
        ns,
        "alertmanager-kps-alertmanager",
        labels=L("kube-prometheus-stack-alertmanager"),
        helm=helm,
        data={"alertmanager.yaml": ".."},
    )
    k.secret(ns, "alertmanager-kps-alertmanager-generated", owner=a_own, labels=a_lab)
    k.secret(ns, "alertmanager-kps-alertmanager-tls-assets-0", owner=a_own, labels=a_lab)
    k.secret(ns, "alertmanager-kps-alertmanager-web-config", owner=a_own, labels=a_lab)
    k.sts(
        ns,
        "alertmanager-kps-alertmanager",
        ps(
            c(
                "alertmanager",
                "quay.io/prometheus/alertmanager:v0.27.0",
                args=[
                    "--config.file=/etc/alertmanager/config_out/alertmanager.env.yaml",
                    "--storage.path=/alertmanager",
                    "--web.config.file=/etc/alertmanager/web_config/web-config.yaml",
                ],
            ),
            c("config-reloader", "quay.io/prometheus-operator/prometheus-config-reloader:v0.78.2"),
            sa="kps-alertmanager",
            volumes=[
                v_secret("config-volume", "alertmanager-kps-alertmanager-generated"),
                {
                    "name": "tls-assets",
                    "projected": {
                        "sources": [
                            {"secret": {"name": "alertmanager-kps-alertmanager-tls-assets-0"}}
                        ]
                    },
                },
                v_empty("config-out"),
                v_secret("web-config", "alertmanager-kps-alertmanager-web-config"),
            ],
        ),
        selector={
            "alertmanager": "kps-alertmanager",
            "app.kubernetes.io/instance": "kps-alertmanager",
            "app.kubernetes.io/name": "alertmanager",
        },
        labels=a_lab,
        owner=a_own,
        service_name="alertmanager-operated",
        vcts=[("alertmanager-kps-alertmanager-db", "10Gi", sc)],
        created=INSTALLED,
    )
    k.svc(
        ns,
        "alertmanager-operated",
        {"app.kubernetes.io/name": "alertmanager"},
        headless=True,
        ports=[("web", 9093, "web"), ("tcp-mesh", 9094, 9094)],
        owner=a_own,
        labels={"managed-by": "prometheus-operator", "operated-alertmanager": "true"},
    )
    k.svc(
        ns,
        "kps-alertmanager",
        {"app.kubernetes.io/name": "alertmanager", "alertmanager": "kps-alertmanager"},
        ports=[("http-web", 9093, 9093)],
        labels=L("kube-prometheus-stack-alertmanager"),
        helm=helm,
    )

    # Grafana subchart: dashboards and datasources are loaded by the k8s-sidecar by label.
    g_sel = {"app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": rel}
    gL = helm_labels(rel, "grafana", "8.6.3", "grafana")
    k.sa(ns, "kps-grafana", labels=gL, helm=helm)
    k.role(ns, "kps-grafana", [], labels=gL, helm=helm)
    k.rb(ns, "kps-grafana", "kps-grafana", [sa_subject(ns, "kps-grafana")], labels=gL, helm=helm)
    k.clusterrole(
        "kps-grafana-clusterrole",
        [rule([""], ["configmaps", "secrets"], ["get", "watch", "list"])],
        labels=gL,
        helm=helm,
    )
    k.crb(
        "kps-grafana-clusterrolebinding",
        "kps-grafana-clusterrole",
        [sa_subject(ns, "kps-grafana")],
        labels=gL,
        helm=helm,
    )
    k.secret(
        ns,
        "kps-grafana",
        labels=gL,
        helm=helm,
        data={"admin-user": "..", "admin-password": "..", "ldap-toml": ""},
    )
    k.cm(ns, "kps-grafana", labels=gL, helm=helm)
    k.cm(ns, "kps-grafana-config-dashboards", labels=gL, helm=helm)
    k.cm(
        ns,
        "kps-grafana-datasource",
        labels={**L("kube-prometheus-stack-grafana"), "grafana_datasource": "1"},
        helm=helm,
    )
    for dash in (
        "alertmanager-overview",
        "apiserver",
        "cluster-total",
        "grafana-overview",
        "k8s-coredns",
        "k8s-resources-cluster",
        "k8s-resources-namespace",
        "k8s-resources-node",
        "k8s-resources-pod",
        "k8s-resources-workload",
        "kubelet",
        "namespace-by-pod",
        "node-cluster-rsrc-use",
        "node-rsrc-use",
        "nodes",
        "nodes-darwin",
        "persistentvolumesusage",
        "pod-total",
        "prometheus",
        "workload-total",
    ):
        k.cm(
            ns,
            f"kps-{dash}",
            labels={**L("kube-prometheus-stack-grafana"), "grafana_dashboard": "1"},
            helm=helm,
        )
    k.pvc_bound(ns, "kps-grafana", "10Gi", sc, labels=gL, helm=helm, created=INSTALLED)
    sidecar = "quay.io/kiwigrid/k8s-sidecar:1.28.0"
    k.deploy(
        ns,
        "kps-grafana",
        ps(
            c(
                "grafana-sc-dashboard",
                sidecar,
                env=[
                    env("METHOD", "WATCH"),
                    env("LABEL", "grafana_dashboard"),
                    env("LABEL_VALUE", "1"),
                    env("FOLDER", "/tmp/dashboards"),
                    env("RESOURCE", "both"),
                    env("NAMESPACE", "ALL"),
                    env(
                        "REQ_URL", "http://localhost:3000/api/admin/provisioning/dashboards/reload"
                    ),
                    env_secret("REQ_USERNAME", "kps-grafana", "admin-user"),
                    env_secret("REQ_PASSWORD", "kps-grafana", "admin-password"),
                ],
            ),
            c(
                "grafana-sc-datasources",
                sidecar,
                env=[
                    env("METHOD", "WATCH"),
                    env("LABEL", "grafana_datasource"),
                    env("LABEL_VALUE", "1"),
                    env("FOLDER", "/etc/grafana/provisioning/datasources"),
                    env("RESOURCE", "both"),
                ],
            ),
            c(
                "grafana",
                "docker.io/grafana/grafana:11.3.1",
                env=[
                    env_secret("GF_SECURITY_ADMIN_USER", "kps-grafana", "admin-user"),
                    env_secret("GF_SECURITY_ADMIN_PASSWORD", "kps-grafana", "admin-password"),
                    env("GF_PATHS_DATA", "/var/lib/grafana/"),
                ],
            ),
            sa="kps-grafana",
            volumes=[
                v_cm("config", "kps-grafana"),
                v_pvc("storage", "kps-grafana"),
                v_empty("sc-dashboard-volume"),
                v_cm("sc-dashboard-provider", "kps-grafana-config-dashboards"),
                v_empty("sc-datasources-volume"),
            ],
        ),
        selector=g_sel,
        labels=gL,
        helm=helm,
        created=INSTALLED,
        old_revisions=3,
        pod_annotations={
            "checksum/config": "abc",
            "kubectl.kubernetes.io/default-container": "grafana",
        },
    )
    k.svc(ns, "kps-grafana", g_sel, ports=[("http-web", 80, 3000)], labels=gL, helm=helm)

    # kube-state-metrics and node-exporter subcharts.
    ksm = {"app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/instance": rel}
    ksmL = helm_labels(
        rel,
        "kube-state-metrics",
        "5.27.0",
        "kube-state-metrics",
        app_kubernetes_io__part_of="kube-state-metrics",
        release=rel,
    )
    k.sa(ns, "kps-kube-state-metrics", labels=ksmL, helm=helm)
    k.clusterrole(
        "kps-kube-state-metrics", [rule(["*"], ["*"], ["list", "watch"])], labels=ksmL, helm=helm
    )
    k.crb(
        "kps-kube-state-metrics",
        "kps-kube-state-metrics",
        [sa_subject(ns, "kps-kube-state-metrics")],
        labels=ksmL,
        helm=helm,
    )
    k.deploy(
        ns,
        "kps-kube-state-metrics",
        ps(
            c(
                "kube-state-metrics",
                "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.14.0",
                args=[
                    "--port=8080",
                    "--resources=certificatesigningrequests,configmaps,cronjobs,daemonsets",
                ],
            ),
            sa="kps-kube-state-metrics",
        ),
        selector=ksm,
        labels=ksmL,
        helm=helm,
        created=INSTALLED,
    )
    k.svc(ns, "kps-kube-state-metrics", ksm, ports=[("http", 8080, 8080)], labels=ksmL, helm=helm)
    ne = {"app.kubernetes.io/name": "prometheus-node-exporter", "app.kubernetes.io/instance": rel}
    neL = helm_labels(
        rel,
        "prometheus-node-exporter",
        "4.42.0",
        "prometheus-node-exporter",
        app_kubernetes_io__part_of="prometheus-node-exporter",
        jobLabel="node-exporter",
        release=rel,
    )
    k.sa(ns, "kps-prometheus-node-exporter", labels=neL, helm=helm)
    k.ds(
        ns,
        "kps-prometheus-node-exporter",
        ps(
            c(
                "node-exporter",
                "quay.io/prometheus/node-exporter:v1.8.2",
                args=[
                    "--path.procfs=/host/proc",
                    "--path.sysfs=/host/sys",
                    "--path.rootfs=/host/root",
                ],
            ),
            sa="kps-prometheus-node-exporter",
            host_network=True,
            volumes=[v_host("proc", "/proc"), v_host("sys", "/sys"), v_host("root", "/")],
        ),
        selector=ne,
        labels=neL,
        helm=helm,
        created=INSTALLED,
    )
    k.svc(
        ns,
        "kps-prometheus-node-exporter",
        ne,
        ports=[("http-metrics", 9100, 9100)],
        labels=neL,
        helm=helm,
    )
    k.svc(
        "kube-system",
        "kps-coredns",
        {"k8s-app": "kube-dns"},
        headless=True,
        ports=[("http-metrics", 9153, 9153)],
        labels=L("kube-prometheus-stack-coredns", jobLabel="coredns"),
        helm=helm,
    )

    # The admission-webhook certgen hooks, caught between `helm upgrade` and their TTL (60 s).
    hook = {
        "helm.sh/hook": "pre-install,pre-upgrade,post-install,post-upgrade",
        "helm.sh/hook-delete-policy": "before-hook-creation,hook-succeeded",
    }
    adm = L("kube-prometheus-stack-admission-create")
    k.sa(ns, "kps-admission", labels=adm, annotations=hook, created=timedelta(seconds=50))
    k.clusterrole(
        "kps-admission",
        [
            rule(
                ["admissionregistration.k8s.io"],
                ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"],
                ["get", "update"],
            )
        ],
        labels=adm,
        annotations=hook,
        created=timedelta(seconds=50),
    )
    k.crb(
        "kps-admission",
        "kps-admission",
        [sa_subject(ns, "kps-admission")],
        labels=adm,
        annotations=hook,
        created=timedelta(seconds=50),
    )
    k.role(
        ns,
        "kps-admission",
        [rule([""], ["secrets"], ["get", "create"])],
        labels=adm,
        annotations=hook,
        created=timedelta(seconds=50),
    )
    k.rb(
        ns,
        "kps-admission",
        "kps-admission",
        [sa_subject(ns, "kps-admission")],
        labels=adm,
        annotations=hook,
        created=timedelta(seconds=50),
    )
    k.job(
        ns,
        "kps-admission-patch",
        ps(
            c(
                "patch",
                "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v20221220-controller-v1.5.1",
                args=[
                    "patch",
                    "--webhook-name=kps-admission",
                    "--namespace=monitoring",
                    "--secret-name=kps-admission",
                    "--patch-failure-policy=",
                ],
            ),
            sa="kps-admission",
        ),
        labels=adm,
        ttl=60,
        finished=timedelta(seconds=20),
        created=timedelta(seconds=40),
        annotations={
            "helm.sh/hook": "post-install,post-upgrade",
            "helm.sh/hook-delete-policy": "before-hook-creation,hook-succeeded",
        },
    )


# ----------------------------------------------------------------------------------------
# ingress-nginx (Helm) and cert-manager (Helm) feeding Ingress TLS
# ----------------------------------------------------------------------------------------
def ingress_nginx(k: Cluster) -> None:
    ns, rel, ver = "ingress-nginx", "ingress-nginx", "4.11.3"
    helm = (rel, ns)
    k.namespace(ns, created=INSTALLED)
    k.helm_release(ns, rel, "ingress-nginx", ver, revisions=2, created=UPGRADED)
    L = lambda comp: helm_labels(
        rel,
        "ingress-nginx",
        ver,
        "ingress-nginx",
        app_kubernetes_io__part_of="ingress-nginx",
        app_kubernetes_io__component=comp,
    )
    sel = {
        "app.kubernetes.io/name": "ingress-nginx",
        "app.kubernetes.io/instance": rel,
        "app.kubernetes.io/component": "controller",
    }
    k.sa(ns, "ingress-nginx", labels=L("controller"), helm=helm)
    k.cm(
        ns,
        "ingress-nginx-controller",
        labels=L("controller"),
        helm=helm,
        data={"allow-snippet-annotations": "false", "use-forwarded-headers": "true"},
    )
    k.role(
        ns,
        "ingress-nginx",
        [
            rule([""], ["namespaces"], ["get"]),
            rule([""], ["configmaps", "pods", "secrets", "endpoints"], ["get", "list", "watch"]),
            rule([""], ["services"], ["get", "list", "watch"]),
            rule(["networking.k8s.io"], ["ingresses", "ingressclasses"], ["get", "list", "watch"]),
            rule(["coordination.k8s.io"], ["leases"], ["get", "update"], ["ingress-nginx-leader"]),
            rule(["coordination.k8s.io"], ["leases"], ["create"]),
            rule([""], ["events"], ["create", "patch"]),
            rule(["discovery.k8s.io"], ["endpointslices"], ["list", "watch", "get"]),
        ],
        labels=L("controller"),
        helm=helm,
    )
    k.rb(
        ns,
        "ingress-nginx",
        "ingress-nginx",
        [sa_subject(ns, "ingress-nginx")],
        labels=L("controller"),
        helm=helm,
    )
    k.clusterrole(
        "ingress-nginx",
        [
            rule(
                [""],
                ["configmaps", "endpoints", "nodes", "pods", "secrets", "namespaces"],
                ["list", "watch"],
            )
        ],
        labels=L("controller"),
        helm=helm,
    )
    k.crb(
        "ingress-nginx",
        "ingress-nginx",
        [sa_subject(ns, "ingress-nginx")],
        labels=L("controller"),
        helm=helm,
    )
    # The admission Secret is created by the certgen hook Job, which Helm has since deleted.
    k.secret(
        ns,
        "ingress-nginx-admission",
        created=INSTALLED,
        data={"ca": "..", "cert": "..", "key": ".."},
    )
    k.deploy(
        ns,
        "ingress-nginx-controller",
        ps(
            c(
                "controller",
                "registry.k8s.io/ingress-nginx/controller:v1.11.3",
                args=[
                    "/nginx-ingress-controller",
                    "--publish-service=$(POD_NAMESPACE)/ingress-nginx-controller",
                    "--election-id=ingress-nginx-leader",
                    "--controller-class=k8s.io/ingress-nginx",
                    "--ingress-class=nginx",
                    "--configmap=$(POD_NAMESPACE)/ingress-nginx-controller",
                    "--validating-webhook=:8443",
                    "--validating-webhook-certificate=/usr/local/certificates/cert",
                    "--validating-webhook-key=/usr/local/certificates/key",
                    "--enable-metrics=false",
                ],
                env=[
                    env_field("POD_NAME", "metadata.name"),
                    env_field("POD_NAMESPACE", "metadata.namespace"),
                    env("LD_PRELOAD", "/usr/local/lib/libmimalloc.so"),
                ],
                cpu="100m",
                mem="90Mi",
            ),
            sa="ingress-nginx",
            volumes=[v_secret("webhook-cert", "ingress-nginx-admission")],
            node_selector={"kubernetes.io/os": "linux"},
        ),
        selector=sel,
        labels=L("controller"),
        helm=helm,
        replicas=2,
        created=INSTALLED,
        old_revisions=1,
    )
    k.svc(
        ns,
        "ingress-nginx-controller",
        sel,
        type_="LoadBalancer",
        ports=[("http", 80, "http"), ("https", 443, "https")],
        lb_hostname="a1b2c3-123456.us-east-1.elb.amazonaws.com",
        annotations={"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"},
        labels=L("controller"),
        helm=helm,
    )
    k.svc(
        ns,
        "ingress-nginx-controller-admission",
        sel,
        ports=[("https-webhook", 443, "webhook")],
        labels=L("controller"),
        helm=helm,
    )
    k.webhook(
        "ValidatingWebhookConfiguration",
        "ingress-nginx-admission",
        [(ns, "ingress-nginx-controller-admission")],
        labels=L("admission-webhook"),
        helm=helm,
    )
    k.obj(
        "networking.k8s.io/v1",
        "IngressClass",
        "nginx",
        labels=L("controller"),
        helm=helm,
        body={"spec": {"controller": "k8s.io/ingress-nginx"}},
    )
    k.pdb(ns, "ingress-nginx-controller", sel, labels=L("controller"), helm=helm)


def cert_manager(k: Cluster) -> None:
    ns, rel, ver = "cert-manager", "cert-manager", "v1.16.2"
    helm = (rel, ns)
    k.namespace(ns, created=INSTALLED)
    k.helm_release(ns, rel, "cert-manager", ver, revisions=1, created=INSTALLED)
    L = lambda name, comp: helm_labels(
        rel,
        "cert-manager",
        ver,
        name,
        app_kubernetes_io__component=comp,
        app=name,
    )
    for name, comp in [
        ("cert-manager", "controller"),
        ("cert-manager-cainjector", "cainjector"),
        ("cert-manager-webhook", "webhook"),
    ]:
        k.sa(
            ns,
            name,
            labels=L(
                name.replace("cert-manager-", "") if name != "cert-manager" else "cert-manager",
                comp,
            ),
            helm=helm,
        )
    ctl = [
        ("issuers", "controller"),
        ("clusterissuers", "controller"),
        ("certificates", "controller"),
        ("orders", "controller"),
        ("challenges", "controller"),
        ("ingress-shim", "controller"),
        ("approve:cert-manager-io", "cert-manager"),
        ("certificatesigningrequests", "cert-manager"),
    ]
    secrets_rw = rule(
        [""], ["secrets"], ["get", "list", "watch", "create", "update", "delete", "patch"]
    )
    bodies = {
        "issuers": [
            rule(["cert-manager.io"], ["issuers", "issuers/status"], ["update", "patch"]),
            rule(["cert-manager.io"], ["issuers"], READ),
            secrets_rw,
        ],
        "clusterissuers": [
            rule(
                ["cert-manager.io"],
                ["clusterissuers", "clusterissuers/status"],
                ["update", "patch"],
            ),
            rule(["cert-manager.io"], ["clusterissuers"], READ),
            secrets_rw,
        ],
        "certificates": [
            rule(["cert-manager.io"], ["certificates", "certificaterequests"], ALLV),
            secrets_rw,
        ],
        "orders": [
            rule(["acme.cert-manager.io"], ["orders", "challenges"], ALLV),
            rule([""], ["secrets"], ["get", "list", "watch"]),
        ],
        "challenges": [
            rule(["acme.cert-manager.io"], ["challenges"], ALLV),
            rule([""], ["pods", "services"], ["get", "list", "watch", "create", "delete"]),
            rule(["networking.k8s.io"], ["ingresses"], ALLV),
            rule([""], ["secrets"], ["get", "list", "watch"]),
        ],
        "ingress-shim": [
            rule(["cert-manager.io"], ["certificates", "certificaterequests"], ALLV),
            rule(["networking.k8s.io"], ["ingresses"], READ),
        ],
    }
    for name, _ in ctl:
        k.clusterrole(
            f"cert-manager-controller-{name}",
            bodies.get(name, [rule(["certificates.k8s.io"], ["certificatesigningrequests"], ALLV)]),
            labels=L("cert-manager", "controller"),
            helm=helm,
        )
        k.crb(
            f"cert-manager-controller-{name}",
            f"cert-manager-controller-{name}",
            [sa_subject(ns, "cert-manager")],
            labels=L("cert-manager", "controller"),
            helm=helm,
        )
    k.clusterrole(
        "cert-manager-cainjector",
        [rule(["cert-manager.io"], ["certificates"], READ), rule([""], ["secrets"], READ)],
        labels=L("cainjector", "cainjector"),
        helm=helm,
    )
    k.crb(
        "cert-manager-cainjector",
        "cert-manager-cainjector",
        [sa_subject(ns, "cert-manager-cainjector")],
        labels=L("cainjector", "cainjector"),
        helm=helm,
    )
    k.clusterrole(
        "cert-manager-cluster-view",
        [rule(["cert-manager.io"], ["clusterissuers"], READ)],
        labels={
            **L("cert-manager", "controller"),
            "rbac.authorization.k8s.io/aggregate-to-cluster-reader": "true",
        },
        helm=helm,
    )
    k.clusterrole(
        "cert-manager-view",
        [rule(["cert-manager.io"], ["certificates", "issuers"], READ)],
        labels={
            **L("cert-manager", "controller"),
            "rbac.authorization.k8s.io/aggregate-to-view": "true",
            "rbac.authorization.k8s.io/aggregate-to-edit": "true",
            "rbac.authorization.k8s.io/aggregate-to-admin": "true",
            "rbac.authorization.k8s.io/aggregate-to-cluster-reader": "true",
        },
        helm=helm,
    )
    k.clusterrole(
        "cert-manager-edit",
        [rule(["cert-manager.io"], ["certificates", "issuers"], ALLV)],
        labels={
            **L("cert-manager", "controller"),
            "rbac.authorization.k8s.io/aggregate-to-edit": "true",
            "rbac.authorization.k8s.io/aggregate-to-admin": "true",
        },
        helm=helm,
    )
    k.clusterrole(
        "cert-manager-webhook:subjectaccessreviews",
        [rule(["authorization.k8s.io"], ["subjectaccessreviews"], ["create"])],
        labels=L("webhook", "webhook"),
        helm=helm,
    )
    k.crb(
        "cert-manager-webhook:subjectaccessreviews",
        "cert-manager-webhook:subjectaccessreviews",
        [sa_subject(ns, "cert-manager-webhook")],
        labels=L("webhook", "webhook"),
        helm=helm,
    )
    k.role(
        "kube-system",
        "cert-manager:leaderelection",
        [
            rule(
                ["coordination.k8s.io"],
                ["leases"],
                ["get", "update", "patch"],
                ["cert-manager-controller"],
            )
        ],
        labels=L("cert-manager", "controller"),
        helm=helm,
    )
    k.rb(
        "kube-system",
        "cert-manager:leaderelection",
        "cert-manager:leaderelection",
        [sa_subject(ns, "cert-manager")],
        labels=L("cert-manager", "controller"),
        helm=helm,
    )
    k.role(
        "kube-system",
        "cert-manager-cainjector:leaderelection",
        [rule(["coordination.k8s.io"], ["leases"], ["get", "update", "patch"])],
        labels=L("cainjector", "cainjector"),
        helm=helm,
    )
    k.rb(
        "kube-system",
        "cert-manager-cainjector:leaderelection",
        "cert-manager-cainjector:leaderelection",
        [sa_subject(ns, "cert-manager-cainjector")],
        labels=L("cainjector", "cainjector"),
        helm=helm,
    )
    k.role(
        ns,
        "cert-manager-webhook:dynamic-serving",
        [
            rule(
                [""], ["secrets"], ["get", "list", "watch", "update"], ["cert-manager-webhook-ca"]
            ),
            rule([""], ["secrets"], ["create"]),
        ],
        labels=L("webhook", "webhook"),
        helm=helm,
    )
    k.rb(
        ns,
        "cert-manager-webhook:dynamic-serving",
        "cert-manager-webhook:dynamic-serving",
        [sa_subject(ns, "cert-manager-webhook")],
        labels=L("webhook", "webhook"),
        helm=helm,
    )
    k.role(
        ns,
        "cert-manager-tokenrequest",
        [rule([""], ["serviceaccounts/token"], ["create"], ["cert-manager"])],
        labels=L("cert-manager", "controller"),
        helm=helm,
    )
    k.rb(
        ns,
        "cert-manager-cert-manager-tokenrequest",
        "cert-manager-tokenrequest",
        [sa_subject(ns, "cert-manager")],
        labels=L("cert-manager", "controller"),
        helm=helm,
    )
    # The webhook keeps its serving CA in a Secret it reads through the API.
    k.secret(
        ns,
        "cert-manager-webhook-ca",
        created=INSTALLED,
        data={"ca.crt": "..", "tls.crt": "..", "tls.key": ".."},
    )
    img = "quay.io/jetstack"
    for name, sel, args, sa_ in [
        (
            "cert-manager",
            {"app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/component": "controller"},
            [
                "--v=2",
                "--cluster-resource-namespace=$(POD_NAMESPACE)",
                "--leader-election-namespace=kube-system",
                "--acme-http01-solver-image=quay.io/jetstack/cert-manager-acmesolver:v1.16.2",
                "--max-concurrent-challenges=60",
            ],
            "cert-manager",
        ),
        (
            "cert-manager-cainjector",
            {"app.kubernetes.io/name": "cainjector", "app.kubernetes.io/component": "cainjector"},
            ["--v=2", "--leader-election-namespace=kube-system"],
            "cert-manager-cainjector",
        ),
        (
            "cert-manager-webhook",
            {"app.kubernetes.io/name": "webhook", "app.kubernetes.io/component": "webhook"},
            [
                "--v=2",
                "--secure-port=10250",
                "--dynamic-serving-ca-secret-namespace=$(POD_NAMESPACE)",
                "--dynamic-serving-ca-secret-name=cert-manager-webhook-ca",
                "--dynamic-serving-dns-names=cert-manager-webhook,cert-manager-webhook.$(POD_NAMESPACE),"
                "cert-manager-webhook.$(POD_NAMESPACE).svc",
            ],
            "cert-manager-webhook",
        ),
    ]:
        full = {**sel, "app.kubernetes.io/instance": rel}
        k.deploy(
            ns,
            name,
            ps(
                c(
                    name.replace("cert-manager-", "cert-manager-")
                    if name != "cert-manager"
                    else "cert-manager-controller",
                    f"{img}/{name if name != 'cert-manager' else 'cert-manager-controller'}"
                    ":v1.16.2",
                    args=args,
                    env=[env_field("POD_NAMESPACE", "metadata.namespace")],
                ),
                sa=sa_,
                node_selector={"kubernetes.io/os": "linux"},
            ),
            selector=full,
            labels=L(sel["app.kubernetes.io/name"], sel["app.kubernetes.io/component"]),
            helm=helm,
            created=INSTALLED,
        )
    k.svc(
        ns,
        "cert-manager",
        {
            "app.kubernetes.io/name": "cert-manager",
            "app.kubernetes.io/instance": rel,
            "app.kubernetes.io/component": "controller",
        },
        ports=[("tcp-prometheus-servicemonitor", 9402, 9402)],
        labels=L("cert-manager", "controller"),
        helm=helm,
    )
    k.svc(
        ns,
        "cert-manager-webhook",
        {
            "app.kubernetes.io/name": "webhook",
            "app.kubernetes.io/instance": rel,
            "app.kubernetes.io/component": "webhook",
        },
        ports=[("https", 443, "https")],
        labels=L("webhook", "webhook"),
        helm=helm,
    )
    k.webhook(
        "ValidatingWebhookConfiguration",
        "cert-manager-webhook",
        [(ns, "cert-manager-webhook")],
        labels=L("webhook", "webhook"),
        helm=helm,
    )
    k.webhook(
        "MutatingWebhookConfiguration",
        "cert-manager-webhook",
        [(ns, "cert-manager-webhook")],
        labels=L("webhook", "webhook"),
        helm=helm,
    )
    for plural, kind, scope in [
        ("certificaterequests", "CertificateRequest", "Namespaced"),
        ("certificates", "Certificate", "Namespaced"),
        ("challenges", "Challenge", "Namespaced"),
        ("clusterissuers", "ClusterIssuer", "Cluster"),
        ("issuers", "Issuer", "Namespaced"),
        ("orders", "Order", "Namespaced"),
    ]:
        grp = "acme.cert-manager.io" if kind in ("Challenge", "Order") else "cert-manager.io"
        k.crd(plural, grp, kind, scope=scope, labels=L("cert-manager", "crds"), helm=helm)
    k.cr("cert-manager.io/v1", "ClusterIssuer", "letsencrypt-prod")
    # The ACME account key of the ClusterIssuer, in the cluster resource namespace.
    k.secret(ns, "letsencrypt-prod", created=INSTALLED, data={"tls.key": ".."})


def issue_tls(k: Cluster, ns: str, ingress: Obj, secret: str) -> None:
    """What cert-manager's ingress-shim creates for an Ingress annotated with a ClusterIssuer."""
    cert = k.cr("cert-manager.io/v1", "Certificate", secret, ns, owner=Cluster.ref(ingress))
    k.cr("cert-manager.io/v1", "CertificateRequest", f"{secret}-1", ns, owner=Cluster.ref(cert))
    k.cr("acme.cert-manager.io/v1", "Order", f"{secret}-1-2973441953", ns)
    k.secret(
        ns,
        secret,
        "kubernetes.io/tls",
        annotations={
            "cert-manager.io/alt-names": "shop.example.com",
            "cert-manager.io/certificate-name": secret,
            "cert-manager.io/common-name": "shop.example.com",
            "cert-manager.io/issuer-kind": "ClusterIssuer",
            "cert-manager.io/issuer-name": "letsencrypt-prod",
        },
        labels={"controller.cert-manager.io/fao": "true"},
        data={"tls.crt": "..", "tls.key": "..", "ca.crt": ""},
    )


# ----------------------------------------------------------------------------------------
# Argo CD (argo-cd chart 7.x), managing a guestbook app through tracking labels
# ----------------------------------------------------------------------------------------
def argocd(k: Cluster) -> None:
    ns, rel, ver = "argocd", "argocd", "7.7.5"
    helm = (rel, ns)
    k.namespace(ns, created=INSTALLED)
    k.helm_release(ns, rel, "argo-cd", ver, revisions=3, created=UPGRADED)
    L = lambda comp: helm_labels(
        rel,
        "argo-cd",
        ver,
        f"argocd-{comp}",
        app_kubernetes_io__part_of="argocd",
        app_kubernetes_io__component=comp,
    )
    img = "quay.io/argoproj/argocd:v2.13.1"
    for cm in (
        "argocd-cm",
        "argocd-cmd-params-cm",
        "argocd-rbac-cm",
        "argocd-ssh-known-hosts-cm",
        "argocd-tls-certs-cm",
        "argocd-gpg-keys-cm",
        "argocd-notifications-cm",
    ):
        k.cm(ns, cm, labels={**L("server"), "app.kubernetes.io/name": cm}, helm=helm)
    k.secret(
        ns,
        "argocd-secret",
        labels={**L("server"), "app.kubernetes.io/name": "argocd-secret"},
        helm=helm,
    )
    k.secret(ns, "argocd-notifications-secret", labels=L("notifications-controller"), helm=helm)
    # argocd-server creates the initial admin password Secret at first start, without labels.
    k.secret(ns, "argocd-initial-admin-secret", created=INSTALLED, data={"password": ".."})
    # Created by the redis-secret-init hook Job.
    k.secret(ns, "argocd-redis", created=INSTALLED, data={"auth": ".."})
    # Declarative repository and cluster credentials, as the Argo CD docs show them.
    k.secret(
        ns,
        "repo-platform-gitops",
        labels={"argocd.argoproj.io/secret-type": "repository"},
        created=timedelta(days=55),
    )
    k.secret(
        ns,
        "creds-github-org",
        labels={"argocd.argoproj.io/secret-type": "repo-creds"},
        created=timedelta(days=55),
    )
    k.secret(
        ns,
        "cluster-staging-eks",
        labels={"argocd.argoproj.io/secret-type": "cluster"},
        created=timedelta(days=40),
    )
    params = lambda *pairs: [env_cm(e, "argocd-cmd-params-cm", key, True) for e, key in pairs]
    redis_env = [env_secret("REDIS_PASSWORD", "argocd-redis", "auth")]
    common_vols = [
        v_cm("ssh-known-hosts", "argocd-ssh-known-hosts-cm"),
        v_cm("tls-certs", "argocd-tls-certs-cm"),
    ]

    sas = [
        "argocd-application-controller",
        "argocd-applicationset-controller",
        "argocd-dex-server",
        "argocd-notifications-controller",
        "argocd-repo-server",
        "argocd-server",
        "argocd-redis-secret-init",
    ]
    for sa_ in sas[:-1]:
        k.sa(ns, sa_, labels=L(sa_.removeprefix("argocd-")), helm=helm)
    for comp in (
        "application-controller",
        "applicationset-controller",
        "dex-server",
        "notifications-controller",
        "server",
    ):
        k.role(
            ns,
            f"argocd-{comp}",
            [
                rule([""], ["secrets", "configmaps"], ["get", "list", "watch"]),
                rule(["argoproj.io"], ["applications", "appprojects"], ALLV),
            ],
            labels=L(comp),
            helm=helm,
        )
        k.rb(
            ns,
            f"argocd-{comp}",
            f"argocd-{comp}",
            [sa_subject(ns, f"argocd-{comp}")],
            labels=L(comp),
            helm=helm,
        )
    for comp in ("application-controller", "server"):
        k.clusterrole(f"argocd-{comp}", [rule(["*"], ["*"], ["*"])], labels=L(comp), helm=helm)
        k.crb(
            f"argocd-{comp}",
            f"argocd-{comp}",
            [sa_subject(ns, f"argocd-{comp}")],
            labels=L(comp),
            helm=helm,
        )

    sel = lambda comp: {
        "app.kubernetes.io/name": f"argocd-{comp}",
        "app.kubernetes.io/instance": rel,
    }
    k.sts(
        ns,
        "argocd-application-controller",
        ps(
            c(
                "application-controller",
                img,
                args=["/usr/local/bin/argocd-application-controller", "--metrics-port=8082"],
                env=[
                    *params(
                        ("ARGOCD_CONTROLLER_REPLICAS", "controller.replicas"),
                        ("ARGOCD_RECONCILIATION_TIMEOUT", "timeout.reconciliation"),
                        ("ARGOCD_APPLICATION_CONTROLLER_REPO_SERVER", "repo.server"),
                        ("REDIS_SERVER", "redis.server"),
                    ),
                    *redis_env,
                ],
            ),
            sa="argocd-application-controller",
            volumes=[
                v_empty("argocd-home"),
                {
                    "name": "argocd-cmd-params-cm",
                    "configMap": {
                        "name": "argocd-cmd-params-cm",
                        "optional": True,
                        "items": [
                            {"key": "controller.profile.enabled", "path": "profiler.enabled"}
                        ],
                    },
                },
            ],
        ),
        selector=sel("application-controller"),
        labels=L("application-controller"),
        helm=helm,
        service_name="argocd-application-controller",
        created=INSTALLED,
    )
    for comp, vols, extra_env in [
        (
            "server",
            [
                *common_vols,
                v_empty("static-files"),
                v_secret("argocd-repo-server-tls", "argocd-repo-server-tls", True),
            ],
            params(
                ("ARGOCD_SERVER_INSECURE", "server.insecure"),
                ("ARGOCD_SERVER_ROOTPATH", "server.rootpath"),
            ),
        ),
        (
            "repo-server",
            [
                *common_vols,
                v_cm("gpg-keys", "argocd-gpg-keys-cm"),
                v_secret("argocd-repo-server-tls", "argocd-repo-server-tls", True),
                v_empty("tmp"),
                v_empty("helm-working-dir"),
                v_empty("plugins"),
            ],
            params(
                ("ARGOCD_RECONCILIATION_TIMEOUT", "timeout.reconciliation"),
                ("ARGOCD_REPO_SERVER_LOGFORMAT", "reposerver.log.format"),
            ),
        ),
        (
            "applicationset-controller",
            common_vols,
            params(
                (
                    "ARGOCD_APPLICATIONSET_CONTROLLER_GLOBAL_PRESERVED_ANNOTATIONS",
                    "applicationsetcontroller.global.preserved.annotations",
                )
            ),
        ),
        (
            "notifications-controller",
            [
                v_cm("tls-certs", "argocd-tls-certs-cm"),
                v_secret("argocd-repo-server-tls", "argocd-repo-server-tls", True),
            ],
            params(
                ("ARGOCD_NOTIFICATIONS_CONTROLLER_LOGLEVEL", "notificationscontroller.log.level")
            ),
        ),
    ]:
        sa_ = f"argocd-{comp}" if comp != "repo-server" else "argocd-repo-server"
        k.deploy(
            ns,
            f"argocd-{comp}",
            ps(
                c(comp, img, args=[f"/usr/local/bin/argocd-{comp}"], env=[*extra_env, *redis_env]),
                sa=sa_,
                volumes=vols,
                init=[
                    c(
                        "copyutil",
                        img,
                        command=["/bin/cp", "-n", "/usr/local/bin/argocd", "/var/run/argocd/"],
                    )
                ]
                if comp == "repo-server"
                else None,
            ),
            selector=sel(comp),
            labels=L(comp),
            helm=helm,
            created=INSTALLED,
            old_revisions=2,
        )
    k.deploy(
        ns,
        "argocd-dex-server",
        ps(
            c(
                "dex-server",
                "ghcr.io/dexidp/dex:v2.41.1",
                command=["/shared/argocd-dex", "rundex"],
                env=[
                    env_cm(
                        "ARGOCD_DEX_SERVER_LOGFORMAT",
                        "argocd-cmd-params-cm",
                        "dexserver.log.format",
                        True,
                    )
                ],
            ),
            init=[
                c(
                    "copyutil",
                    img,
                    command=["/bin/cp", "-n", "/usr/local/bin/argocd", "/shared/argocd-dex"],
                )
            ],
            sa="argocd-dex-server",
            volumes=[
                v_empty("static-files"),
                v_empty("dexconfig"),
                v_secret("argocd-dex-server-tls", "argocd-dex-server-tls", True),
            ],
        ),
        selector=sel("dex-server"),
        labels=L("dex-server"),
        helm=helm,
        created=INSTALLED,
    )
    k.deploy(
        ns,
        "argocd-redis",
        ps(
            c(
                "redis",
                "public.ecr.aws/docker/library/redis:7.4.1-alpine",
                args=["--save", "", "--appendonly", "no", "--requirepass $(REDIS_PASSWORD)"],
                env=redis_env,
            ),
            sa="default",
            volumes=[v_empty("health")],
        ),
        selector=sel("redis"),
        labels=L("redis"),
        helm=helm,
        created=INSTALLED,
    )
    for comp, port in [
        ("server", 80),
        ("repo-server", 8081),
        ("applicationset-controller", 7000),
        ("dex-server", 5556),
        ("redis", 6379),
    ]:
        k.svc(
            ns, f"argocd-{comp}", sel(comp), ports=[("http", port, port)], labels=L(comp), helm=helm
        )
    k.svc(
        ns,
        "argocd-application-controller",
        sel("application-controller"),
        headless=True,
        ports=[("metrics", 8082, 8082)],
        labels=L("application-controller"),
        helm=helm,
    )
    # The redis-secret-init hook: deleted only by the next upgrade (before-hook-creation).
    init_hook = {
        "helm.sh/hook": "pre-install,pre-upgrade",
        "helm.sh/hook-delete-policy": "before-hook-creation",
    }
    k.sa(
        ns,
        "argocd-redis-secret-init",
        labels=L("redis-secret-init"),
        annotations=init_hook,
        created=UPGRADED,
    )
    k.role(
        ns,
        "argocd-redis-secret-init",
        [rule([""], ["secrets"], ["get", "create"])],
        labels=L("redis-secret-init"),
        annotations=init_hook,
        created=UPGRADED,
    )
    k.rb(
        ns,
        "argocd-redis-secret-init",
        "argocd-redis-secret-init",
        [sa_subject(ns, "argocd-redis-secret-init")],
        labels=L("redis-secret-init"),
        annotations=init_hook,
        created=UPGRADED,
    )
    k.job(
        ns,
        "argocd-redis-secret-init",
        ps(
            c("secret-init", img, command=["argocd", "admin", "redis-initial-password"]),
            sa="argocd-redis-secret-init",
        ),
        labels=L("redis-secret-init"),
        annotations=init_hook,
        finished=UPGRADED - timedelta(minutes=1),
        created=UPGRADED,
    )
    # The Helm chart's NetworkPolicies (global.networkPolicy.create=true).
    for comp in (
        "application-controller",
        "applicationset-controller",
        "dex-server",
        "notifications-controller",
        "redis",
        "repo-server",
        "server",
    ):
        k.netpol(ns, f"argocd-{comp}", {"matchLabels": sel(comp)}, labels=L(comp), helm=helm)
    for plural, kind in [
        ("applications", "Application"),
        ("applicationsets", "ApplicationSet"),
        ("appprojects", "AppProject"),
    ]:
        k.crd(
            plural,
            "argoproj.io",
            kind,
            versions=("v1alpha1",),
            labels={"app.kubernetes.io/name": plural, "app.kubernetes.io/part-of": "argocd"},
            annotations={"helm.sh/resource-policy": "keep"},
            helm=helm,
        )
    k.cr("argoproj.io/v1alpha1", "AppProject", "default", ns)
    k.cr("argoproj.io/v1alpha1", "Application", "guestbook", ns)
    k.cr("argoproj.io/v1alpha1", "Application", "online-boutique", ns)

    # The guestbook application, applied by Argo CD with its default label tracking.
    gns = "guestbook"
    track = {"app.kubernetes.io/instance": "guestbook"}
    k.namespace(gns, created=timedelta(days=50), labels=track)
    k.cm(gns, "guestbook-ui-config", labels=track, data={"REDIS_HOST": "redis-leader"})
    k.deploy(
        gns,
        "guestbook-ui",
        ps(
            c(
                "guestbook-ui",
                "gcr.io/heptio-images/ks-guestbook-demo:0.2",
                env_from=[{"configMapRef": {"name": "guestbook-ui-config"}}],
            )
        ),
        selector={"app": "guestbook-ui"},
        labels=track,
        created=timedelta(days=50),
    )
    k.svc(gns, "guestbook-ui", {"app": "guestbook-ui"}, labels=track)
    k.deploy(
        gns,
        "redis-leader",
        ps(c("leader", "docker.io/redis:6.0.5")),
        selector={"app": "redis", "role": "leader", "tier": "backend"},
        labels=track,
    )
    k.svc(
        gns,
        "redis-leader",
        {"app": "redis", "role": "leader", "tier": "backend"},
        ports=[("redis", 6379, 6379)],
        labels=track,
    )
    k.hpa(gns, "guestbook-ui", "Deployment", "guestbook-ui", labels=track, min_replicas=1)


# ----------------------------------------------------------------------------------------
# Online Boutique (microservices-demo release/kubernetes-manifests.yaml + Helm NetworkPolicies)
# ----------------------------------------------------------------------------------------
BOUTIQUE = [
    ("emailservice", 5000, 8080),
    ("checkoutservice", 5050, 5050),
    ("recommendationservice", 8080, 8080),
    ("frontend", 80, 8080),
    ("paymentservice", 50051, 50051),
    ("productcatalogservice", 3550, 3550),
    ("cartservice", 7070, 7070),
    ("currencyservice", 7000, 7000),
    ("shippingservice", 50051, 50051),
    ("adservice", 9555, 9555),
    ("redis-cart", 6379, 6379),
]


def online_boutique(k: Cluster, ns: str = "boutique") -> None:
    created = timedelta(days=45)
    track = {"app.kubernetes.io/instance": "online-boutique"}
    k.namespace(ns, created=created, labels=track)
    img = "us-central1-docker.pkg.dev/google-samples/microservices-demo"
    for name, port, target in BOUTIQUE:
        sel = {"app": name}
        if name == "redis-cart":
            spec = ps(c("redis", "redis:alpine"), volumes=[v_empty("redis-data")])
        else:
            k.sa(ns, name, labels=track, created=created)
            envs = [env("PORT", str(target))]
            if name == "cartservice":
                envs.append(env("REDIS_ADDR", "redis-cart:6379"))
            if name == "frontend":
                envs += [
                    env("PRODUCT_CATALOG_SERVICE_ADDR", "productcatalogservice:3550"),
                    env("ENABLE_PROFILER", "0"),
                ]
            spec = ps(c("server", f"{img}/{name}:v0.10.2", env=envs), sa=name)
        k.deploy(ns, name, spec, selector=sel, labels=track, created=created)
        k.svc(
            ns,
            name,
            sel,
            ports=[("grpc" if name != "frontend" else "http", port, target)],
            labels=track,
        )
        k.netpol(ns, name, {"matchLabels": sel}, labels=track)
    k.svc(
        ns,
        "frontend-external",
        {"app": "frontend"},
        type_="LoadBalancer",
        ports=[("http", 80, 8080)],
        lb_ip="34.120.1.2",
        labels=track,
    )
    k.sa(ns, "loadgenerator", labels=track, created=created)
    k.deploy(
        ns,
        "loadgenerator",
        ps(
            c(
                "main",
                f"{img}/loadgenerator:v0.10.2",
                env=[env("FRONTEND_ADDR", "frontend:80"), env("USERS", "10"), env("RATE", "1")],
            ),
            init=[
                c(
                    "frontend-check",
                    "busybox:latest",
                    command=["/bin/sh", "-exc", "until wget -qO- $FRONTEND_ADDR; do sleep 1; done"],
                )
            ],
            sa="loadgenerator",
        ),
        selector={"app": "loadgenerator"},
        labels=track,
        created=created,
    )
    k.netpol(ns, "loadgenerator", {"matchLabels": {"app": "loadgenerator"}}, labels=track)
    k.netpol(ns, "deny-all", {}, labels=track)


# ----------------------------------------------------------------------------------------
# A team's app: Ingress TLS from cert-manager, KEDA scale-to-zero worker, HPA, PDB, StatefulSet
# ----------------------------------------------------------------------------------------
def shop_app(k: Cluster, sc: str = "gp3") -> None:
    ns = "shop"
    created = timedelta(days=90)
    team = {"team": "payments"}
    k.namespace(ns, created=created, labels=team)
    k.secret(ns, "regcred", "kubernetes.io/dockerconfigjson", data={".dockerconfigjson": ".."})
    k.sa(ns, "storefront", pull_secrets=["regcred"])
    k.cm(ns, "storefront-config")
    k.secret(ns, "storefront-db", data={"url": ".."})
    k.deploy(
        ns,
        "storefront",
        ps(
            c(
                "web",
                "ghcr.io/acme/storefront:2.4.1",
                env_from=[{"configMapRef": {"name": "storefront-config"}}],
                env=[env_secret("DATABASE_URL", "storefront-db", "url")],
            ),
            sa="storefront",
        ),
        selector={"app": "storefront"},
        labels=team,
        replicas=3,
        created=created,
    )
    k.svc(ns, "storefront", {"app": "storefront"}, labels=team)
    k.hpa(ns, "storefront", "Deployment", "storefront", labels=team)
    k.pdb(ns, "storefront", {"app": "storefront"}, labels=team)
    ing = k.ingress(
        ns,
        "storefront",
        "shop.example.com",
        [("/", "storefront", 80)],
        tls_secret="shop-tls",
        annotations={"cert-manager.io/cluster-issuer": "letsencrypt-prod"},
        labels=team,
    )
    issue_tls(k, ns, ing, "shop-tls")
    # A queue worker that KEDA scales to zero when the queue is empty.
    k.cm(ns, "order-worker-config")
    k.secret(ns, "order-worker-amqp", data={"host": ".."})
    k.deploy(
        ns,
        "order-worker",
        ps(
            c(
                "worker",
                "ghcr.io/acme/order-worker:1.9.0",
                env_from=[{"configMapRef": {"name": "order-worker-config"}}],
                env=[env_secret("AMQP_URL", "order-worker-amqp", "host")],
            )
        ),
        selector={"app": "order-worker"},
        labels=team,
        replicas=0,
        created=created,
    )
    k.cr(
        "keda.sh/v1alpha1",
        "ScaledObject",
        "order-worker",
        ns,
        labels=team,
        body={
            "spec": {
                "scaleTargetRef": {"name": "order-worker"},
                "minReplicaCount": 0,
                "maxReplicaCount": 20,
                "triggers": [
                    {"type": "rabbitmq", "authenticationRef": {"name": "order-worker-amqp"}}
                ],
            }
        },
    )
    k.obj(
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        "keda-hpa-order-worker",
        ns,
        labels={
            "app.kubernetes.io/managed-by": "keda-operator",
            "scaledobject.keda.sh/name": "order-worker",
        },
        owner=k.ref_to("keda.sh/v1alpha1", "ScaledObject", ns, "order-worker"),
        body={
            "spec": {
                "scaleTargetRef": {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "order-worker",
                },
                "minReplicas": 1,
                "maxReplicas": 20,
            }
        },
    )
    k.cr("keda.sh/v1alpha1", "TriggerAuthentication", "order-worker-amqp", ns)
    # A Postgres StatefulSet with its PVCs, and a nightly backup CronJob (live, not suspended).
    k.secret(ns, "postgres-auth", data={"password": ".."})
    k.sts(
        ns,
        "postgres",
        ps(
            c(
                "postgres",
                "postgres:16.4",
                env=[
                    env_secret("POSTGRES_PASSWORD", "postgres-auth", "password"),
                    env("PGDATA", "/var/lib/postgresql/data/pgdata"),
                ],
                cpu="500m",
                mem="1Gi",
            )
        ),
        selector={"app": "postgres"},
        labels=team,
        vcts=[("data", "100Gi", sc)],
        replicas=2,
        created=created,
    )
    k.svc(
        ns, "postgres", {"app": "postgres"}, headless=True, ports=[("pg", 5432, 5432)], labels=team
    )
    k.cm(ns, "pg-backup-script")
    k.sa(ns, "pg-backup")
    k.obj(
        "batch/v1",
        "CronJob",
        "pg-backup",
        ns,
        labels=team,
        body={
            "spec": {
                "schedule": "0 3 * * *",
                "suspend": False,
                "successfulJobsHistoryLimit": 3,
                "jobTemplate": {
                    "spec": {
                        "template": {
                            "spec": ps(
                                c(
                                    "backup",
                                    "postgres:16.4",
                                    command=["/scripts/backup.sh"],
                                    env=[env_secret("PGPASSWORD", "postgres-auth", "password")],
                                ),
                                sa="pg-backup",
                                volumes=[v_cm("scripts", "pg-backup-script")],
                            )
                        }
                    }
                },
            },
            "status": {
                "lastScheduleTime": "2026-11-25T03:00:00Z",
                "lastSuccessfulTime": "2026-11-25T03:04:12Z",
            },
        },
    )
    cj = k.get("CronJob", ns, "pg-backup")
    for day in (1, 2, 3):
        k.job(
            ns,
            f"pg-backup-2941{day:02d}80",
            ps(
                c(
                    "backup",
                    "postgres:16.4",
                    env=[env_secret("PGPASSWORD", "postgres-auth", "password")],
                ),
                sa="pg-backup",
                volumes=[v_cm("scripts", "pg-backup-script")],
            ),
            owner=Cluster.ref(cj),
            finished=timedelta(days=day - 1, hours=8, minutes=55),
            created=timedelta(days=day - 1, hours=9),
        )
    k.netpol(ns, "postgres-ingress", {"matchLabels": {"app": "postgres"}}, labels=team)
    k.netpol(ns, "default-deny", {}, labels=team)
    k.role(ns, "storefront-leader", [rule(["coordination.k8s.io"], ["leases"], ALLV)])
    k.rb(ns, "storefront-leader", "storefront-leader", [sa_subject(ns, "storefront")])
    k.rb(
        ns,
        "payments-team-edit",
        "edit",
        [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "payments-devs"}],
        cluster_role=True,
    )


# ----------------------------------------------------------------------------------------
# Healthy, but easy to misread: references a scanner cannot see directly
# ----------------------------------------------------------------------------------------
def tricky_but_healthy(k: Cluster, sc: str = "gp3") -> None:
    ns = "shop"
    # ingress-nginx basic auth: the Secret is named only in an Ingress annotation.
    k.secret(ns, "admin-basic-auth", data={"auth": ".."}, created=timedelta(days=80))
    k.ingress(
        ns,
        "admin",
        "admin.shop.example.com",
        [("/", "storefront", 80)],
        created=timedelta(days=80),
        annotations={
            "nginx.ingress.kubernetes.io/auth-type": "basic",
            "nginx.ingress.kubernetes.io/auth-secret": "admin-basic-auth",
            "nginx.ingress.kubernetes.io/auth-realm": "Authentication Required",
        },
    )
    # An Ingress whose backend is an ExternalName Service (never reported itself).
    k.obj(
        "v1",
        "Service",
        "cdn-origin",
        ns,
        body={"spec": {"type": "ExternalName", "externalName": "origin.cdn.example.net"}},
    )
    k.ingress(
        ns, "cdn", "static.shop.example.com", [("/", "cdn-origin", 443)], created=timedelta(days=80)
    )
    # A private CA managed by cert-manager: the Secret is read by the CA Issuer, not by a pod.
    k.cr("cert-manager.io/v1", "Issuer", "shop-ca", ns)
    k.cr("cert-manager.io/v1", "Certificate", "shop-root-ca", ns)
    k.secret(
        ns,
        "shop-root-ca",
        "kubernetes.io/tls",
        created=timedelta(days=80),
        annotations={
            "cert-manager.io/certificate-name": "shop-root-ca",
            "cert-manager.io/issuer-kind": "ClusterIssuer",
            "cert-manager.io/issuer-name": "selfsigned",
            "cert-manager.io/common-name": "shop-ca",
        },
    )
    # Secrets Store CSI: the credentials Secret is referenced by csi.nodePublishSecretRef.
    k.secret(
        ns,
        "kv-creds",
        data={"clientid": "..", "clientsecret": ".."},
        labels={"secrets-store.csi.k8s.io/used": "true"},
    )
    k.deploy(
        ns,
        "checkout",
        ps(
            c("checkout", "ghcr.io/acme/checkout:3.0.0"),
            volumes=[
                {
                    "name": "secrets-store",
                    "csi": {
                        "driver": "secrets-store.csi.k8s.io",
                        "readOnly": True,
                        "volumeAttributes": {"secretProviderClass": "checkout-kv"},
                        "nodePublishSecretRef": {"name": "kv-creds"},
                    },
                }
            ],
        ),
        selector={"app": "checkout"},
        created=timedelta(days=80),
    )
    # KEDA scale-to-zero worker: a metrics Service and a PDB that select its (absent) pods.
    k.svc(ns, "order-worker-metrics", {"app": "order-worker"}, ports=[("metrics", 9090, 9090)])
    k.pdb(ns, "order-worker", {"app": "order-worker"})
    # A CronJob's pods get a NetworkPolicy; the CronJob is live though no pod runs right now.
    cj = k.get("CronJob", ns, "pg-backup")
    cj["spec"]["jobTemplate"]["spec"]["template"]["metadata"] = {"labels": {"app": "pg-backup"}}
    k.netpol(ns, "pg-backup-egress", {"matchLabels": {"app": "pg-backup"}})
    # A long-lived token for an external CI system (its ServiceAccount exists and is bound).
    k.sa(ns, "gitlab-deployer")
    k.rb(ns, "gitlab-deployer", "edit", [sa_subject(ns, "gitlab-deployer")], cluster_role=True)
    k.secret(
        ns,
        "gitlab-deployer-token",
        "kubernetes.io/service-account-token",
        annotations={"kubernetes.io/service-account.name": "gitlab-deployer"},
    )
    # Argo Rollouts: an HPA targets a Rollout, the Rollout's pods are live.
    ro = k.cr("argoproj.io/v1alpha1", "Rollout", "search", ns)
    k.crd("rollouts", "argoproj.io", "Rollout", versions=("v1alpha1",))
    rs = k.obj(
        "apps/v1",
        "ReplicaSet",
        "search-5f7b9c4d8",
        ns,
        owner=Cluster.ref(ro),
        labels={"app": "search", "rollouts-pod-template-hash": "5f7b9c4d8"},
        body={
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "search"}},
                "template": {
                    "metadata": {"labels": {"app": "search"}},
                    "spec": ps(c("search", "ghcr.io/acme/search:2.2")),
                },
            },
            "status": {"replicas": 2, "readyReplicas": 2},
        },
    )
    for i in range(2):
        k._pod(
            ns,
            f"search-5f7b9c4d8-r{i}zzq",
            {"app": "search", "rollouts-pod-template-hash": "5f7b9c4d8"},
            ps(c("search", "ghcr.io/acme/search:2.2")),
            rs,
        )
    k.svc(ns, "search", {"app": "search"})
    k.obj(
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        "search",
        ns,
        body={
            "spec": {
                "scaleTargetRef": {
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "Rollout",
                    "name": "search",
                },
                "minReplicas": 2,
                "maxReplicas": 8,
            }
        },
    )
    # Argo Workflows: a finished workflow's pods, owned by the (existing) Workflow, until podGC.
    wf = k.cr("argoproj.io/v1alpha1", "Workflow", "etl-nightly-8kq2w", ns)
    k.crd("workflows", "argoproj.io", "Workflow", versions=("v1alpha1",))
    k._pod(
        ns,
        "etl-nightly-8kq2w-extract-1234567890",
        {
            "workflows.argoproj.io/workflow": "etl-nightly-8kq2w",
            "workflows.argoproj.io/completed": "true",
        },
        ps(c("main", "ghcr.io/acme/etl:1")),
        wf,
        phase="Succeeded",
        created=timedelta(hours=9),
        status={
            "containerStatuses": [
                {
                    "name": "main",
                    "ready": False,
                    "restartCount": 0,
                    "image": "x",
                    "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
                }
            ]
        },
    )
    # A brand-new tenant namespace, provisioned an hour ago, before its first deployment.
    tn = "team-data"
    k.namespace(tn, created=timedelta(hours=1), labels={"team": "data"})
    k.rb(
        tn,
        "team-data-admin",
        "admin",
        [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "data-engineers"}],
        cluster_role=True,
        created=timedelta(hours=1),
    )
    k.netpol(tn, "default-deny", {}, created=timedelta(hours=1))
    k.obj(
        "v1",
        "ResourceQuota",
        "compute",
        tn,
        created=timedelta(hours=1),
        body={"spec": {"hard": {"requests.cpu": "20"}}},
    )
    # NVIDIA device plugin waiting for Karpenter to bring up GPU nodes (none right now).
    gns = "nvidia-device-plugin"
    k.namespace(gns, created=INSTALLED)
    nl = helm_labels("nvdp", "nvidia-device-plugin", "0.17.0", "nvidia-device-plugin")
    k.helm_release(gns, "nvdp", "nvidia-device-plugin", "0.17.0", created=INSTALLED)
    k.sa(gns, "nvdp-nvidia-device-plugin-service-account", labels=nl, helm=("nvdp", gns))
    k.cm(gns, "nvdp-nvidia-device-plugin-configs", labels=nl, helm=("nvdp", gns))
    k.ds(
        gns,
        "nvdp-nvidia-device-plugin",
        ps(
            c("nvidia-device-plugin-ctr", "nvcr.io/nvidia/k8s-device-plugin:v0.17.0"),
            sa="nvdp-nvidia-device-plugin-service-account",
            volumes=[v_cm("available-configs", "nvdp-nvidia-device-plugin-configs")],
            pc="system-node-critical",
        ),
        labels=nl,
        helm=("nvdp", gns),
        node_selector={"karpenter.k8s.aws/instance-gpu-manufacturer": "nvidia"},
        created=INSTALLED,
    )
    # kube-downscaler scaled the staging copy down for the night (annotation keeps the count).
    st = "shop-staging"
    k.namespace(st, created=timedelta(days=70), labels={"downscaler/exclude": "false"})
    k.cm(st, "storefront-config", created=timedelta(days=70))
    d = k.deploy(
        st,
        "storefront",
        ps(
            c(
                "web",
                "ghcr.io/acme/storefront:2.5.0-rc1",
                env_from=[{"configMapRef": {"name": "storefront-config"}}],
            )
        ),
        selector={"app": "storefront"},
        replicas=0,
        created=timedelta(days=70),
    )
    d["metadata"]["annotations"]["downscaler/original-replicas"] = "2"
    k.svc(st, "storefront", {"app": "storefront"})
    assert sc


# ----------------------------------------------------------------------------------------
# Istio (istiod via Helm) injecting sidecars into the Online Boutique namespace
# ----------------------------------------------------------------------------------------
def istio(k: Cluster, ns_injected: str = "boutique") -> None:
    ns, rel = "istio-system", "istiod"
    helm = (rel, ns)
    k.namespace(ns, created=INSTALLED)
    k.helm_release(ns, "istio-base", "base", "1.24.1", created=INSTALLED)
    k.helm_release(ns, rel, "istiod", "1.24.1", created=INSTALLED)
    il = {
        "app": "istiod",
        "istio.io/rev": "default",
        "install.operator.istio.io/owning-resource": "unknown",
        "operator.istio.io/component": "Pilot",
        "app.kubernetes.io/managed-by": "Helm",
        "app.kubernetes.io/instance": rel,
        "app.kubernetes.io/name": "istiod",
        "app.kubernetes.io/part-of": "istio",
        "helm.sh/chart": "istiod-1.24.1",
    }
    k.sa(ns, "istiod", labels=il, helm=helm)
    k.sa(ns, "istio-reader-service-account", labels=il, helm=helm)
    k.clusterrole(
        "istiod-clusterrole-istio-system",
        [rule([""], ["configmaps"], ["create", "get", "list", "watch", "update"])],
        labels=il,
        helm=helm,
    )
    k.crb(
        "istiod-clusterrole-istio-system",
        "istiod-clusterrole-istio-system",
        [sa_subject(ns, "istiod")],
        labels=il,
        helm=helm,
    )
    k.clusterrole(
        "istio-reader-clusterrole-istio-system", [rule(["*"], ["*"], READ)], labels=il, helm=helm
    )
    k.crb(
        "istio-reader-clusterrole-istio-system",
        "istio-reader-clusterrole-istio-system",
        [sa_subject(ns, "istio-reader-service-account")],
        labels=il,
        helm=helm,
    )
    k.role(
        ns,
        "istiod",
        [rule([""], ["secrets"], ["create", "get", "watch", "list", "update", "delete"])],
        labels=il,
        helm=helm,
    )
    k.rb(ns, "istiod", "istiod", [sa_subject(ns, "istiod")], labels=il, helm=helm)
    k.cm(ns, "istio", labels=il, helm=helm)
    k.cm(ns, "istio-sidecar-injector", labels=il, helm=helm)
    k.cm(ns, "istio-ca-root-cert", labels={"istio.io/config": "true"})
    k.secret(ns, "istio-ca-secret", "istio.io/ca-root", created=INSTALLED)
    k.deploy(
        ns,
        "istiod",
        ps(
            c(
                "discovery",
                "docker.io/istio/pilot:1.24.1",
                args=[
                    "discovery",
                    "--monitoringAddr=:15014",
                    "--domain",
                    "cluster.local",
                    "--keepaliveMaxServerConnectionAge",
                    "30m",
                ],
            ),
            sa="istiod",
            volumes=[
                v_cm("config-volume", "istio"),
                v_cm("inject", "istio-sidecar-injector"),
                v_secret("cacerts", "cacerts", True),
                {
                    "name": "istio-token",
                    "projected": {
                        "sources": [
                            {"serviceAccountToken": {"audience": "istio-ca", "path": "istio-token"}}
                        ]
                    },
                },
            ],
        ),
        selector={"app": "istiod", "istio": "pilot"},
        labels=il,
        helm=helm,
        replicas=2,
        created=INSTALLED,
    )
    k.svc(
        ns,
        "istiod",
        {"app": "istiod", "istio": "pilot"},
        ports=[("grpc-xds", 15010, 15010), ("https-webhook", 443, 15017)],
        labels=il,
        helm=helm,
    )
    k.hpa(ns, "istiod", "Deployment", "istiod", labels=il, helm=helm, min_replicas=2)
    k.pdb(ns, "istiod", {"app": "istiod", "istio": "pilot"}, labels=il, helm=helm)
    k.webhook(
        "MutatingWebhookConfiguration",
        "istio-sidecar-injector",
        [(ns, "istiod")] * 4,
        labels=il,
        helm=helm,
    )
    k.webhook(
        "ValidatingWebhookConfiguration",
        "istio-validator-istio-system",
        [(ns, "istiod")],
        labels=il,
        helm=helm,
    )
    for plural, grp, kind in [
        ("virtualservices", "networking.istio.io", "VirtualService"),
        ("destinationrules", "networking.istio.io", "DestinationRule"),
        ("gateways", "networking.istio.io", "Gateway"),
        ("serviceentries", "networking.istio.io", "ServiceEntry"),
        ("sidecars", "networking.istio.io", "Sidecar"),
        ("envoyfilters", "networking.istio.io", "EnvoyFilter"),
        ("workloadentries", "networking.istio.io", "WorkloadEntry"),
        ("workloadgroups", "networking.istio.io", "WorkloadGroup"),
        ("proxyconfigs", "networking.istio.io", "ProxyConfig"),
        ("authorizationpolicies", "security.istio.io", "AuthorizationPolicy"),
        ("peerauthentications", "security.istio.io", "PeerAuthentication"),
        ("requestauthentications", "security.istio.io", "RequestAuthentication"),
        ("telemetries", "telemetry.istio.io", "Telemetry"),
        ("wasmplugins", "extensions.istio.io", "WasmPlugin"),
    ]:
        k.crd(
            plural,
            grp,
            kind,
            versions=("v1alpha3", "v1beta1", "v1"),
            labels={
                "app.kubernetes.io/part-of": "istio",
                "app.kubernetes.io/instance": "istio-base",
                "app.kubernetes.io/managed-by": "Helm",
            },
            helm=("istio-base", ns),
        )
    for name, kind in [("frontend", "VirtualService"), ("default", "PeerAuthentication")]:
        grp = "networking.istio.io" if kind == "VirtualService" else "security.istio.io"
        k.cr(f"{grp}/v1", kind, name, ns_injected)
    # istiod writes the mesh root certificate into every namespace; injected sidecars mount it.
    k.namespaces[ns_injected]["metadata"]["labels"]["istio-injection"] = "enabled"
    k.cm(ns_injected, "istio-ca-root-cert", labels={"istio.io/config": "true"})
    for o in k.items:
        if o["kind"] == "Pod" and o["metadata"]["namespace"] == ns_injected:
            o["spec"]["initContainers"] = [
                *o["spec"].get("initContainers", []),
                c("istio-init", "docker.io/istio/proxyv2:1.24.1"),
            ]
            o["spec"]["containers"].append(
                c(
                    "istio-proxy",
                    "docker.io/istio/proxyv2:1.24.1",
                    args=["proxy", "sidecar", "--domain", f"{ns_injected}.svc.cluster.local"],
                    cpu="100m",
                    mem="128Mi",
                )
            )
            o["spec"]["volumes"] += [
                v_empty("workload-socket"),
                v_empty("credential-socket"),
                v_empty("workload-certs"),
                v_empty("istio-envoy"),
                v_empty("istio-data"),
                {"name": "istio-podinfo", "downwardAPI": {"items": [{"path": "labels"}]}},
                {
                    "name": "istio-token",
                    "projected": {
                        "sources": [
                            {"serviceAccountToken": {"audience": "istio-ca", "path": "istio-token"}}
                        ]
                    },
                },
                v_cm("istiod-ca-cert", "istio-ca-root-cert"),
            ]
            o["metadata"].setdefault("labels", {}).update(
                {"security.istio.io/tlsMode": "istio", "service.istio.io/canonical-name": "x"}
            )
