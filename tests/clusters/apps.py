"""Healthy installs of well-known applications on a simulated cluster.

The six reference manifests are applied verbatim from ``tests/clusters/manifests`` (the
path is derived from this file), followed by what those applications create at run time
(secrets written by init jobs/containers, custom resources their controllers create).
cert-manager is not in the reference directory: ``install_cert_manager`` reproduces the objects
of its static v1.16 ``cert-manager.yaml`` (minus rule bodies and CRD schemas, which no rule reads).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from tests.clusters.platforms import (
    LINUX,
    cluster_role,
    container,
    crb,
    crd,
    custom,
    deployment,
    grant,
    ns_obj,
    pod_template,
    rb,
    role,
    sa,
    secret,
    service,
    subj,
    webhook_config,
)
from tests.clusters.sim import Cluster, Obj, load_yaml_file, safe_suffix

MANIFESTS = Path(__file__).resolve().parent / "manifests"


REFERENCE_FILES = {
    "online-boutique": "online-boutique.yaml.gz",
    "ingress-nginx": "ingress-nginx.yaml.gz",
    "metrics-server": "metrics-server.yaml.gz",
    "kube-prometheus": "kube-prometheus.yaml.gz",
    "argo-cd": "argo-cd.yaml.gz",
    "kubernetes-dashboard": "kubernetes-dashboard.yaml.gz",
}


@cache
def _manifest(name: str) -> tuple[Obj, ...]:
    return tuple(load_yaml_file(MANIFESTS / REFERENCE_FILES[name]))


def _docs(name: str) -> list[Obj]:
    return copy.deepcopy(list(_manifest(name)))


def install_online_boutique(c: Cluster, namespace: str = "default") -> None:
    """``kubectl apply -f release/kubernetes-manifests.yaml`` (into ``default`` by default)."""
    if namespace != "default" and c.get("Namespace", None, namespace) is None:
        c.apply(ns_obj(namespace), created=c.created + timedelta(days=5))
    c.apply(_docs("online-boutique"), namespace, created=c.created + timedelta(days=5))
    c.settle()


def install_ingress_nginx(c: Cluster) -> None:
    """The AWS flavour of ingress-nginx's static deploy manifest, plus what its Jobs leave."""
    when = c.created + timedelta(days=2)
    c.apply(_docs("ingress-nginx"), created=when)
    # kube-webhook-certgen (the admission-create Job, TTL 0, already gone) wrote the serving
    # certificate and the patch Job put its CA into the webhook configuration.
    c.apply(secret("ingress-nginx", "ingress-nginx-admission"), created=when + timedelta(minutes=1))
    vwc = c.require("ValidatingWebhookConfiguration", None, "ingress-nginx-admission")
    for hook in vwc["webhooks"]:
        hook["clientConfig"]["caBundle"] = "LS0tLS1CRUdJTi..."
    c.settle()


def install_metrics_server(c: Cluster) -> None:
    """metrics-server's released components.yaml (kube-system)."""
    c.apply(_docs("metrics-server"), created=c.created + timedelta(days=1))
    c.settle()


def install_kube_prometheus(c: Cluster) -> None:
    """kube-prometheus (setup CRDs, then the stack) and what the Prometheus Operator creates."""
    c.apply(_docs("kube-prometheus"), created=c.created + timedelta(days=3))
    c.settle()


def install_argo_cd(c: Cluster) -> None:
    """``kubectl create ns argocd; kubectl apply -n argocd -f install.yaml`` and its first start."""
    when = c.created + timedelta(days=4)
    c.apply(ns_obj("argocd"), created=when)
    c.apply(_docs("argo-cd"), "argocd", created=when)
    later = when + timedelta(minutes=2)
    # The argocd-redis init container (`argocd admin redis-initial-password`) writes the password.
    c.apply(secret("argocd", "argocd-redis"), created=later)
    # argocd-server writes the first admin password and the default project on first start.
    c.apply(secret("argocd", "argocd-initial-admin-secret"), created=later)
    c.apply(
        custom(
            "argoproj.io/v1alpha1",
            "AppProject",
            "default",
            "argocd",
            spec={
                "sourceRepos": ["*"],
                "destinations": [{"namespace": "*", "server": "*"}],
                "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
            },
        ),
        created=later,
    )
    c.settle()


