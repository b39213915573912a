"""What the cloud account pages show and accept: the ways to connect, each form's fields, which
of them are secret (never echoed back), and the plain names of account states."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from app.accounts.schemas import clean_name


@dataclass(frozen=True)
class ConnectionKind:
    """One way of letting Leftover reach clusters, as explained on the page."""

    key: str
    mark: str
    name: str
    short: str
    summary: str
    needs: str
    # The form's fields other than the account name (the adapter's parse_form reads them).
    fields: tuple[str, ...] = ()
    # A text field that may instead come from an uploaded file: (text field, file field).
    upload: tuple[str, str] | None = None

    @property
    def connect_url(self) -> str:
        return f"/cloud-accounts/new?provider={self.key}"


CONNECTION_KINDS = (
    ConnectionKind(
        key="aws",
        mark="AWS",
        name="Amazon Web Services",
        short="AWS",
        summary="Finds every EKS cluster in the account through a read-only cross-account role.",
        needs="an IAM role trusting Leftover with the external ID we generate for you.",
        fields=("auth", "role_arn", "external_id", "regions", "access_key_id", "secret_access_key"),
    ),
    ConnectionKind(
        key="gcp",
        mark="GCP",
        name="Google Cloud",
        short="Google Cloud",
        summary="Finds the GKE clusters of a project with a service account.",
        needs="a service-account key with the Kubernetes Engine Cluster Viewer role.",
        fields=("service_account_json", "project_ids"),
        upload=("service_account_json", "service_account_file"),
    ),
    ConnectionKind(
        key="azure",
        mark="AZ",
        name="Microsoft Azure",
        short="Azure",
        summary="Finds the AKS clusters of a subscription with a service principal.",
        needs="the tenant ID, client ID and secret of a read-only service principal.",
        fields=("tenant_id", "client_id", "client_secret", "subscription_ids"),
    ),
    ConnectionKind(
        key="kubeconfig",
        mark="K8s",
        name="Any cluster (kubeconfig)",
        short="a cluster",
        summary="Adds one cluster anywhere — on premises or another cloud.",
        needs="a kubeconfig with a token or client certificate; exec plugins are refused.",
        fields=("kubeconfig", "context"),
        upload=("kubeconfig", "kubeconfig_file"),
    ),
)
KINDS = {k.key: k for k in CONNECTION_KINDS}

# Fields whose value is a credential: never rendered back into a form, even after an error.
SECRET_FIELDS = frozenset(
    {"secret_access_key", "service_account_json", "client_secret", "kubeconfig", "csrf_token"}
)


def kind_of(provider: str | None) -> ConnectionKind | None:
    """The connection kind named ``provider``, or None for anything else."""
    return KINDS.get(provider or "")


def kept_values(fields: Mapping[str, str]) -> dict[str, str]:
    """What the user typed, to put back in the form after an error — never a secret."""
    return {k: v for k, v in fields.items() if k not in SECRET_FIELDS}


def clean_account_name(value: str) -> str:
    """The trimmed account name ("" when left blank); ValueError with a message for the form."""
    return clean_name(value, what="a name", required=False)


def _joined(values: Any) -> str:
    if isinstance(values, list | tuple):
        return ", ".join(str(v) for v in values)
    return "" if values is None else str(values)


def values_from_config(provider: str, config: Mapping[str, Any]) -> dict[str, str]:
    """The non-secret form values of a saved account (prefilled when replacing credentials)."""
    if provider == "aws":
        return {
            "auth": str(config.get("auth") or "role"),
            "role_arn": str(config.get("role_arn") or ""),
            "regions": _joined(config.get("regions")),
        }
    if provider == "gcp":
        return {"project_ids": _joined(config.get("project_ids"))}
    if provider == "azure":
        return {
            "tenant_id": str(config.get("tenant_id") or ""),
            "client_id": str(config.get("client_id") or ""),
            "subscription_ids": _joined(config.get("subscription_ids")),
        }
    if provider == "kubeconfig":
        return {"context": str(config.get("context") or "")}
    return {}


def default_name(provider: str, config: Mapping[str, Any]) -> str:
    """A name for an account the user did not name, from what identifies it."""
    name = ""
    if provider == "aws":
        parts = str(config.get("role_arn") or "").split(":")
        account = parts[4] if len(parts) > 4 else ""
        name = f"AWS {account}" if account else "AWS account"
    elif provider == "gcp":
        projects = _joined(config.get("project_ids"))
        name = f"Google Cloud {projects}" if projects else "Google Cloud"
    elif provider == "azure":
        subscriptions = config.get("subscription_ids") or []
        first = str(subscriptions[0]) if subscriptions else ""
        name = f"Azure {first}" if first else "Azure"
    elif provider == "kubeconfig":
        host = urlsplit(str(config.get("server") or "")).hostname or ""
        name = str(config.get("cluster_name") or config.get("context") or host or "Cluster")
    return name[:100]


def connection_details(provider: str, config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The account's non-secret settings as (label, value) rows for its page."""
    if provider == "aws":
        role = config.get("auth") == "role"
        rows = [("Signs in with", "IAM role" if role else "Access keys (less safe)")]
        if role:
            rows.append(("Role ARN", str(config.get("role_arn") or "")))
            rows.append(("External ID", str(config.get("external_id") or "")))
        rows.append(
            ("Regions", _joined(config.get("regions")) or "Every region where EKS is offered")
        )
        return rows
    if provider == "gcp":
        return [
            ("Service account", str(config.get("client_email") or "")),
            ("Projects", _joined(config.get("project_ids"))),
        ]
    if provider == "azure":
        return [
            ("Tenant ID", str(config.get("tenant_id") or "")),
            ("Client ID", str(config.get("client_id") or "")),
            ("Subscriptions", _joined(config.get("subscription_ids"))),
        ]
    if provider == "kubeconfig":
        return [
            ("API server", str(config.get("server") or "")),
            ("Context", str(config.get("context") or "")),
        ]
    return []
