"""Azure: list the AKS clusters a service principal can see, and mint its cluster credentials.

The principal signs in to Microsoft Entra ID with its client secret (tenant id a GUID: SECURITY.md
item 1). Discovery lists ``managedClusters`` per subscription through Azure Resource Manager.
A scan asks ARM for the cluster's user kubeconfig and reads only its server and CA (and, for
local-account clusters, its token or client certificate) with the strict upload parser. Entra ID
clusters' kubeconfigs run ``kubelogin``; that exec section is ignored, never run, and the
principal mints the Entra token for the AKS server application itself.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.pipeline import PipelineResponse
from azure.identity import ClientSecretCredential
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.containerservice.models import ManagedCluster

from app.clouds.base import (
    CloudError,
    CredentialsRefused,
    DiscoveredCluster,
    DiscoveryResult,
    Endpoints,
    InvalidCredentials,
    ParsedCredentials,
    ProviderError,
    ProviderUnavailable,
)
from app.kube.access import ClusterAccess
from app.kube.kubeconfig import KubeconfigRefused, parse_kubeconfig

# The Entra application every AKS cluster with Entra ID integration accepts tokens for.
AKS_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
AKS_SCOPE = f"{AKS_SERVER_APP_ID}/.default"
DEFAULT_MANAGEMENT = "https://management.azure.com"
CLUSTER_USER_ROLE = "Azure Kubernetes Service Cluster User Role"
MAX_SECRET_BYTES = 1024
MAX_SUBSCRIPTIONS = 100
# MSAL treats tokens with less than five minutes left as expired; so does the token source.
REFRESH_MARGIN = 300.0
_RETRIES = {"retry_total": 2, "retry_backoff_factor": 0.5, "retry_backoff_max": 4}
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_AADSTS = re.compile(r"AADSTS(\d{5,8})")
_ARM_ID = re.compile(
    r"^/subscriptions/([^/]+)/resourcegroups/([^/]+)/providers/"
    r"microsoft\.containerservice/managedclusters/([^/]+)$",
    re.IGNORECASE,
)
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})(:\d{1,5})?$")
_EXAMPLE_GUID = "00000000-0000-0000-0000-000000000000"

# Entra's documented sign-in error codes that the user can fix, in words they can act on.
_ENTRA_REFUSALS = {
    "7000215": "Microsoft Entra ID refused the client secret (AADSTS7000215): it is not a "
    "secret of this application. Paste the secret's Value, not its Secret ID.",
    "7000222": "The client secret has expired (AADSTS7000222). Create a new secret for the "
    "application and replace the credentials.",
    "700016": "Microsoft Entra ID has no application with this client ID in the tenant "
    "(AADSTS700016). Check the client ID and the tenant ID.",
    "90002": "Microsoft Entra ID does not know this tenant ID (AADSTS90002). Check the tenant "
    "ID (Microsoft Entra ID → Overview → Tenant ID).",
    "7000112": "The application is disabled in Microsoft Entra ID (AADSTS7000112). Enable it "
    "or use another service principal.",
}


# --- the connect form -------------------------------------------------------------------------


def parse_form(
    form: Mapping[str, str], *, existing: Mapping[str, Any] | None = None
) -> ParsedCredentials:
    """Accept a service principal (GUID ids, a secret) and subscriptions; blanks keep old values."""
    old = existing or {}
    tenant_id = _guid_field(form, "tenant_id", old=old, what="tenant ID (Entra ID → Overview)")
    client_id = _guid_field(form, "client_id", old=old, what="application (client) ID")
    secret = (form.get("client_secret") or "").strip()
    if not secret:
        raise InvalidCredentials(
            "client_secret", "Enter the client secret's Value (it is shown once, when created)."
        )
    if len(secret.encode("utf-8")) > MAX_SECRET_BYTES:
        raise InvalidCredentials(
            "client_secret", "The client secret is longer than 1 KiB; paste only its Value."
        )
    if any(not ch.isprintable() for ch in secret):
        raise InvalidCredentials(
            "client_secret",
            "The client secret contains line breaks or control characters; paste its Value.",
        )
    subscriptions = _subscriptions(form.get("subscription_ids") or "")
    if not subscriptions:
        subscriptions = [s for s in old.get("subscription_ids") or [] if _is_guid(s)]
    if not subscriptions:
        raise InvalidCredentials(
            "subscription_ids", f"Enter at least one subscription ID, such as {_EXAMPLE_GUID}."
        )
    return ParsedCredentials(
        config={"tenant_id": tenant_id, "client_id": client_id, "subscription_ids": subscriptions},
        secret={"client_secret": secret},
    )


def _is_guid(value: object) -> bool:
    return isinstance(value, str) and bool(_GUID.match(value))


def _guid_field(form: Mapping[str, str], name: str, *, old: Mapping[str, Any], what: str) -> str:
    value = (form.get(name) or "").strip() or str(old.get(name) or "")
    if not value:
        raise InvalidCredentials(name, f"Enter the {what}, a GUID such as {_EXAMPLE_GUID}.")
    if not _is_guid(value):
        raise InvalidCredentials(
            name,
            f"The {what} must be a GUID such as {_EXAMPLE_GUID}; "
            "domain names and other forms are not accepted.",
        )
    return value.lower()


def _subscriptions(text: str) -> list[str]:
    found: list[str] = []
    for item in re.split(r"[\s,;]+", text.strip()):
        if not item:
            continue
        if not _is_guid(item):
            shown = item if len(item) <= 40 else item[:37] + "..."
            raise InvalidCredentials(
                "subscription_ids",
                f'"{shown}" is not a subscription ID: subscription IDs are GUIDs such as '
                f"{_EXAMPLE_GUID} (Subscriptions → Subscription ID).",
            )
        if item.lower() not in found:
            found.append(item.lower())
    if len(found) > MAX_SUBSCRIPTIONS:
        raise InvalidCredentials(
            "subscription_ids", f"At most {MAX_SUBSCRIPTIONS} subscriptions per connection."
        )
    return found


# --- signing in -------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class _Principal:
    tenant_id: str
    client_id: str
    client_secret: str

    def __repr__(self) -> str:
        return f"_Principal(tenant_id={self.tenant_id!r}, client_id={self.client_id!r})"


def _principal(config: Mapping[str, Any], secret: Mapping[str, str] | None) -> _Principal:
    tenant_id, client_id = config.get("tenant_id"), config.get("client_id")
    client_secret = (secret or {}).get("client_secret")
    if not (_is_guid(tenant_id) and _is_guid(client_id) and client_secret):
        raise CredentialsRefused(
            "The stored Azure service principal is incomplete; replace the credentials."
        )
    return _Principal(str(tenant_id), str(client_id), client_secret)


def _management(endpoints: Endpoints) -> str:
    base = (endpoints.azure_management or DEFAULT_MANAGEMENT).rstrip("/")
    if urlsplit(base).scheme != "https":
        raise ProviderError("The configured Azure Resource Manager URL must be https://.")
    return base


def _transport(endpoints: Endpoints) -> dict[str, Any]:
    """Timeouts, few retries (the workers retry with backoff) and the operator's CA bundle."""
    options: dict[str, Any] = {
        "connection_timeout": endpoints.timeout,
        "read_timeout": endpoints.timeout,
        **_RETRIES,
    }
    if endpoints.ca_bundle:
        options["connection_verify"] = endpoints.ca_bundle
    return options


