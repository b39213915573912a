"""The contract between the pipeline and the cloud adapters (aws.py, gcp.py, azure.py, kubeconfig).

An adapter is I/O only: given an account's configuration and its decrypted secret, it lists the
account's managed clusters (``discover``) and mints short-lived credentials to read one of them
(``cluster_access``). It touches no database, no template and no settings object: endpoints and
limits come in as ``Endpoints``. Errors are one of three kinds, so the pipeline knows what to do:

- ``CredentialsRefused``: the provider said no to these credentials or this role. Retrying cannot
  help; the account is marked "needs attention" and the user is told ``reason``.
- ``ProviderUnavailable``: a timeout, a throttle, a 5xx. Retried with backoff.
- ``ProviderError``: anything else the provider answered (a project that does not exist, an API
  not enabled); shown to the user, not retried.

``reason`` is always a plain sentence a user can act on, and never contains a secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class CloudError(Exception):
    """A cloud call failed; ``reason`` is a plain sentence fit to show a user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CredentialsRefused(CloudError):
    """Authentication or authorisation failed: a wrong or revoked key, an untrusted role."""


class ProviderUnavailable(CloudError):
    """A transient failure (timeout, connection error, throttling, 5xx): worth retrying later."""


class ProviderError(CloudError):
    """The provider answered with an error that retrying will not fix."""


class InvalidCredentials(ValueError):
    """The credentials the user typed or uploaded are malformed; ``field`` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Endpoints:
    """Where each provider's APIs live. Empty means the provider's public default.

    Set by operators (``LEFTOVER_AWS_ENDPOINT_URL`` …) for private clouds, and by tests to point
    at fakes. ``ca_bundle`` verifies TLS to these endpoints (a test CA, a corporate proxy's CA).
    """

    aws: str | None = None  # one URL for every AWS service (moto), or
    aws_eks: str | None = None
    aws_sts: str | None = None
    gcp_container: str | None = None  # the GKE API, spoken over REST
    gcp_token_uri: str | None = None  # Google's OAuth token endpoint (service-account keys)
    azure_management: str | None = None  # ARM, e.g. https://management.azure.com
    azure_authority: str | None = None  # Entra ID, e.g. https://login.microsoftonline.com
    ca_bundle: str | None = None
    timeout: float = 20.0


@dataclass(frozen=True)
class DiscoveredCluster:
    """One managed cluster as the cloud API describes it (nothing secret)."""

    provider: str  # "aws" | "gcp" | "azure" | "kubeconfig"
    external_id: str  # stable per account: the ARN, the GKE selfLink, the ARM resource id, …
    name: str
    region: str
    endpoint: str | None  # https URL of the API server; None while the cluster is provisioning
    ca_data: bytes | None  # PEM
    kubernetes_version: str | None = None
    node_count: int | None = None
    status: str | None = None  # the provider's word: ACTIVE, RUNNING, Succeeded, …
    # Provider details the credential minting needs later (project, resource group, AAD mode).
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DiscoveryResult:
    clusters: list[DiscoveredCluster]
    # Regions, projects or subscriptions that could not be listed (named, with the reason).
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, repr=False)
class ParsedCredentials:
    """What a connect form yields: plain configuration and the secret to encrypt (or None)."""

    config: dict[str, Any]
    secret: dict[str, str] | None

    def __repr__(self) -> str:
        return f"ParsedCredentials(config={self.config!r}, secret={'set' if self.secret else None})"
