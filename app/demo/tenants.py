"""Team namespaces: a domain's applications, deployed with Helm, Argo CD or plain manifests,
with their Ingress, TLS certificate, network policies and pull secret."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.demo.addons import argo_application, certificate
from app.demo.apps import Built, Part, build, ingress, network_policy
from app.demo.catalog import DOMAINS
from app.demo.objects import Gen, Owner
from app.demo.platform import namespace

# Deployment styles by environment: (helm, argocd, plain manifests with a team label).
STYLE_WEIGHTS = {
    "prod": (0.4, 0.45, 0.15),
    "staging": (0.4, 0.4, 0.2),
    "dev": (0.3, 0.2, 0.5),
    "data": (0.6, 0.1, 0.3),
    "ml": (0.5, 0.1, 0.4),
    "ci": (0.6, 0.0, 0.4),
}


@dataclass(slots=True)
class Tenant:
    """One team namespace and what runs in it."""

    ns: str
    team: str
    domain: str
    style: str  # "helm" | "argocd" | "team"
    created_days: float
    apps: list[tuple[Part, Built, Owner]] = field(default_factory=list)

    def owner(self, app: str, env: str) -> Owner:
        """How an application named ``app`` in this namespace is labelled."""
        if self.style == "helm":
            return Owner.helm(
                app, app, f"0.{len(app) % 9 + 1}.{len(self.ns) % 7}", self.ns, self.team
            )
        if self.style == "argocd":
            return Owner.argocd(f"{app}-{env}", self.team)
        return Owner.team(self.team)


def tenant(gen: Gen, ns: str, domain: str, *, argocd: bool) -> Tenant:
    """A team namespace running the domain's first part and some of the others."""
    env = gen.cloud.environment
    team, parts = DOMAINS[domain]
    weights = STYLE_WEIGHTS[env]
    if not argocd:
        weights = (weights[0] + weights[1], 0.0, weights[2])
    style = gen.rng.choices(("helm", "argocd", "team"), weights=weights)[0]
    created_days = gen.rng.uniform(60, 365)
    t = Tenant(ns, team, domain, style, created_days)
    namespace(gen, ns, created=gen.ago(created_days), labels={"team": team})
    pull = None
    if gen.cloud.provider != "aws" and gen.chance(0.5):
        pull = "regcred"
        gen.obj(
            "v1",
            "Secret",
            gen.meta("Secret", pull, ns, created=gen.ago(created_days)),
            type="kubernetes.io/dockerconfigjson",
            data={".dockerconfigjson": "eyJhdXRocyI6e319"},
        )
    chosen = [parts[0], *(p for p in parts[1:] if gen.chance(0.55))]
    for part in chosen:
        owner = t.owner(part.name, env)
        created = gen.created(20, created_days)
        replicas = part.replicas if env in ("prod", "data", "ml") else min(part.replicas, 1)
        built = build(gen, ns, part, owner, created=created, pull_secret=pull, replicas=replicas)
        t.apps.append((part, built, owner))
        if style == "argocd":
            argo_application(gen, f"{part.name}-{env}-{ns}", created=created)
        if style == "helm":
            gen.obj(
                "v1",
                "Secret",
                gen.meta(
                    "Secret",
                    f"sh.helm.release.v1.{part.name}.v{gen.rng.randint(1, 40)}",
                    ns,
                    created=gen.created(0.5, 30),
                    labels={"owner": "helm", "name": part.name, "status": "deployed"},
                ),
                type="helm.sh/release.v1",
                data={"release": "H4sIAAAAAAAC/w=="},
            )
        if part.service is not None and part.port and gen.chance(0.4):
            network_policy(
                gen, ns, f"allow-{part.name}", built.labels, owner=owner, created=created
            )
    _edge(gen, t)
    return t


def _edge(gen: Gen, t: Tenant) -> None:
    """An Ingress (with a cert-manager certificate) for the namespace's first served part."""
    for part, built, owner in t.apps:
        if built.service is None or part.kind != "Deployment":
            continue
        created = gen.created(10, t.created_days)
        host = f"{part.name}.{t.ns}.{gen.cloud.environment}.acme-corp.io"
        secret = f"{part.name}-tls"
        gen.obj(
            "v1",
            "Secret",
            gen.meta(
                "Secret",
                secret,
                t.ns,
                created=gen.created(1, 60),
                annotations={"cert-manager.io/certificate-name": secret},
            ),
            type="kubernetes.io/tls",
            data={"tls.crt": "LS0tLS1CRUdJTg==", "tls.key": "LS0tLS1CRUdJTg=="},
        )
        certificate(gen, t.ns, secret, created=created)
        ingress(
            gen,
            t.ns,
            part.name,
            host,
            built.service["metadata"]["name"],
            owner=owner,
            created=created,
            tls_secret=secret,
        )
        return