class _Entra:
    """A service principal's credential, remembering Entra's last HTTP status to sort failures."""

    def __init__(self, principal: _Principal, endpoints: Endpoints) -> None:
        self._last_status = 0
        options = _transport(endpoints)
        if endpoints.azure_authority:
            raw = endpoints.azure_authority.strip()
            parts = urlsplit(raw if "//" in raw else f"https://{raw}")
            if parts.scheme != "https" or not parts.netloc:
                raise ProviderError("The configured Microsoft Entra authority must be https://.")
            options.update(authority=parts.netloc, disable_instance_discovery=True)
        self.credential = ClientSecretCredential(
            principal.tenant_id,
            principal.client_id,
            principal.client_secret,
            raw_response_hook=self._seen,
            **options,
        )

    def _seen(self, response: PipelineResponse[Any, Any]) -> None:
        self._last_status = int(response.http_response.status_code)

    def token(self, scope: str) -> tuple[str, float]:
        """A token for ``scope`` and when it expires; failures become plain CloudErrors."""
        try:
            access = self.credential.get_token(scope)
        except Exception as exc:  # azure-identity wraps everything in ClientAuthenticationError
            raise self.failure(exc) from exc
        return access.token, float(access.expires_on)

    def failure(self, exc: BaseException) -> CloudError:
        """Transient when Entra was unreachable, throttled or failing; otherwise refused."""
        chain: list[BaseException] = []
        cause: BaseException | None = exc
        while cause is not None and len(chain) < 10:
            chain.append(cause)
            cause = cause.__cause__ or cause.__context__
        if self._last_status == 429 or self._last_status >= 500:
            return ProviderUnavailable(
                f"Microsoft Entra ID is unavailable right now (HTTP {self._last_status}); "
                "Leftover will try again."
            )
        if any(isinstance(e, ServiceRequestError | ServiceResponseError) for e in chain):
            return ProviderUnavailable(
                "Microsoft Entra ID could not be reached or did not answer in time; "
                "Leftover will try again."
            )
        codes = [m.group(1) for e in chain for m in _AADSTS.finditer(str(e))]
        for code in codes:
            if code in _ENTRA_REFUSALS:
                return CredentialsRefused(_ENTRA_REFUSALS[code])
        said = f" (AADSTS{codes[0]})" if codes else ""
        return CredentialsRefused(
            f"Microsoft Entra ID refused the service principal's sign-in{said}. Check the "
            "tenant ID, client ID and client secret."
        )


