"""ConfigMaps and Secrets: unused when no live pod or template references them."""

from __future__ import annotations

from app.analysis.context import TEMPLATE_KINDS
from app.analysis.model import Confidence
from app.analysis.rules.base import Candidate, Found

HELM_RELEASE_TYPE = "helm.sh/release.v1"
SA_TOKEN_TYPE = "kubernetes.io/service-account-token"  # noqa: S105 - a type name
SA_NAME_ANNOTATION = "kubernetes.io/service-account.name"
NEVER_REPORTED_TYPES = frozenset({HELM_RELEASE_TYPE, "bootstrap.kubernetes.io/token"})


def check_config_maps(found: Found) -> None:
    """Report ConfigMaps no live user references (idle-only users make a cascade)."""
    if found.skip("configmap-unused", ("ConfigMap", *TEMPLATE_KINDS)):
        return
    for cm in found.ctx.snap.config_maps:
        meta = cm.metadata
        if meta.owner_references:
            continue  # judged through its owner (see lifecycle.owner_missing)
        found.add_unreferenced(
            "ConfigMap",
            cm,
            rule="configmap-unused",
            uses=found.refs.of("ConfigMap", meta.namespace, meta.name),
            noun="pod or template",
        )


def check_secrets(found: Found) -> None:
    """Report unreferenced Secrets and ServiceAccount tokens whose ServiceAccount is gone."""
    if found.skip("secret-unused", ("Secret", *TEMPLATE_KINDS)):
        return
    ctx = found.ctx
    sa_listed = ctx.listed("ServiceAccount")
    for secret in ctx.snap.secrets:
        meta = secret.metadata
        if secret.type in NEVER_REPORTED_TYPES or meta.labels.get("owner") == "helm":
            continue
        if meta.owner_references:
            continue
        if secret.type == SA_TOKEN_TYPE:
            sa_name = meta.annotations.get(SA_NAME_ANNOTATION)
            if sa_listed and sa_name and not ctx.exists("ServiceAccount", meta.namespace, sa_name):
                found.add(
                    Candidate(
                        "Secret",
                        secret,
                        "secret-sa-token-orphaned",
                        f"token of ServiceAccount {sa_name}, which no longer exists",
                        Confidence.HIGH,
                        evidence=(f"annotation {SA_NAME_ANNOTATION}={sa_name}",),
                        security_risk=True,
                    )
                )
            continue
        extra: tuple[str, ...] = ()
        cert = meta.annotations.get("cert-manager.io/certificate-name")
        if cert:
            extra = (
                f"issued by cert-manager for Certificate {cert}; it is recreated while that "
                "Certificate exists",
            )
        found.add_unreferenced(
            "Secret",
            secret,
            rule="secret-unused",
            uses=found.refs.of("Secret", meta.namespace, meta.name),
            noun="pod, template, ServiceAccount or Ingress",
            confidence=Confidence.LOW if cert else Confidence.MEDIUM,
            security_risk=True,
            extra_evidence=extra,
        )


def check_service_accounts(found: Found) -> None:
    """Report ServiceAccounts no pod, template or binding uses."""
    if found.skip("serviceaccount-unused", ("ServiceAccount", *TEMPLATE_KINDS)):
        return
    for sa in found.ctx.snap.service_accounts:
        meta = sa.metadata
        if meta.owner_references:
            continue
        found.add_unreferenced(
            "ServiceAccount",
            sa,
            rule="serviceaccount-unused",
            uses=found.refs.of("ServiceAccount", meta.namespace, meta.name),
            noun="pod, template or role binding",
        )
