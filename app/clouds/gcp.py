"""Google Cloud: list the GKE clusters a service account can see, and mint its access tokens.

Only service-account keys are accepted (SECURITY.md item 1). Google's client libraries also load
``authorized_user``, ``external_account`` and impersonation files, which name URLs to call, files
to read or programs to run to get a token; a customer could steer Leftover's workers with them.
A key must also name Google's own token endpoint: the signed assertion sent there is a credential.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from collections.abc import Mapping
from typing import Any

import requests
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.api_core import exceptions as api_errors
from google.api_core.client_options import ClientOptions
from google.auth import exceptions as auth_errors
from google.auth.credentials import TokenState
from google.auth.transport.requests import Request as AuthRequest
from google.cloud import container_v1
from google.oauth2 import service_account

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

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - a public URL
VIEWER_ROLE = "roles/container.clusterViewer"
MAX_KEY_BYTES = 64 * 1024
MAX_PROJECTS = 100
KEY_FIELD = "service_account_json"
PROJECTS_FIELD = "project_ids"

# Why each other credential type is refused, in words a user can act on.
_REFUSED_TYPES = {
    "authorized_user": "a person's own Google sign-in (from gcloud auth application-default "
    "login), not a service account, and it would act with all of that person's access",
    "external_account": "a workload identity federation file: it tells the client to read a "
    "local file, call a URL or run a program to get a token, which Leftover never does",
    "external_account_authorized_user": "a workforce identity federation sign-in: it sends "
    "tokens to addresses named in the file",
    "impersonated_service_account": "an impersonation file wrapping other credentials, which "
    "may be any of the refused kinds",
    "gdch_service_account": "a Google Distributed Cloud Hosted key, whose token endpoint is not "
    "Google's",
}
_PROJECT_ID = re.compile(r"^(?:[a-z][a-z0-9.-]{0,61}[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}$")
_WORD = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
_ENDPOINT = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")
_HOW_TO_GET_A_KEY = (
    "create one with: gcloud iam service-accounts keys create key.json "
    "--iam-account=NAME@PROJECT.iam.gserviceaccount.com"
)


# --- the connect form -------------------------------------------------------------------------


def parse_form(
    form: Mapping[str, str], *, existing: Mapping[str, Any] | None = None
) -> ParsedCredentials:
    """Accept a service-account key and project ids; refuse every other credential type."""
    del existing  # nothing of the old configuration outlives a new key
    info = _check_key(_load_json(form.get(KEY_FIELD) or ""))
    projects = _project_ids(form.get(PROJECTS_FIELD) or "", default=info["project_id"])
    return ParsedCredentials(
        config={"project_ids": projects, "client_email": info["client_email"]},
        secret={KEY_FIELD: json.dumps(info, separators=(",", ":"))},
    )


class _DuplicateField(ValueError):
    pass


def _unique_fields(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two "type" or "token_uri" fields would let a file say one thing and mean another.
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise _DuplicateField(name)
        result[name] = value
    return result


def _load_json(text: str) -> Any:
    """The key file's JSON; errors say where the syntax breaks and never quote the file."""
    if not text.strip():
        raise InvalidCredentials(
            KEY_FIELD, f"Paste or upload a service account key: {_HOW_TO_GET_A_KEY}."
        )
    if len(text.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise InvalidCredentials(
            KEY_FIELD,
            "The key file is larger than 64 KiB; a service account key is about 2 KiB. "
            "Upload the JSON key Google generated.",
        )
    # Each failure is raised after its except block, so no exception holding the text is chained.
    problem: str
    try:
        return json.loads(text.removeprefix("\ufeff"), object_pairs_hook=_unique_fields)
    except json.JSONDecodeError as exc:
        problem = (
            f"The key is not valid JSON: {exc.msg.lower()} at line {exc.lineno}, "
            f"column {exc.colno}. Upload the JSON file exactly as Google generated it."
        )
    except _DuplicateField as exc:
        name = str(exc)
        shown = f'"{name}"' if _WORD.match(name) else "a field"
        problem = f"The key names {shown} twice; upload the JSON file Google generated."
    except RecursionError:
        problem = "The key is nested too deeply to be a service account key."
    raise InvalidCredentials(KEY_FIELD, problem)


def _check_key(doc: Any) -> dict[str, Any]:
    """The key as a dict when it is a service-account key Leftover may use, else why not."""
    if not isinstance(doc, dict):
        raise InvalidCredentials(
            KEY_FIELD, "The key must be a JSON object: the file Google gives you."
        )
    kind = doc.get("type")
    if kind != "service_account":
        raise InvalidCredentials(KEY_FIELD, _type_problem(kind))
    problem = _private_key_problem(doc.get("private_key"))
    if problem:
        raise InvalidCredentials(KEY_FIELD, problem)
    email = doc.get("client_email")
    if not isinstance(email, str) or not _EMAIL.match(email):
        raise InvalidCredentials(
            KEY_FIELD, 'The key has no valid "client_email"; download a new key.'
        )
    project = doc.get("project_id")
    if not isinstance(project, str) or not _PROJECT_ID.match(project):
        raise InvalidCredentials(
            KEY_FIELD, 'The key has no valid "project_id"; download a new key.'
        )
    if doc.get("token_uri") != GOOGLE_TOKEN_URI:
        raise InvalidCredentials(
            KEY_FIELD,
            f"The key's \"token_uri\" is not Google's token endpoint ({GOOGLE_TOKEN_URI}). "
            "Leftover refuses it: it would send the key's signed sign-in request to that "
            "address. Download an unmodified key from Google.",
        )
    if doc.get("universe_domain", "googleapis.com") != "googleapis.com":
        raise InvalidCredentials(
            KEY_FIELD,
            'The key\'s "universe_domain" is not googleapis.com; only keys for Google Cloud '
            "itself are supported.",
        )
    return doc


def _type_problem(kind: object) -> str:
    if kind is None:
        return (
            'The file has no "type"; it is not a Google service account key '
            f'("type": "service_account"). To get one, {_HOW_TO_GET_A_KEY}.'
        )
    shown = f'"{kind}"' if isinstance(kind, str) and _WORD.match(kind) else "this kind"
    why = _REFUSED_TYPES.get(kind) if isinstance(kind, str) else None
    if why:
        return (
            f'This file is "type": {shown}, {why}. Leftover accepts only a service account '
            f'key ("type": "service_account"); {_HOW_TO_GET_A_KEY}.'
        )
    return (
        f"Credentials of type {shown} are not supported: Leftover accepts only a service "
        f'account key ("type": "service_account"); {_HOW_TO_GET_A_KEY}.'
    )


def _private_key_problem(pem: object) -> str | None:
    if not isinstance(pem, str) or not pem.strip():
        return 'The key has no "private_key"; download a new JSON key for the service account.'
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return (
            'The key\'s "private_key" is not an unencrypted PEM private key that can be loaded; '
            "download a new JSON key for the service account."
        )
    if not isinstance(key, rsa.RSAPrivateKey):
        return "The key's \"private_key\" is not an RSA key, as Google's service account keys are."
    return None


def _project_ids(text: str, *, default: str) -> list[str]:
    """Project ids separated by commas, spaces or new lines; none means the key's project."""
    projects: list[str] = []
    for project in re.split(r"[\s,;]+", text.strip()):
        if not project or project in projects:
            continue
        if not _PROJECT_ID.match(project):
            shown = project if len(project) <= 64 else project[:61] + "..."
            if project.isdigit():
                raise InvalidCredentials(
                    PROJECTS_FIELD,
                    f'"{shown}" looks like a project number; enter the project id '
                    "(such as my-project-123) instead.",
                )
            raise InvalidCredentials(
                PROJECTS_FIELD,
                f'"{shown}" is not a Google Cloud project id: ids are 6 to 30 lower-case '
                "letters, digits or hyphens, start with a letter and do not end with a hyphen.",
            )
        projects.append(project)
    if len(projects) > MAX_PROJECTS:
        raise InvalidCredentials(
            PROJECTS_FIELD, f"At most {MAX_PROJECTS} projects per connection; split them up."
        )
    return projects or [default]


# --- credentials at use time ------------------------------------------------------------------


def _key_info(secret: Mapping[str, str] | None, endpoints: Endpoints) -> dict[str, Any]:
    """The stored key, checked again, with the operator's token endpoint when one is set."""
    text = (secret or {}).get(KEY_FIELD)
    problem = "No service account key is stored for this account; upload one."
    if text:
        try:
            info = _check_key(json.loads(text))
        except (InvalidCredentials, ValueError, RecursionError):
            problem = "The stored service account key cannot be used any more; upload a new one."
        else:
            if endpoints.gcp_token_uri:
                info = {**info, "token_uri": endpoints.gcp_token_uri}
            return info
    raise CredentialsRefused(problem)


def _credentials(info: Mapping[str, Any]) -> service_account.Credentials:
    credentials: service_account.Credentials = (
        service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
            dict(info), scopes=[SCOPE]
        )
    )
    return credentials