def install_kubernetes_dashboard(c: Cluster) -> None:
    """Kubernetes Dashboard v2.0.4 recommended.yaml."""
    c.apply(_docs("kubernetes-dashboard"), created=c.created + timedelta(days=6))
    c.settle()


# --- cert-manager -------------------------------------------------------------------------

CM_VERSION = "v1.16.2"


def _cm_labels(component: str) -> dict[str, str]:
    name = component if component in ("cainjector", "webhook") else "cert-manager"
    return {
        "app": name,
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": "cert-manager",
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/version": CM_VERSION,
    }


def install_cert_manager(c: Cluster, *, with_issuer: bool = True, helm: bool = True) -> None:
    """cert-manager v1.16 (Helm release ``cert-manager``, upgraded once, or the static manifest
    when ``helm`` is False), and (healthy variant) an ACME ClusterIssuer used by an Ingress-shim
    Certificate for a small web app."""
    when = c.created + timedelta(days=3)
    ns = "cert-manager"
    ctrl, cai, wh = _cm_labels("controller"), _cm_labels("cainjector"), _cm_labels("webhook")
    crd_labels = _cm_labels("crds")
    objs: list[Obj] = [
        ns_obj(ns),
        crd("certificaterequests.cert-manager.io", "CertificateRequest", labels=crd_labels),
        crd("certificates.cert-manager.io", "Certificate", labels=crd_labels),
        crd("challenges.acme.cert-manager.io", "Challenge", labels=crd_labels),
        crd("clusterissuers.cert-manager.io", "ClusterIssuer", scope="Cluster", labels=crd_labels),
        crd("issuers.cert-manager.io", "Issuer", labels=crd_labels),
        crd("orders.acme.cert-manager.io", "Order", labels=crd_labels),
        sa(ns, "cert-manager-cainjector", cai),
        sa(ns, "cert-manager", ctrl),
        sa(ns, "cert-manager-webhook", wh),
        cluster_role(
            "cert-manager-cainjector", cai, rules=[grant(["secrets"], ["get", "list", "watch"])]
        ),
    ]
    # The controller's rule bodies as cert-manager ships them, for the Secrets it manages.
    secret_rw = [grant(["secrets"], ["get", "list", "watch", "create", "update", "delete"])]
    controller_rules = {
        "issuers": secret_rw,
        "clusterissuers": secret_rw,
        "certificates": secret_rw,
        "orders": [grant(["secrets"], ["get", "list", "watch"])],
        "challenges": [grant(["secrets"], ["get", "list", "watch"])],
        "ingress-shim": [],
    }
    for r, rules in controller_rules.items():
        objs += [
            cluster_role(f"cert-manager-controller-{r}", ctrl, rules=rules),
            crb(
                f"cert-manager-controller-{r}",
                f"cert-manager-controller-{r}",
                [subj("ServiceAccount", "cert-manager", ns)],
                ctrl,
            ),
        ]
    objs += [
        cluster_role(
            "cert-manager-cluster-view",
            {**ctrl, "rbac.authorization.k8s.io/aggregate-to-cluster-reader": "true"},
        ),
        cluster_role(
            "cert-manager-view",
            {
                **ctrl,
                "rbac.authorization.k8s.io/aggregate-to-cluster-reader": "true",
                "rbac.authorization.k8s.io/aggregate-to-view": "true",
                "rbac.authorization.k8s.io/aggregate-to-edit": "true",
                "rbac.authorization.k8s.io/aggregate-to-admin": "true",
            },
        ),
        cluster_role(
            "cert-manager-edit",
            {
                **ctrl,
                "rbac.authorization.k8s.io/aggregate-to-edit": "true",
                "rbac.authorization.k8s.io/aggregate-to-admin": "true",
            },
        ),
        cluster_role("cert-manager-controller-approve:cert-manager-io", ctrl),
        cluster_role("cert-manager-controller-certificatesigningrequests", ctrl),
        cluster_role("cert-manager-webhook:subjectaccessreviews", wh),
        crb(
            "cert-manager-cainjector",
            "cert-manager-cainjector",
            [subj("ServiceAccount", "cert-manager-cainjector", ns)],
            cai,
        ),
        crb(
            "cert-manager-controller-approve:cert-manager-io",
            "cert-manager-controller-approve:cert-manager-io",
            [subj("ServiceAccount", "cert-manager", ns)],
            ctrl,
        ),
        crb(
            "cert-manager-controller-certificatesigningrequests",
            "cert-manager-controller-certificatesigningrequests",
            [subj("ServiceAccount", "cert-manager", ns)],
            ctrl,
        ),
        crb(
            "cert-manager-webhook:subjectaccessreviews",
            "cert-manager-webhook:subjectaccessreviews",
            [subj("ServiceAccount", "cert-manager-webhook", ns)],
            wh,
        ),
        role("kube-system", "cert-manager-cainjector:leaderelection", cai),
        role("kube-system", "cert-manager:leaderelection", ctrl),
        role(ns, "cert-manager-tokenrequest", ctrl),
        role(
            ns,
            "cert-manager-webhook:dynamic-serving",
            wh,
            rules=[
                grant(["secrets"], ["get", "list", "watch", "update"], ["cert-manager-webhook-ca"]),
                grant(["secrets"], ["create"]),
            ],
        ),
        rb(
            "kube-system",
            "cert-manager-cainjector:leaderelection",
            "Role",
            "cert-manager-cainjector:leaderelection",
            [subj("ServiceAccount", "cert-manager-cainjector", ns)],
            cai,
        ),
        rb(
            "kube-system",
            "cert-manager:leaderelection",
            "Role",
            "cert-manager:leaderelection",
            [subj("ServiceAccount", "cert-manager", ns)],
            ctrl,
        ),
        rb(
            ns,
            "cert-manager-cert-manager-tokenrequest",
            "Role",
            "cert-manager-tokenrequest",
            [subj("ServiceAccount", "cert-manager", ns)],
            ctrl,
        ),
        rb(
            ns,
            "cert-manager-webhook:dynamic-serving",
            "Role",
            "cert-manager-webhook:dynamic-serving",
            [subj("ServiceAccount", "cert-manager-webhook", ns)],
            wh,
        ),
        service(
            ns,
            "cert-manager-cainjector",
            {
                "app.kubernetes.io/name": "cainjector",
                "app.kubernetes.io/instance": "cert-manager",
                "app.kubernetes.io/component": "cainjector",
            },
            [("http-metrics", 9402, 9402)],
            cai,
        ),
        service(
            ns,
            "cert-manager",
            {
                "app.kubernetes.io/name": "cert-manager",
                "app.kubernetes.io/instance": "cert-manager",
                "app.kubernetes.io/component": "controller",
            },
            [("tcp-prometheus-servicemonitor", 9402, "http-metrics")],
            ctrl,
        ),
        service(
            ns,
            "cert-manager-webhook",
            {
                "app.kubernetes.io/name": "webhook",
                "app.kubernetes.io/instance": "cert-manager",
                "app.kubernetes.io/component": "webhook",
            },
            [("https", 443, "https"), ("metrics", 9402, "http-metrics")],
            wh,
        ),
    ]
    sel = {"app.kubernetes.io/instance": "cert-manager"}
    objs += [
        deployment(
            ns,
            "cert-manager-cainjector",
            cai,
            pod_template(
                cai,
                [
                    container(
                        "cert-manager-cainjector",
                        f"quay.io/jetstack/cert-manager-cainjector:{CM_VERSION}",
                        ["--v=2", "--leader-election-namespace=kube-system"],
                        ports=[{"name": "http-metrics", "containerPort": 9402}],
                        env=[
                            {
                                "name": "POD_NAMESPACE",
                                "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
                            }
                        ],
                    )
                ],
                serviceAccountName="cert-manager-cainjector",
                enableServiceLinks=False,
                nodeSelector=LINUX,
                securityContext={
                    "runAsNonRoot": True,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
            ),
            selector={
                **sel,
                "app.kubernetes.io/name": "cainjector",
                "app.kubernetes.io/component": "cainjector",
            },
        ),
        deployment(
            ns,
            "cert-manager",
            ctrl,
            pod_template(
                ctrl,
                [
                    container(
                        "cert-manager-controller",
                        f"quay.io/jetstack/cert-manager-controller:{CM_VERSION}",
                        [
                            "--v=2",
                            "--cluster-resource-namespace=$(POD_NAMESPACE)",
                            "--leader-election-namespace=kube-system",
                            f"--acme-http01-solver-image=quay.io/jetstack/cert-manager-acmesolver:{CM_VERSION}",
                            "--max-concurrent-challenges=60",
                        ],
                        ports=[
                            {"name": "http-metrics", "containerPort": 9402},
                            {"name": "http-healthz", "containerPort": 9403},
                        ],
                        env=[
                            {
                                "name": "POD_NAMESPACE",
                                "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
                            }
                        ],
                    )
                ],
                serviceAccountName="cert-manager",
                enableServiceLinks=False,
                nodeSelector=LINUX,
                securityContext={
                    "runAsNonRoot": True,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
            ),
            selector={
                **sel,
                "app.kubernetes.io/name": "cert-manager",
                "app.kubernetes.io/component": "controller",
            },
        ),
        deployment(
            ns,
            "cert-manager-webhook",
            wh,
            pod_template(
                wh,
                [
                    container(
                        "cert-manager-webhook",
                        f"quay.io/jetstack/cert-manager-webhook:{CM_VERSION}",
                        [
                            "--v=2",
                            "--secure-port=10250",
                            "--dynamic-serving-ca-secret-namespace=$(POD_NAMESPACE)",
                            "--dynamic-serving-ca-secret-name=cert-manager-webhook-ca",
                            "--dynamic-serving-dns-names=cert-manager-webhook,cert-manager-webhook.$(POD_NAMESPACE),cert-manager-webhook.$(POD_NAMESPACE).svc",
                        ],
                        ports=[
                            {"name": "https", "containerPort": 10250},
                            {"name": "healthcheck", "containerPort": 6080},
                            {"name": "http-metrics", "containerPort": 9402},
                        ],
                        env=[
                            {
                                "name": "POD_NAMESPACE",
                                "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
                            }
                        ],
                    )
                ],
                serviceAccountName="cert-manager-webhook",
                enableServiceLinks=False,
                nodeSelector=LINUX,
                securityContext={
                    "runAsNonRoot": True,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
            ),
            selector={
                **sel,
                "app.kubernetes.io/name": "webhook",
                "app.kubernetes.io/component": "webhook",
            },
        ),
    ]
    mwc = webhook_config(
        "MutatingWebhookConfiguration",
        "cert-manager-webhook",
        [
            (
                "webhook.cert-manager.io",
                {"service": {"name": "cert-manager-webhook", "namespace": ns, "path": "/mutate"}},
            )
        ],
        wh,
    )
    vwc = webhook_config(
        "ValidatingWebhookConfiguration",
        "cert-manager-webhook",
        [
            (
                "webhook.cert-manager.io",
                {"service": {"name": "cert-manager-webhook", "namespace": ns, "path": "/validate"}},
            )
        ],
        wh,
    )
    for w in (mwc, vwc):
        w["metadata"]["annotations"] = {
            "cert-manager.io/inject-ca-from-secret": "cert-manager/cert-manager-webhook-ca"
        }
    objs += [mwc, vwc]
    if helm:
        for obj in objs:
            if obj["kind"] == "Namespace":
                continue
            meta = obj["metadata"]
            meta["labels"] = {
                **(meta.get("labels") or {}),
                "app.kubernetes.io/managed-by": "Helm",
                "helm.sh/chart": f"cert-manager-{CM_VERSION}",
            }
            meta["annotations"] = {
                **(meta.get("annotations") or {}),
                "meta.helm.sh/release-name": "cert-manager",
                "meta.helm.sh/release-namespace": ns,
            }
    c.apply(objs, created=when)
    if helm:
        # Helm's release records (the post-install startupapicheck Job deleted itself).
        for version, status in ((1, "superseded"), (2, "deployed")):
            rel = secret(
                ns,
                f"sh.helm.release.v1.cert-manager.v{version}",
                "helm.sh/release.v1",
                labels={
                    "name": "cert-manager",
                    "owner": "helm",
                    "status": status,
                    "version": str(version),
                },
            )
            c.apply(rel, created=when + timedelta(days=10 * (version - 1)))
    # The webhook's dynamic serving authority writes its CA on first start.
    c.apply(
        secret(
            ns,
            "cert-manager-webhook-ca",
            "kubernetes.io/tls",
            ann={"cert-manager.io/allow-direct-injection": "true"},
        ),
        created=when + timedelta(minutes=1),
    )
    if with_issuer:
        _cert_manager_issuer_and_app(c, when + timedelta(days=1))
    c.settle()


def _cert_manager_issuer_and_app(c: Cluster, when: datetime) -> None:
    issuer = custom(
        "cert-manager.io/v1",
        "ClusterIssuer",
        "letsencrypt-prod",
        spec={
            "acme": {
                "email": "ops@example.com",
                "server": "https://acme-v02.api.letsencrypt.org/directory",
                "privateKeySecretRef": {"name": "letsencrypt-prod-account-key"},
                "solvers": [{"http01": {"ingress": {"ingressClassName": "nginx"}}}],
            }
        },
    )
    c.apply(issuer, created=when)
    # cert-manager registers the ACME account and stores its key in the cluster resource namespace.
    c.apply(
        secret("cert-manager", "letsencrypt-prod-account-key"), created=when + timedelta(seconds=20)
    )
    ns = "web"
    labels = {"app.kubernetes.io/name": "hello-web", "app.kubernetes.io/instance": "hello-web"}
    c.apply(ns_obj(ns), created=when)
    c.apply(
        [
            deployment(
                ns,
                "hello-web",
                labels,
                pod_template(
                    labels,
                    [
                        container(
                            "web",
                            "nginxinc/nginx-unprivileged:1.27-alpine",
                            ports=[{"name": "http", "containerPort": 8080}],
                        )
                    ],
                ),
                replicas=2,
            ),
            service(ns, "hello-web", labels, [("http", 80, "http")], labels),
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "Ingress",
                "metadata": {
                    "name": "hello-web",
                    "namespace": ns,
                    "labels": labels,
                    "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt-prod"},
                },
                "spec": {
                    "ingressClassName": "nginx",
                    "tls": [{"hosts": ["hello.example.com"], "secretName": "hello-web-tls"}],
                    "rules": [
                        {
                            "host": "hello.example.com",
                            "http": {
                                "paths": [
                                    {
                                        "path": "/",
                                        "pathType": "Prefix",
                                        "backend": {
                                            "service": {
                                                "name": "hello-web",
                                                "port": {"name": "http"},
                                            }
                                        },
                                    }
                                ]
                            },
                        }
                    ],
                },
            },
        ],
        created=when,
    )
    ing = c.require("Ingress", ns, "hello-web")
    cert = custom(
        "cert-manager.io/v1",
        "Certificate",
        "hello-web-tls",
        ns,
        spec={
            "dnsNames": ["hello.example.com"],
            "secretName": "hello-web-tls",
            "issuerRef": {
                "group": "cert-manager.io",
                "kind": "ClusterIssuer",
                "name": "letsencrypt-prod",
            },
            "usages": ["digital signature", "key encipherment"],
        },
        labels=labels,
    )
    cert["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "name": "hello-web",
            "uid": ing["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    cert = c.apply(cert, created=when + timedelta(seconds=5))[0]
    req = custom("cert-manager.io/v1", "CertificateRequest", "hello-web-tls-1", ns, labels=labels)
    req["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "name": "hello-web-tls",
            "uid": cert["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    req = c.apply(req, created=when + timedelta(seconds=6))[0]
    order = custom(
        "acme.cert-manager.io/v1",
        "Order",
        f"hello-web-tls-1-{safe_suffix('order', 10)}",
        ns,
        labels=labels,
    )
    order["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "CertificateRequest",
            "name": "hello-web-tls-1",
            "uid": req["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    c.apply(order, created=when + timedelta(seconds=7))
    c.apply(
        secret(
            ns,
            "hello-web-tls",
            "kubernetes.io/tls",
            labels={"controller.cert-manager.io/fao": "true"},
            ann={
                "cert-manager.io/alt-names": "hello.example.com",
                "cert-manager.io/certificate-name": "hello-web-tls",
                "cert-manager.io/common-name": "hello.example.com",
                "cert-manager.io/issuer-group": "cert-manager.io",
                "cert-manager.io/issuer-kind": "ClusterIssuer",
                "cert-manager.io/issuer-name": "letsencrypt-prod",
            },
        ),
        created=when + timedelta(minutes=1),
    )


APPS: dict[str, Callable[[Cluster], None]] = {
    "ingress-nginx": install_ingress_nginx,
    "cert-manager": install_cert_manager,
    "metrics-server": install_metrics_server,
    "kube-prometheus": install_kube_prometheus,
    "argo-cd": install_argo_cd,
    "kubernetes-dashboard": install_kubernetes_dashboard,
    "online-boutique": install_online_boutique,
}


def install_all(c: Cluster) -> Cluster:
    for install in APPS.values():
        install(c)
    return c