# --- discovery --------------------------------------------------------------------------------


def discover(
    config: Mapping[str, Any],
    secret: Mapping[str, str] | None,
    *,
    endpoints: Endpoints,
    allow_private_endpoints: bool = False,
) -> DiscoveryResult:
    """Every AKS cluster of the subscriptions; one failing while another answers is a warning."""
    del allow_private_endpoints  # discovery talks only to Azure's APIs (or the operator's)
    principal = _principal(config, secret)
    subscriptions = [s for s in config.get("subscription_ids") or [] if _is_guid(s)]
    if not subscriptions:
        raise CredentialsRefused("No subscription is configured; replace the credentials.")
    management = _management(endpoints)
    entra = _Entra(principal, endpoints)
    with entra.credential:
        entra.token(f"{management}/.default")  # sign-in failures are Entra's, not ARM's
        clusters: list[DiscoveredCluster] = []
        failures: list[CloudError] = []
        for subscription in subscriptions:
            try:
                clusters.extend(_list(entra, subscription, endpoints=endpoints))
            except (CredentialsRefused, ProviderError) as exc:
                failures.append(exc)
    if len(failures) == len(subscriptions):
        refused = [f for f in failures if isinstance(f, CredentialsRefused)]
        raise (refused or failures)[0]
    return DiscoveryResult(clusters=clusters, warnings=[f.reason for f in failures])


def _client(entra: _Entra, subscription: str, *, endpoints: Endpoints) -> ContainerServiceClient:
    management = _management(endpoints)
    return ContainerServiceClient(
        entra.credential,
        subscription,
        base_url=management,
        credential_scopes=[f"{management}/.default"],
        permit_redirects=False,  # a redirect would carry the bearer token elsewhere
        **_transport(endpoints),
    )