def _session(endpoints: Endpoints, session: requests.Session | None = None) -> requests.Session:
    """An HTTP session that verifies TLS with the operator's CA bundle and follows no redirect."""
    session = session or requests.Session()
    if endpoints.ca_bundle:
        session.mount("https://", _PinnedCA(endpoints.ca_bundle))
    session.max_redirects = 0  # a redirect could carry the signed assertion elsewhere
    return session


class _PinnedCA(requests.adapters.HTTPAdapter):
    """Verify with this CA bundle on every request.

    ``Session.verify`` is not enough: requests lets ``REQUESTS_CA_BUNDLE`` from the environment
    override it, which would silently ignore the operator's bundle.
    """

    def __init__(self, ca_bundle: str) -> None:
        super().__init__()
        self._ca_bundle = ca_bundle

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        del verify  # whatever the environment said
        return super().send(
            request,
            stream=stream,
            timeout=timeout,
            verify=self._ca_bundle,
            cert=cert,
            proxies=proxies,
        )


# --- discovery --------------------------------------------------------------------------------


def discover(
    config: Mapping[str, Any],
    secret: Mapping[str, str] | None,
    *,
    endpoints: Endpoints,
    allow_private_endpoints: bool = False,
) -> DiscoveryResult:
    """Every GKE cluster of the account's projects; one project Google cannot list is a warning."""
    del allow_private_endpoints  # discovery talks only to Google's APIs (or the operator's)
    info = _key_info(secret, endpoints)
    email = str(info["client_email"])
    # Checked again: a project id becomes part of a URL path.
    projects = [
        p for p in config.get("project_ids") or [] if isinstance(p, str) and _PROJECT_ID.match(p)
    ]
    projects = projects or [str(info["project_id"])]
    clusters: list[DiscoveredCluster] = []
    warnings: list[str] = []
    failures: list[ProviderError] = []
    with _cluster_manager(_credentials(info), endpoints) as client:
        for project in projects:
            try:
                response = _list_clusters(client, project, email=email, timeout=endpoints.timeout)
            except ProviderError as exc:
                failures.append(exc)
                continue
            if response.missing_zones:
                zones = ", ".join(sorted(response.missing_zones))
                warnings.append(
                    f"Project {project}: Google could not reach the zones {zones}; "
                    "clusters there may be missing until the next discovery."
                )
            for cluster in response.clusters:
                found, problems = _discovered(project, cluster)
                clusters.append(found)
                warnings.extend(problems)
    if failures and len(failures) == len(projects):
        raise ProviderError(" ".join(f.reason for f in failures))
    return DiscoveryResult(clusters=clusters, warnings=[f.reason for f in failures] + warnings)


