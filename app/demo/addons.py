"""What the platform team installs with Helm on every cluster: ingress-nginx, cert-manager, the
Prometheus stack and (where teams deploy with it) Argo CD, with their CRDs and resources."""

from __future__ import annotations

from app.demo.apps import Part, build
from app.demo.batch import job
from app.demo.objects import Gen, Obj, Owner, owner_ref
from app.demo.platform import namespace
from app.demo.workloads import container, service, template

PLATFORM_TEAM = "platform"


def crd(
    gen: Gen,
    plural: str,
    group: str,
    kind: str,
    version: str,
    *,
    created: str,
    owner: Owner | None = None,
) -> Obj:
    return gen.obj(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        gen.meta("CustomResourceDefinition", f"{plural}.{group}", created=created, owner=owner),
        spec={
            "group": group,
            "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
            "scope": "Namespaced",
            "versions": [{"name": version, "served": True, "storage": True}],
        },
    )


def resource(
    gen: Gen, api_version: str, kind: str, name: str, ns: str | None, *, created: str
) -> Obj:
    """A custom resource: it only tells the snapshot that its CRD has instances."""
    meta = gen.meta(kind, name, ns, created=created)
    return gen.obj(api_version, kind, meta, spec={})


def install(gen: Gen, *, argocd: bool) -> None:
    born = gen.ago(380)
    _ingress_nginx(gen, born)
    _cert_manager(gen, born)
    _monitoring(gen, born)
    if argocd:
        _argocd(gen, born)


def _helm(release: str, chart: str, version: str, ns: str) -> Owner:
    return Owner.helm(release, chart, version, ns, PLATFORM_TEAM)


def _release_secret(gen: Gen, release: str, ns: str, revision: int, *, created: str) -> None:
    gen.obj(
        "v1",
        "Secret",
        gen.meta(
            "Secret",
            f"sh.helm.release.v1.{release}.v{revision}",
            ns,
            created=created,
            labels={"owner": "helm", "name": release, "status": "deployed"},
        ),
        type="helm.sh/release.v1",
        data={"release": "H4sIAAAAAAAC/w=="},
    )


def _ingress_nginx(gen: Gen, born: str) -> None:
    ns = "ingress-nginx"
    namespace(gen, ns, created=born, labels={"team": PLATFORM_TEAM})
    owner = _helm("ingress-nginx", "ingress-nginx", "4.11.3", ns)
    gen.obj(
        "scheduling.k8s.io/v1",
        "PriorityClass",
        gen.meta("PriorityClass", "platform-critical", created=born, owner=owner),
        value=1000000,
        globalDefault=False,
        description="Ingress controllers and other shared platform services",
    )
    ctrl = build(
        gen,
        ns,
        Part(
            "ingress-nginx-controller",
            "registry.k8s.io/ingress-nginx/controller",
            version="v1.11.3",
            port=80,
            lb=True,
            configs=("ingress-nginx-controller",),
            secrets=("ingress-nginx-admission",),
            cluster_role=True,
            leader_election=True,
            hpa=True,
            pdb=True,
            priority_class="platform-critical",
            cpu="200m",
            selector_key="app.kubernetes.io/component",
        ),
        owner,
        created=born,
        labels={"app.kubernetes.io/name": "ingress-nginx"},
    )
    service(
        gen,
        ns,
        "ingress-nginx-controller-admission",
        ctrl.labels,
        owner=owner,
        created=born,
        port=443,
        target_port=8443,
        endpoints=ctrl.workload.pods,
    )
    gen.obj(
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        gen.meta(
            "ValidatingWebhookConfiguration", "ingress-nginx-admission", created=born, owner=owner
        ),
        webhooks=[
            {
                "name": "validate.nginx.ingress.kubernetes.io",
                "clientConfig": {
                    "service": {
                        "name": "ingress-nginx-controller-admission",
                        "namespace": ns,
                        "path": "/networking/v1/ingresses",
                    }
                },
                "admissionReviewVersions": ["v1"],
                "sideEffects": "None",
                "failurePolicy": "Fail",
            }
        ],
    )
    hook = template(
        {"app.kubernetes.io/component": "admission-webhook"},
        [container("create", "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.4.4")],
        service_account="ingress-nginx-controller",
    )
    job(
        gen,
        ns,
        "ingress-nginx-admission-create",
        hook,
        owner=owner,
        started_days_ago=gen.rng.uniform(40, 200),
        outcome="Complete",
        annotations={
            "helm.sh/hook": "pre-install,pre-upgrade",
            "helm.sh/hook-delete-policy": "before-hook-creation,hook-succeeded",
        },
    )
    _release_secret(gen, "ingress-nginx", ns, 7, created=gen.created(20, 120))