def _list(entra: _Entra, subscription: str, *, endpoints: Endpoints) -> list[DiscoveredCluster]:
    """One subscription's clusters (all pages); ProviderUnavailable propagates."""
    with _client(entra, subscription, endpoints=endpoints) as client:
        try:
            return [_discovered(mc) for mc in client.managed_clusters.list()]
        except AzureError as exc:
            raise _arm_failure(exc, entra, subscription=subscription) from exc


def _arm_failure(exc: AzureError, entra: _Entra, *, subscription: str) -> CloudError:
    """Sort an ARM error: refused principal, a transient outage, or a subscription problem."""
    if not isinstance(exc, HttpResponseError):
        return ProviderUnavailable(
            "Azure Resource Manager could not be reached or did not answer in time; "
            "Leftover will try again."
        )
    status = exc.status_code
    if status is None:  # a token refresh failed inside the ARM call
        return entra.failure(exc)
    code = _arm_code(exc)
    if status in (401, 403):
        return CredentialsRefused(
            f"Azure refused to let the service principal list the AKS clusters of subscription "
            f"{subscription} ({code or status}). Assign it the {CLUSTER_USER_ROLE} (or Reader) "
            "on the subscription."
        )
    if status == 429 or status >= 500:
        return ProviderUnavailable(
            f"Azure Resource Manager is throttling or unavailable (HTTP {status}); Leftover "
            "will try again."
        )
    if status == 404:
        return ProviderError(
            f"Subscription {subscription} was not found ({code or 'HTTP 404'}): check the ID "
            "and that it belongs to the service principal's tenant."
        )
    return ProviderError(
        f"Azure Resource Manager refused the request for subscription {subscription} "
        f"(HTTP {status}, {code or 'no error code'})."
    )


def _arm_code(exc: HttpResponseError) -> str | None:
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    if isinstance(code, str) and re.fullmatch(r"[A-Za-z0-9_.]{1,64}", code):
        return code
    return None


def _word(value: object) -> str | None:
    """An SDK enum or string as its plain value."""
    if value is None:
        return None
    return str(getattr(value, "value", value)) or None


def _discovered(mc: ManagedCluster) -> DiscoveredCluster:
    """An AKS cluster as Leftover stores it (the CA comes later, with the kubeconfig)."""
    arm_id = str(mc.id or "")
    match = _ARM_ID.match(arm_id)
    subscription, resource_group = (match.group(1), match.group(2)) if match else ("", "")
    props = mc.properties
    fqdn = (props.fqdn or props.private_fqdn) if props else None
    if fqdn and not _HOST.match(fqdn):
        fqdn = None  # not a host name: nothing to show or connect to
    pools = (props.agent_pool_profiles if props else None) or []
    aad = props.aad_profile if props else None
    status = [_word(props.provisioning_state) if props else None]
    if props and props.power_state:
        status.append(_word(props.power_state.code))
    return DiscoveredCluster(
        provider="azure",
        external_id=arm_id.lower(),
        name=str(mc.name or (match.group(3) if match else "")),
        region=str(mc.location or ""),
        endpoint=f"https://{fqdn}" if fqdn else None,
        ca_data=None,
        kubernetes_version=(
            (props.current_kubernetes_version or props.kubernetes_version) if props else None
        ),
        node_count=sum(int(p.count or 0) for p in pools) if pools else None,
        status="/".join(s for s in status if s) or None,
        details={
            "subscription_id": subscription.lower(),
            "resource_group": resource_group,
            "aad": bool(aad and aad.managed),
            "local_accounts_disabled": bool(props and props.disable_local_accounts),
        },
    )


# --- cluster credentials ----------------------------------------------------------------------