def _cluster_manager(
    credentials: service_account.Credentials, endpoints: Endpoints
) -> container_v1.ClusterManagerClient:
    options = (
        ClientOptions(api_endpoint=endpoints.gcp_container) if endpoints.gcp_container else None
    )
    client = container_v1.ClusterManagerClient(
        credentials=credentials, transport="rest", client_options=options
    )
    # The REST transport's requests session: verify TLS with the operator's CA, no redirects.
    session = getattr(client.transport, "_session", None)
    if isinstance(session, requests.Session):
        _session(endpoints, session)
    return client


def _list_clusters(
    client: container_v1.ClusterManagerClient, project: str, *, email: str, timeout: float
) -> container_v1.ListClustersResponse:
    """One project's clusters; every failure becomes one of the three CloudError kinds."""
    try:
        return client.list_clusters(
            parent=f"projects/{project}/locations/-", timeout=timeout, retry=None
        )
    except api_errors.GoogleAPICallError as exc:
        raise _api_failure(exc, project=project, email=email) from exc
    except auth_errors.RefreshError as exc:
        raise _refresh_failure(exc, email=email) from exc
    except (auth_errors.TransportError, requests.RequestException) as exc:
        raise _unreachable(exc, what="the GKE API") from exc


def _api_failure(exc: api_errors.GoogleAPICallError, *, project: str, email: str) -> CloudError:
    """Sort a GKE API error: refused credentials, a transient outage, or a project problem."""
    status, said = _error_body(exc)
    if isinstance(exc, api_errors.Unauthorized) or status == "UNAUTHENTICATED":
        return CredentialsRefused(
            f"Google did not accept the key of the service account {email}: it may have been "
            f"deleted or disabled. Create a new key and replace the credentials. ({said})"
        )
    if exc.reason == "SERVICE_DISABLED":
        return ProviderError(
            f"The Kubernetes Engine API is not enabled in project {project}: enable it with "
            f"gcloud services enable container.googleapis.com --project {project}."
        )
    if isinstance(exc, api_errors.Forbidden) or status == "PERMISSION_DENIED":
        return CredentialsRefused(
            f"The service account {email} may not list the GKE clusters of project {project}: "
            f"grant it the role {VIEWER_ROLE} (Kubernetes Engine Cluster Viewer) there, and "
            f"check the project id. ({said})"
        )
    if isinstance(exc, api_errors.TooManyRequests | api_errors.ServerError):
        return ProviderUnavailable(
            f"The GKE API is unavailable right now (HTTP {exc.code} for project {project}); "
            f"Leftover will try again. ({said})"
        )
    if isinstance(exc, api_errors.NotFound) or status == "NOT_FOUND":
        return ProviderError(
            f"Project {project} was not found, or the Kubernetes Engine API is not enabled in "
            f"it: check the project id. ({said})"
        )
    if status == "FAILED_PRECONDITION":
        return ProviderError(
            f"Google cannot list the clusters of project {project} yet: check that the "
            f"Kubernetes Engine API is enabled and billing is set up. ({said})"
        )
    return ProviderError(f"Google refused to list the clusters of project {project}: {said}")