def _cert_manager(gen: Gen, born: str) -> None:
    ns = "cert-manager"
    namespace(gen, ns, created=born, labels={"team": PLATFORM_TEAM})
    owner = _helm("cert-manager", "cert-manager", "v1.16.2", ns)
    quay = "quay.io/jetstack"
    for part in (
        Part(
            "cert-manager",
            f"{quay}/cert-manager-controller",
            version="v1.16.2",
            port=9402,
            configs=(),
            secrets=(),
            cluster_role=True,
            leader_election=True,
            replicas=1,
        ),
        Part(
            "cert-manager-cainjector",
            f"{quay}/cert-manager-cainjector",
            version="v1.16.2",
            port=None,
            service=None,
            configs=(),
            secrets=(),
            cluster_role=True,
            replicas=1,
        ),
        Part(
            "cert-manager-webhook",
            f"{quay}/cert-manager-webhook",
            version="v1.16.2",
            port=10250,
            configs=(),
            secrets=("cert-manager-webhook-ca",),
            replicas=1,
        ),
    ):
        build(gen, ns, part, owner, created=born)
    for kind in ("Validating", "Mutating"):
        gen.obj(
            "admissionregistration.k8s.io/v1",
            f"{kind}WebhookConfiguration",
            gen.meta(
                f"{kind}WebhookConfiguration", "cert-manager-webhook", created=born, owner=owner
            ),
            webhooks=[
                {
                    "name": "webhook.cert-manager.io",
                    "clientConfig": {"service": {"name": "cert-manager-webhook", "namespace": ns}},
                    "admissionReviewVersions": ["v1"],
                    "sideEffects": "None",
                }
            ],
        )
    for plural, kind in (
        ("certificates", "Certificate"),
        ("certificaterequests", "CertificateRequest"),
        ("issuers", "Issuer"),
        ("clusterissuers", "ClusterIssuer"),
    ):
        crd(gen, plural, "cert-manager.io", kind, "v1", created=born, owner=owner)
    resource(gen, "cert-manager.io/v1", "ClusterIssuer", "letsencrypt-prod", None, created=born)
    _release_secret(gen, "cert-manager", ns, 4, created=gen.created(30, 200))


def certificate(gen: Gen, ns: str, name: str, *, created: str) -> None:
    """The Certificate behind an Ingress's TLS Secret, and its latest request."""
    cert = resource(gen, "cert-manager.io/v1", "Certificate", name, ns, created=created)
    req = gen.meta("CertificateRequest", f"{name}-1", ns, created=created, owners=[owner_ref(cert)])
    gen.obj("cert-manager.io/v1", "CertificateRequest", req, spec={})