def cluster_access(
    config: Mapping[str, Any],
    secret: Mapping[str, str] | None,
    cluster: DiscoveredCluster,
    *,
    endpoints: Endpoints,
    allow_private_endpoints: bool,
) -> ClusterAccess:
    """AKS access via its user kubeconfig; Entra ID clusters get a minted token, never kubelogin."""
    principal = _principal(config, secret)
    subscription, resource_group = _placement(cluster)
    aad = bool(cluster.details.get("aad"))
    entra = _Entra(principal, endpoints)
    try:
        entra.token(f"{_management(endpoints)}/.default")
        kubeconfig = _user_kubeconfig(
            entra,
            endpoints,
            subscription=subscription,
            resource_group=resource_group,
            cluster=cluster,
        )
        try:
            found = parse_kubeconfig(kubeconfig, allow_exec_for_token_replacement=aad)
        except KubeconfigRefused as exc:
            raise ProviderError(
                f"Azure returned a kubeconfig for {cluster.name} that Leftover cannot use: "
                f"{exc.message}"
            ) from None
        common: dict[str, Any] = {
            "server": found.server,
            "ca_data": found.ca_data or cluster.ca_data,
            "tls_server_name": found.tls_server_name,
            "allow_private_endpoints": allow_private_endpoints,
            "name": cluster.name,
        }
        if aad:
            tokens = _EntraTokens(entra, AKS_SCOPE)
            tokens()  # mint now, so a refused principal is reported before the scan starts
            return ClusterAccess(token_provider=tokens, **common)
    except BaseException:
        entra.credential.close()
        raise
    # A local account's kubeconfig: the strict parser made sure it holds a token or certificate.
    entra.credential.close()
    return ClusterAccess(
        token=found.token,
        client_cert_data=found.client_cert_data,
        client_key_data=found.client_key_data,
        **common,
    )


def _placement(cluster: DiscoveredCluster) -> tuple[str, str]:
    """The cluster's subscription and resource group, from discovery's details or its ARM id."""
    match = _ARM_ID.match(cluster.external_id)
    subscription = cluster.details.get("subscription_id") or (match.group(1) if match else None)
    resource_group = cluster.details.get("resource_group") or (match.group(2) if match else None)
    if not (isinstance(subscription, str) and isinstance(resource_group, str)):
        raise ProviderError(
            f"The cluster {cluster.name} has no Azure resource id; refresh the account's clusters."
        )
    return subscription, resource_group


def _user_kubeconfig(
    entra: _Entra,
    endpoints: Endpoints,
    *,
    subscription: str,
    resource_group: str,
    cluster: DiscoveredCluster,
) -> bytes:
    """The cluster's user kubeconfig (exec format for Entra ID clusters, never executed)."""
    fmt = "exec" if cluster.details.get("aad") else None
    with _client(entra, subscription, endpoints=endpoints) as client:
        try:
            result = client.managed_clusters.list_cluster_user_credentials(
                resource_group, cluster.name, format=fmt
            )
        except AzureError as exc:
            failure = _arm_failure(exc, entra, subscription=subscription)
            if isinstance(exc, HttpResponseError) and exc.status_code == 404:
                failure = ProviderError(
                    f"The AKS cluster {cluster.name} no longer exists in resource group "
                    f"{resource_group}."
                )
            elif isinstance(exc, HttpResponseError) and exc.status_code == 403:
                failure = CredentialsRefused(
                    f"The service principal may not fetch the credentials of {cluster.name} "
                    f"({_arm_code(exc) or 403}): assign it the {CLUSTER_USER_ROLE} on the "
                    "cluster or its subscription."
                )
            raise failure from exc
    values = [k.value for k in result.kubeconfigs or [] if k.value]
    if not values:
        raise ProviderError(f"Azure returned no kubeconfig for the cluster {cluster.name}.")
    return values[0]


class _EntraTokens:
    """The principal's Entra token for one audience, minted again when near expiry."""

    def __init__(self, entra: _Entra, scope: str) -> None:
        self._entra = entra
        self._scope = scope
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()  # the reader lists several kinds at once

    def __call__(self) -> str:
        with self._lock:
            if self._token is None or self._expires - time.time() < REFRESH_MARGIN:
                self._token, self._expires = self._entra.token(self._scope)
            return self._token

    def __repr__(self) -> str:
        return f"<Entra tokens for {self._scope}>"