def _error_body(exc: api_errors.GoogleAPICallError) -> tuple[str | None, str]:
    """The canonical status and Google's own message, short and on one line."""
    status: str | None = None
    message = exc.message
    response = exc.response
    if isinstance(response, requests.Response):
        try:
            error = response.json()["error"]
            status = error.get("status") if isinstance(error.get("status"), str) else None
            message = str(error.get("message") or message)
        except (ValueError, KeyError, TypeError, AttributeError):
            message = response.text or message
    message = " ".join(str(message).split())
    return status, (message[:297] + "...") if len(message) > 300 else message


def _discovered(project: str, cluster: container_v1.Cluster) -> tuple[DiscoveredCluster, list[str]]:
    """A GKE cluster as Leftover stores it, and warnings when its endpoint or CA is unusable."""
    location = cluster.location or cluster.zone
    problems: list[str] = []
    endpoint: str | None = None
    if cluster.endpoint:
        if _ENDPOINT.match(cluster.endpoint):
            endpoint = f"https://{cluster.endpoint}"
        else:
            problems.append(
                f"Cluster {cluster.name} in {project}: its endpoint is not a host name."
            )
    ca_data: bytes | None = None
    if cluster.master_auth.cluster_ca_certificate:
        try:
            ca_data = base64.b64decode(cluster.master_auth.cluster_ca_certificate, validate=True)
        except (binascii.Error, ValueError):
            ca_data = None
        # Stored as text and handed to the TLS context: only an ASCII PEM certificate will do.
        if (
            ca_data is None
            or not ca_data.isascii()
            or b"-----BEGIN CERTIFICATE-----" not in ca_data
        ):
            ca_data = None
            problems.append(
                f"Cluster {cluster.name} in {project}: its CA is not a PEM certificate."
            )
    try:
        status = container_v1.Cluster.Status(cluster.status).name
    except ValueError:  # a state newer than this client library
        status = str(cluster.status)
    return (
        DiscoveredCluster(
            provider="gcp",
            external_id=f"projects/{project}/locations/{location}/clusters/{cluster.name}",
            name=cluster.name,
            region=location,
            endpoint=endpoint,
            ca_data=ca_data,
            kubernetes_version=cluster.current_master_version or None,
            node_count=_node_count(cluster),
            status=None if status == "STATUS_UNSPECIFIED" else status,
            details={"project": project, "location": location},
        ),
        problems,
    )


