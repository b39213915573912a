"""The adapter for each provider, behind one interface (see ``app.clouds.base``)."""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any, Protocol, cast

from app.clouds.base import DiscoveredCluster, DiscoveryResult, Endpoints, ParsedCredentials
from app.kube.access import ClusterAccess


class Adapter(Protocol):
    def parse_form(
        self, form: Mapping[str, str], *, existing: Mapping[str, Any] | None = None
    ) -> ParsedCredentials:
        """Config and secret from the connect form; ``InvalidCredentials`` names the field."""
        ...

    def discover(
        self,
        config: Mapping[str, Any],
        secret: Mapping[str, str] | None,
        *,
        endpoints: Endpoints,
        allow_private_endpoints: bool = False,
    ) -> DiscoveryResult:
        """Every managed cluster the credentials can see (a real call to the provider).

        ``allow_private_endpoints`` matters where discovery itself reaches a cluster (a
        kubeconfig cluster); the clouds' own APIs are the operator's ``Endpoints``."""
        ...

    def cluster_access(
        self,
        config: Mapping[str, Any],
        secret: Mapping[str, str] | None,
        cluster: DiscoveredCluster,
        *,
        endpoints: Endpoints,
        allow_private_endpoints: bool,
    ) -> ClusterAccess:
        """Short-lived credentials to read ``cluster`` (minted now, never stored)."""
        ...


def adapter(provider: str) -> Adapter:
    """The adapter module for ``provider`` ("aws", "gcp", "azure" or "kubeconfig")."""
    from app.clouds import aws, azure, gcp, kubeconfig

    modules: dict[str, ModuleType] = {
        "aws": aws,
        "gcp": gcp,
        "azure": azure,
        "kubeconfig": kubeconfig,
    }
    try:
        return cast(Adapter, modules[provider])
    except KeyError:
        raise ValueError(f"unknown provider {provider!r}") from None
