"""The "kubeconfig" provider: one cluster anywhere, reached with an uploaded kubeconfig.

``parse_form`` runs the strict parser (``app.kube.kubeconfig``: no exec, no files, no proxy, no
impersonation, no insecure TLS) and keeps only the server, the CA and the static credentials.
``discover`` makes the one real call through the reader's transport (``app.kube.transport``), so
the SSRF guard, TLS verification against the uploaded CA, timeouts and size caps are the same
code a scan uses: it reads ``/version`` and counts the nodes. ``cluster_access`` needs no
network: the stored token or client certificate is the credential.

Errors, for the pipeline: a 401 or 403 is ``CredentialsRefused``; an endpoint the SSRF guard
refuses, a TLS verification failure, a CA or key that will not load, a name that does not
resolve, or an answer that is not Kubernetes is ``ProviderError`` (retrying cannot fix them);
timeouts, refused or dropped connections, 429 and 5xx after the transport's retries are
``ProviderUnavailable``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import msgspec
from urllib3.exceptions import SSLError

from app.clouds.base import (
    CredentialsRefused,
    DiscoveredCluster,
    DiscoveryResult,
    Endpoints,
    InvalidCredentials,
    ParsedCredentials,
    ProviderError,
    ProviderUnavailable,
)
from app.kube.access import ClusterAccess, MiB
from app.kube.kubeconfig import KubeconfigRefused, parse_kubeconfig
from app.kube.transport import (
    AuthenticationRefused,
    ClusterUnreachable,
    ReadError,
    ReadStats,
    ResponseTooLarge,
    RetryPolicy,
    Transport,
)

PROVIDER = "kubeconfig"
# Someone is waiting on the connect page: a few quick retries, not the scan's patient ones.
DISCOVERY_RETRY = RetryPolicy(
    attempts=3, base_delay=0.2, max_delay=2.0, max_retry_after=5.0, max_total_delay=10.0
)
NODE_PAGE = 500
_MAX_NODE_PAGES = 1000  # 500k nodes: far beyond any real cluster; stops a server that never ends
_MAX_GONE_RESTARTS = 3
_DISCOVERY_PAGE_BYTES = 64 * MiB
_ACCEPT_JSON = "application/json"
_ACCEPT_NODES = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1, application/json"
_REPLACE = "Replace the kubeconfig to reconnect this cluster."


class _Version(msgspec.Struct):
    git_version: str = msgspec.field(name="gitVersion")


class _ListMeta(msgspec.Struct):
    continue_: str = msgspec.field(default="", name="continue")


class _List(msgspec.Struct):
    # Items stay undecoded: only their number matters.
    items: list[msgspec.Raw] | None = None
    metadata: _ListMeta = msgspec.field(default_factory=_ListMeta)


def external_id(server: str) -> str:
    """The cluster's stable id within its account: its API server's URL."""
    return f"{PROVIDER}:{server}"


def parse_form(
    form: Mapping[str, str], *, existing: Mapping[str, Any] | None = None
) -> ParsedCredentials:
    """Server, CA and credentials from the uploaded kubeconfig; refusals name the culprit field.

    ``existing`` is not used: everything an account keeps comes from the new kubeconfig.
    """
    text = form.get("kubeconfig") or ""
    if not text.strip():
        raise InvalidCredentials("kubeconfig", "Paste or upload a kubeconfig.")
    wanted = (form.get("context") or "").strip() or None
    try:
        parsed = parse_kubeconfig(text, context=wanted)
    except KubeconfigRefused as exc:
        # An unknown context typed into the form is that field's fault, not the file's.
        field = "context" if exc.field == "context" else "kubeconfig"
        raise InvalidCredentials(field, exc.message) from None
    secret: dict[str, str] = {}
    if parsed.token is not None:
        secret["token"] = parsed.token
    if parsed.client_cert_data is not None and parsed.client_key_data is not None:
        secret["client_certificate_data"] = parsed.client_cert_data.decode("ascii")
        secret["client_key_data"] = parsed.client_key_data.decode("ascii")
    config: dict[str, Any] = {
        "server": parsed.server,
        "context": parsed.context,
        "cluster_name": parsed.cluster_name,
        "ca_data": parsed.ca_data.decode("ascii") if parsed.ca_data else None,
        "tls_server_name": parsed.tls_server_name,
    }
    return ParsedCredentials(config=config, secret=secret)


def _access(
    config: Mapping[str, Any],
    secret: Mapping[str, str] | None,
    *,
    name: str | None,
    allow_private_endpoints: bool,
) -> ClusterAccess:
    """A ClusterAccess from stored values; anything unusable asks the user for a new upload."""
    secret = secret or {}
    token = secret.get("token") or None
    cert = secret.get("client_certificate_data") or None
    key = secret.get("client_key_data") or None
    if token is None and (cert is None or key is None):
        raise CredentialsRefused(f"No credentials are stored for this cluster. {_REPLACE}")
    server, ca, tls_name = (
        config.get("server"),
        config.get("ca_data"),
        config.get("tls_server_name"),
    )
    if not isinstance(server, str) or not isinstance(ca, str | None):
        raise CredentialsRefused(f"The stored cluster settings are incomplete. {_REPLACE}")
    try:
        return ClusterAccess(
            server=server,
            ca_data=ca.encode("ascii") if ca else None,
            token=token,
            client_cert_data=cert.encode("ascii") if cert and key else None,
            client_key_data=key.encode("ascii") if cert and key else None,
            tls_server_name=tls_name if isinstance(tls_name, str) and tls_name else None,
            allow_private_endpoints=allow_private_endpoints,
            name=name,
        )
    except (ValueError, UnicodeEncodeError):
        raise CredentialsRefused(
            f"The stored cluster settings are not usable. {_REPLACE}"
        ) from None


def _failed(server: str, exc: ReadError) -> str:
    return f"The cluster at {server} could not be used: {exc.reason}."


def _unreachable(server: str, exc: ClusterUnreachable, *, connecting: bool) -> Exception:
    message = _failed(server, exc)
    # Refused by policy, TLS verification, a CA or key that will not load: fixed only by the user.
    if connecting or isinstance(exc.__cause__, SSLError):
        return ProviderError(message)
    return ProviderUnavailable(message)


def _version(transport: Transport, server: str) -> str:
    response = transport.get("/version", accept=_ACCEPT_JSON)
    if response.status == 403:
        raise CredentialsRefused(
            f"The API server at {server} denied these credentials even its version "
            f"({response.status_text})."
        )
    if response.status == 429 or response.status >= 500:
        raise ProviderUnavailable(
            f"The API server at {server} answered {response.status_text}; try again later."
        )
    if response.status != 200:
        raise ProviderError(
            f"{server}/version answered {response.status_text}: is this the address of a "
            "Kubernetes API server?"
        )
    try:
        return msgspec.json.decode(response.body, type=_Version).git_version
    except msgspec.MsgspecError:
        raise ProviderError(
            f"{server}/version did not answer with a Kubernetes version: is this the address "
            "of a Kubernetes API server?"
        ) from None


def _count_nodes(transport: Transport, warnings: list[str]) -> int | None:
    """How many nodes the cluster has, paging through the list; None (and a warning) if unknown.

    A 410 Gone means the continue token expired mid-list: the count restarts from the top.
    """
    params: dict[str, str | int] = {"limit": NODE_PAGE}
    count, pages, restarts = 0, 0, 0
    while True:
        try:
            response = transport.get("/api/v1/nodes", params, accept=_ACCEPT_NODES)
        except ResponseTooLarge as exc:
            warnings.append(f"The nodes could not be counted: {exc.reason}.")
            return None
        if response.status == 410 and "continue" in params and restarts < _MAX_GONE_RESTARTS:
            params, count, pages, restarts = {"limit": NODE_PAGE}, 0, 0, restarts + 1
            continue
        if response.status == 403:
            warnings.append(
                "The nodes could not be counted: these credentials may not list nodes "
                f"({response.status_text}). Bind them to the leftover-reader ClusterRole."
            )
            return None
        if response.status != 200:
            warnings.append(
                f"The nodes could not be counted: the API server answered {response.status_text}."
            )
            return None
        try:
            page = msgspec.json.decode(response.body, type=_List)
        except msgspec.MsgspecError:
            warnings.append("The nodes could not be counted: the node list was not valid.")
            return None
        count += len(page.items or ())
        pages += 1
        if not page.metadata.continue_:
            return count
        if pages >= _MAX_NODE_PAGES:
            warnings.append(f"Stopped counting nodes after {pages * NODE_PAGE}.")
            return None
        params = {"limit": NODE_PAGE, "continue": page.metadata.continue_}


def discover(
    config: Mapping[str, Any],
    secret: Mapping[str, str] | None,
    *,
    endpoints: Endpoints,
    allow_private_endpoints: bool = False,
) -> DiscoveryResult:
    """The uploaded cluster, checked with one real connection: its version and node count.

    ``allow_private_endpoints`` is the operator's setting: private and loopback servers are
    refused without it (metadata addresses always are), because the server URL is the user's.
    """
    server = str(config.get("server") or "")
    name = str(config.get("cluster_name") or config.get("context") or server)
    access = replace(
        _access(config, secret, name=name, allow_private_endpoints=allow_private_endpoints),
        connect_timeout=endpoints.timeout,
        read_timeout=endpoints.timeout,
        # A node-count page is metadata only; anything near this is not an API server.
        max_page_bytes=_DISCOVERY_PAGE_BYTES,
    )
    warnings: list[str] = []
    try:
        transport = Transport(access, retry=DISCOVERY_RETRY, stats=ReadStats())
    except ClusterUnreachable as exc:
        raise _unreachable(server, exc, connecting=True) from None
    with transport:
        try:
            version = _version(transport, server)
            nodes = _count_nodes(transport, warnings)
        except AuthenticationRefused as exc:
            raise CredentialsRefused(_failed(server, exc)) from None
        except ClusterUnreachable as exc:
            raise _unreachable(server, exc, connecting=False) from None
        except ReadError as exc:
            raise ProviderError(_failed(server, exc)) from None
    cluster = DiscoveredCluster(
        provider=PROVIDER,
        external_id=external_id(server),
        name=name,
        region="",
        endpoint=server,
        ca_data=access.ca_data,
        kubernetes_version=version,
        node_count=nodes,
    )
    return DiscoveryResult(clusters=[cluster], warnings=warnings)


def cluster_access(
    config: Mapping[str, Any],
    secret: Mapping[str, str] | None,
    cluster: DiscoveredCluster,
    *,
    endpoints: Endpoints,
    allow_private_endpoints: bool,
) -> ClusterAccess:
    """The stored token or client certificate for ``cluster`` (no network: nothing to mint).

    Refuses a cluster row that no longer matches the stored kubeconfig (the credentials were
    replaced with another cluster's), so one cluster's history never receives another's scan.
    """
    server = str(config.get("server") or "")
    if cluster.external_id != external_id(server):
        raise ProviderError(
            "This cluster is no longer the one in the account's kubeconfig; refresh the account."
        )
    return _access(
        config,
        secret,
        name=cluster.name,
        allow_private_endpoints=allow_private_endpoints,
    )