def _node_count(cluster: container_v1.Cluster) -> int | None:
    # current_node_count is the live figure; pools only say how many nodes each zone started with.
    if cluster.current_node_count:
        return int(cluster.current_node_count)
    if not cluster.node_pools:
        return None
    return sum(
        pool.initial_node_count * max(1, len(pool.locations or cluster.locations))
        for pool in cluster.node_pools
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
    """Access to a GKE cluster with the service account's OAuth token, minted now and renewed."""
    del config  # the key alone names the service account
    if not cluster.endpoint:
        raise ProviderError(
            f"The cluster {cluster.name} has no API endpoint yet (status {cluster.status}); "
            "it can be scanned once it is running."
        )
    info = _key_info(secret, endpoints)
    tokens = _TokenSource(info, endpoints)
    tokens()  # mint the first token now, so a refused key is reported before the scan starts
    return ClusterAccess(
        server=cluster.endpoint,
        ca_data=cluster.ca_data,
        token_provider=tokens,
        allow_private_endpoints=allow_private_endpoints,
        name=cluster.name,
    )


class _TokenSource:
    """The service account's access token, refreshed when it is close to expiring."""

    def __init__(self, info: Mapping[str, Any], endpoints: Endpoints) -> None:
        self._email = str(info["client_email"])
        self._credentials = _credentials(info)
        self._request = _TimedRequest(_session(endpoints), timeout=endpoints.timeout)
        self._lock = threading.Lock()  # the reader lists several kinds at once

    def __call__(self) -> str:
        with self._lock:
            # FRESH means more than Google's refresh margin (3m45s) remains before expiry.
            if self._credentials.token_state is not TokenState.FRESH:
                self._refresh()
            return str(self._credentials.token)

    def _refresh(self) -> None:
        try:
            self._credentials.refresh(self._request)  # type: ignore[no-untyped-call]
        except auth_errors.RefreshError as exc:
            raise _refresh_failure(exc, email=self._email) from exc
        except (auth_errors.TransportError, requests.RequestException) as exc:
            raise _unreachable(exc, what="Google's token endpoint") from exc

    def __repr__(self) -> str:
        return f"<GKE access tokens for {self._email}>"


class _TimedRequest(AuthRequest):
    """google-auth's transport with Leftover's timeout (its own default waits two minutes)."""

    def __init__(self, session: requests.Session, *, timeout: float) -> None:
        super().__init__(session=session)
        self._timeout = timeout

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Any:
        limit = self._timeout if timeout is None else min(timeout, self._timeout)
        return super().__call__(  # type: ignore[no-untyped-call]
            url, method, body, headers, timeout=limit, **kwargs
        )


def _refresh_failure(exc: auth_errors.RefreshError, *, email: str) -> CloudError:
    said = exc.args[0] if exc.args and isinstance(exc.args[0], str) else type(exc).__name__
    said = " ".join(said.split())[:200]
    if exc.retryable:
        return ProviderUnavailable(
            f"Google's token endpoint is unavailable right now ({said}); Leftover will try again."
        )
    return CredentialsRefused(
        f"Google refused to issue a token for the service account {email} ({said}): the key "
        "may have been deleted, or the account disabled. Create a new key and replace it."
    )


def _unreachable(exc: Exception, *, what: str) -> ProviderUnavailable:
    cause: BaseException = exc
    while isinstance(cause, auth_errors.TransportError) and cause.__cause__ is not None:
        cause = cause.__cause__
    if isinstance(cause, requests.Timeout):
        why = "it did not answer in time"
    elif isinstance(cause, requests.exceptions.SSLError):
        why = "its TLS certificate could not be verified"
    elif isinstance(cause, requests.TooManyRedirects):
        why = "it answered with a redirect, which Leftover does not follow"
    else:
        why = "the connection failed"
    return ProviderUnavailable(f"Could not reach {what}: {why}. Leftover will try again.")