def _monitoring(gen: Gen, born: str) -> None:
    ns = "monitoring"
    namespace(gen, ns, created=born, labels={"team": "sre"})
    owner = Owner.helm("kube-prometheus-stack", "kube-prometheus-stack", "66.2.1", ns, "sre")
    quay = "quay.io/prometheus"
    parts = (
        Part(
            "kube-prometheus-stack-operator",
            "quay.io/prometheus-operator/prometheus-operator",
            version="v0.78.2",
            port=10250,
            configs=(),
            secrets=(),
            cluster_role=True,
            replicas=1,
            selector_key="app",
        ),
        Part(
            "prometheus-kube-prometheus-stack-prometheus",
            f"{quay}/prometheus",
            version="v2.55.1",
            kind="StatefulSet",
            replicas=1,
            port=9090,
            size_gi=50,
            configs=(),
            secrets=(),
            memory="2Gi",
            cluster_role=True,
        ),
        Part(
            "kube-prometheus-stack-grafana",
            "docker.io/grafana/grafana",
            version="11.3.1",
            port=3000,
            replicas=1,
            configs=("kube-prometheus-stack-grafana",),
            secrets=("kube-prometheus-stack-grafana-admin",),
        ),
        Part(
            "kube-prometheus-stack-kube-state-metrics",
            "registry.k8s.io/kube-state-metrics/kube-state-metrics",
            version="v2.14.0",
            port=8080,
            replicas=1,
            configs=(),
            secrets=(),
            cluster_role=True,
        ),
        Part(
            "kube-prometheus-stack-prometheus-node-exporter",
            f"{quay}/node-exporter",
            version="v1.8.2",
            kind="DaemonSet",
            port=9100,
            configs=(),
            secrets=(),
            cpu="20m",
        ),
    )
    for part in parts:
        build(gen, ns, part, owner, created=born, storage_class=gen.cloud.default_class)
    group = "monitoring.coreos.com"
    for plural, kind in (
        ("prometheuses", "Prometheus"),
        ("alertmanagers", "Alertmanager"),
        ("servicemonitors", "ServiceMonitor"),
        ("podmonitors", "PodMonitor"),
        ("prometheusrules", "PrometheusRule"),
    ):
        crd(gen, plural, group, kind, "v1", created=born, owner=owner)
    resource(gen, f"{group}/v1", "Prometheus", "kube-prometheus-stack-prometheus", ns, created=born)
    for name in (
        "kube-prometheus-stack-apiserver",
        "kube-prometheus-stack-kubelet",
        "kube-prometheus-stack-node-exporter",
        "ingress-nginx-controller",
    ):
        resource(gen, f"{group}/v1", "ServiceMonitor", name, ns, created=born)
    resource(
        gen, f"{group}/v1", "PrometheusRule", "kube-prometheus-stack-k8s.rules", ns, created=born
    )
    _release_secret(gen, "kube-prometheus-stack", ns, 12, created=gen.created(5, 60))


def _argocd(gen: Gen, born: str) -> None:
    ns = "argocd"
    namespace(gen, ns, created=born, labels={"team": PLATFORM_TEAM})
    owner = _helm("argocd", "argo-cd", "7.7.5", ns)
    image = "quay.io/argoproj/argocd"
    for part in (
        Part(
            "argocd-server",
            image,
            version="v2.13.1",
            port=8080,
            configs=("argocd-cmd-params-cm",),
            secrets=("argocd-secret",),
            cluster_role=True,
            selector_key="app.kubernetes.io/name",
        ),
        Part(
            "argocd-repo-server",
            image,
            version="v2.13.1",
            port=8081,
            configs=(),
            secrets=(),
            files=("argocd-ssh-known-hosts-cm", "argocd-tls-certs-cm"),
        ),
        Part(
            "argocd-application-controller",
            image,
            version="v2.13.1",
            port=8082,
            replicas=1,
            configs=(),
            secrets=(),
            cluster_role=True,
            memory="1Gi",
        ),
        Part(
            "argocd-redis",
            "public.ecr.aws/docker/library/redis",
            version="7.4.1",
            port=6379,
            replicas=1,
            configs=(),
            secrets=("argocd-redis",),
        ),
    ):
        build(gen, ns, part, owner, created=born)
    group = "argoproj.io"
    for plural, kind in (("applications", "Application"), ("appprojects", "AppProject")):
        crd(gen, plural, group, kind, "v1alpha1", created=born, owner=owner)
    resource(gen, f"{group}/v1alpha1", "AppProject", "default", ns, created=born)
    _release_secret(gen, "argocd", ns, 9, created=gen.created(10, 90))


def argo_application(gen: Gen, name: str, *, created: str) -> None:
    resource(gen, "argoproj.io/v1alpha1", "Application", name, "argocd", created=created)
