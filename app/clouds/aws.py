"""AWS: find EKS clusters through a cross-account role (or access keys) and mint EKS tokens.

Leftover's own identity (the standard boto3 chain: environment, profile, instance role) assumes
the customer's role with the ExternalId generated for that connection, AWS's defence against the
confused deputy. Access keys are the marked fallback. An EKS bearer token is a presigned STS
GetCallerIdentity URL, minted offline and re-minted while a long scan runs.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.credentials import Credentials  # type: ignore[import-untyped]
from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    SSLError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.hooks import HierarchicalEmitter  # type: ignore[import-untyped]
from botocore.model import ServiceId  # type: ignore[import-untyped]
from botocore.signers import RequestSigner  # type: ignore[import-untyped]

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

DISCOVERY_SESSION = "leftover-discovery"
SCAN_SESSION = "leftover-scan"
DISCOVERY_SECONDS = 900  # the shortest session AWS grants: discovery takes seconds
SCAN_SECONDS = 3600  # every role allows one hour; a scan may outlast a shorter session
# The EKS authenticator accepts a token for 15 minutes; re-mint well before.
TOKEN_REUSE = timedelta(minutes=10)
# Re-assume when the session would expire while a freshly minted token is still in use.
CREDENTIALS_MARGIN = TOKEN_REUSE + timedelta(minutes=5)
MAX_REGION_THREADS = 8
PERMISSIONS = (
    "eks:ListClusters",
    "eks:DescribeCluster",
    "eks:ListNodegroups",
    "eks:DescribeNodegroup",
)
HOME_REGION = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}

_ROLE_ARN = re.compile(
    r"arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role/((?:[\w+=,.@-]+/){0,64})([\w+=,.@-]{1,64})",
    re.ASCII,
)
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
_ACCESS_KEY_ID = re.compile(r"(AKIA|ASIA)[A-Z0-9]{16}")
_SECRET_KEY = re.compile(r"[A-Za-z0-9/+]{40}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_KEY_ID_IN_TEXT = re.compile(r"(AKIA|ASIA)[A-Z0-9]{12,}")

# AWS error codes: the caller was refused (never retried) ...
_REFUSED = frozenset(
    [
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidAccessKeyId",
        "ExpiredToken",
        "ExpiredTokenException",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
        "IncompleteSignature",
        "MissingAuthenticationToken",
        "AuthFailure",
    ]
)
# ... or AWS is busy or broken for now (retried by botocore, then by the pipeline).
_TRANSIENT = frozenset(
    [
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "ServerException",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
    ]
)


class _NoWireLogs(logging.Filter):
    """botocore logs raw requests and responses at DEBUG, session tokens and AssumeRole's
    temporary secret keys included: those records never reach a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


for _name in ("botocore.parsers", "botocore.endpoint", "botocore.auth"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, _NoWireLogs) for f in _logger.filters):
        _logger.addFilter(_NoWireLogs())


# --- the connect form ------------------------------------------------------------------------


def parse_form(
    form: Mapping[str, str], *, existing: Mapping[str, Any] | None = None
) -> ParsedCredentials:
    """Parse the AWS form; a stored external id wins: the customer's trust policy names it."""
    auth = (form.get("auth") or "role").strip()
    if auth not in ("role", "keys"):
        raise InvalidCredentials("auth", "Choose how Leftover signs in: a role or access keys.")
    regions = _parse_regions(form.get("regions") or "")
    stored = (existing or {}).get("external_id")
    external_id = stored if isinstance(stored, str) and stored else form.get("external_id") or ""
    external_id = external_id.strip()
    if (external_id and not _EXTERNAL_ID.fullmatch(external_id)) or (
        auth == "role" and not external_id
    ):
        raise InvalidCredentials(
            "external_id",
            "The external id is missing or malformed (2 to 1224 letters, digits or +=,.@:/-): "
            "reload the page to get a new one.",
        )
    config: dict[str, Any] = {"auth": auth, "external_id": external_id, "regions": regions}
    if auth == "role":
        return ParsedCredentials({**config, "role_arn": _parse_role_arn(form)}, None)
    return ParsedCredentials({**config, "role_arn": None}, _parse_keys(form))


def _parse_role_arn(form: Mapping[str, str]) -> str:
    arn = (form.get("role_arn") or "").strip()
    example = "arn:aws:iam::123456789012:role/LeftoverReadOnly"
    if not arn:
        raise InvalidCredentials("role_arn", f"Enter the ARN of the role you created ({example}).")
    if ":user/" in arn or ":assumed-role/" in arn:
        raise InvalidCredentials(
            "role_arn", f"That is not a role ARN: Leftover assumes an IAM role ({example})."
        )
    if len(arn) > 2048 or not _ROLE_ARN.fullmatch(arn):
        raise InvalidCredentials(
            "role_arn",
            f"That is not an IAM role ARN: it looks like {example} (partition aws, aws-cn or "
            "aws-us-gov, a 12-digit account id, then role/ and the role's path and name).",
        )
    return arn


def _parse_keys(form: Mapping[str, str]) -> dict[str, str]:
    key_id = (form.get("access_key_id") or "").strip()
    secret = (form.get("secret_access_key") or "").strip()
    if not _ACCESS_KEY_ID.fullmatch(key_id):
        raise InvalidCredentials(
            "access_key_id",
            "An access key id is 20 capital letters and digits starting with AKIA.",
        )
    if key_id.startswith("ASIA"):
        # Temporary keys need a session token and die within hours: storing them is pointless.
        raise InvalidCredentials(
            "access_key_id",
            "That is a temporary access key (it starts with ASIA): it expires within hours. "
            "Create a long-term access key for an IAM user, or better, connect with a role.",
        )
    if not _SECRET_KEY.fullmatch(secret):
        raise InvalidCredentials(
            "secret_access_key",
            "A secret access key is 40 characters of letters, digits, + and /.",
        )
    return {"access_key_id": key_id, "secret_access_key": secret}


def _parse_regions(text: str) -> list[str]:
    regions: list[str] = []
    for word in re.split(r"[\s,;]+", text.strip().lower()):
        if not word:
            continue
        if not _REGION.fullmatch(word):
            raise InvalidCredentials(
                "regions",
                f"“{word[:40]}” is not an AWS region: use names like us-east-1, separated by "
                "commas or spaces, or leave the field blank for every EKS region.",
            )
        if word not in regions:
            regions.append(word)
    return regions


def policies(principal_arn: str, external_id: str) -> tuple[str, str]:
    """Trust and permission policy JSON: Leftover with this external id only, read-only EKS."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "LeftoverAssumeRole",
                "Effect": "Allow",
                "Principal": {"AWS": principal_arn},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }
    permissions = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "LeftoverReadEks",
                "Effect": "Allow",
                "Action": list(PERMISSIONS),
                "Resource": "*",
            }
        ],
    }
    return json.dumps(trust, indent=2), json.dumps(permissions, indent=2)


# --- the stored account ----------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class _Account:
    auth: str
    role_arn: str | None
    external_id: str
    regions: tuple[str, ...]
    key_id: str | None
    secret_key: str | None

    def __repr__(self) -> str:
        return f"_Account(auth={self.auth!r}, role_arn={self.role_arn!r})"

    @classmethod
    def load(cls, config: Mapping[str, Any], secret: Mapping[str, str] | None) -> _Account:
        auth = config.get("auth")
        role_arn = config.get("role_arn")
        external_id = config.get("external_id") or ""
        regions = tuple(str(r) for r in config.get("regions") or ())
        if auth == "role" and isinstance(role_arn, str) and role_arn and external_id:
            return cls("role", role_arn, str(external_id), regions, None, None)
        if auth == "keys" and secret and secret.get("access_key_id"):
            key_id, secret_key = secret.get("access_key_id"), secret.get("secret_access_key")
            if key_id and secret_key:
                return cls("keys", None, str(external_id), regions, key_id, secret_key)
        raise CredentialsRefused(
            "The stored AWS connection is incomplete: replace its credentials."
        )

    @property
    def partition(self) -> str:
        if self.role_arn:
            return self.role_arn.split(":")[1]
        first = self.regions[0] if self.regions else ""
        return (
            "aws-cn"
            if first.startswith("cn-")
            else ("aws-us-gov" if first.startswith("us-gov-") else "aws")
        )

    @property
    def who(self) -> str:
        return f"the role {self.role_arn}" if self.role_arn else "the access key's IAM user"

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.key_id, self.secret_key) if s)


@dataclass(frozen=True, repr=False)
class _Keys:
    """Credentials to sign with, and when they stop working (None: long-term keys)."""

    access_key: str
    secret_key: str
    token: str | None
    expiration: datetime | None

    def __repr__(self) -> str:
        return f"_Keys(expiration={self.expiration!r})"

    def session(self) -> Any:
        return boto3.Session(
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            aws_session_token=self.token,
        )


def _session(account: _Account) -> Any:
    """The stored keys' session, or Leftover's own identity (which assumes the role)."""
    try:
        if account.key_id and account.secret_key:
            return boto3.Session(
                aws_access_key_id=account.key_id, aws_secret_access_key=account.secret_key
            )
        return boto3.Session()
    except BotoCoreError as exc:  # a broken AWS_PROFILE or config file on Leftover's side
        raise ProviderError(f"Leftover's own AWS configuration is broken: {_said(exc)}") from None


def _config(endpoints: Endpoints) -> Any:
    return Config(
        retries={"mode": "standard", "max_attempts": 5},
        connect_timeout=endpoints.timeout,
        read_timeout=endpoints.timeout,
        user_agent_extra="leftover",
    )


def _endpoint_url(endpoints: Endpoints, service: str) -> str | None:
    specific = {"eks": endpoints.aws_eks, "sts": endpoints.aws_sts}.get(service)
    return specific or endpoints.aws or None


def _client(session: Any, service: str, region: str, endpoints: Endpoints) -> Any:
    return session.client(
        service,
        region_name=region,
        endpoint_url=_endpoint_url(endpoints, service),
        verify=endpoints.ca_bundle or None,
        config=_config(endpoints),
    )


def _keys(account: _Account, *, sts: Any, session_name: str, duration: int) -> _Keys:
    """The stored keys, or the customer's role assumed with its external id."""
    if account.key_id and account.secret_key:
        return _Keys(account.key_id, account.secret_key, None, None)
    try:
        answer = sts.assume_role(
            RoleArn=account.role_arn,
            RoleSessionName=session_name,
            ExternalId=account.external_id,
            DurationSeconds=duration,
        )
    except NoCredentialsError:
        raise ProviderError(
            "Leftover has no AWS identity of its own to assume the role with: the operator "
            "must give Leftover AWS credentials (environment, profile or instance role)."
        ) from None
    except (ClientError, BotoCoreError) as exc:
        raise _assume_error(exc, account) from None
    creds = answer["Credentials"]
    expiration = creds["Expiration"]
    return _Keys(
        str(creds["AccessKeyId"]),
        str(creds["SecretAccessKey"]),
        str(creds["SessionToken"]),
        expiration if isinstance(expiration, datetime) else None,
    )


def _assume_error(exc: Exception, account: _Account) -> CloudError:
    kind = _kind(exc)
    if kind is ProviderUnavailable:
        return kind(f"AWS STS is unavailable, {account.role_arn} was not assumed: {_said(exc)}")
    if kind is not CredentialsRefused:
        return kind(f"Assuming {account.role_arn} failed: {_said(exc)}")
    if _code(exc) in ("AccessDenied", "AccessDeniedException"):
        return CredentialsRefused(
            f"AWS refused to let Leftover assume {account.role_arn}: check that the role exists, "
            "that its trust policy names Leftover's AWS account as the principal, and that its "
            "sts:ExternalId condition matches the external id shown on the connect page. "
            f"AWS said: {_said(exc)}"
        )
    # The caller is Leftover itself: its own identity is broken, not the customer's role.
    return ProviderError(
        "AWS refused Leftover's own identity, so no customer role can be assumed: the "
        f"operator must fix Leftover's AWS credentials. AWS said: {_said(exc)}"
    )


# --- errors ----------------------------------------------------------------------------------


def _code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "")
    return ""


def _said(exc: Exception, secrets: tuple[str, ...] = ()) -> str:
    """What AWS answered, short, with anything key-shaped removed."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        text = f"{error.get('Code') or 'error'}: {error.get('Message') or 'no message'}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    for secret in secrets:
        text = text.replace(secret, "…")
    return _KEY_ID_IN_TEXT.sub("…", text)[:300]


def _kind(exc: Exception) -> type[CloudError]:
    if isinstance(exc, ClientError):
        code = _code(exc)
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code in _REFUSED:
            return CredentialsRefused
        if code in _TRANSIENT or status == 429 or status >= 500:
            return ProviderUnavailable
        return ProviderError
    if isinstance(exc, SSLError):
        return ProviderError  # a certificate problem does not heal by itself
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        return ProviderUnavailable
    return ProviderError


def _refusal(exc: Exception, account: _Account, region: str) -> str:
    code, said = _code(exc), _said(exc, account.secrets())
    if account.auth == "keys" and code in ("InvalidClientTokenId", "UnrecognizedClientException"):
        hint = "AWS does not recognise the access key: it may have been deleted or deactivated."
    elif code in ("SignatureDoesNotMatch", "InvalidSignatureException"):
        hint = "AWS rejected the secret access key: it does not belong to the access key id."
    elif code.startswith("ExpiredToken"):
        hint = "The AWS credentials have expired."
    elif code.startswith("AccessDenied") or code == "UnauthorizedOperation":
        hint = (
            f"{account.who[0].upper()}{account.who[1:]} may not list EKS clusters in "
            f"{region}: attach the read-only permission policy ({', '.join(PERMISSIONS)})."
        )
    else:
        hint = f"AWS refused to list EKS clusters in {region}."
    return f"{hint} AWS said: {said}"


# --- discovery -------------------------------------------------------------------------------


def discover(
    config: Mapping[str, Any],
    secret: Mapping[str, str] | None,
    *,
    endpoints: Endpoints,
    allow_private_endpoints: bool = False,
) -> DiscoveryResult:
    """EKS clusters of the chosen (or every) region; one region refusing is only a warning."""
    del allow_private_endpoints  # discovery talks only to AWS's APIs (or the operator's)
    # Opt-in regions that are not enabled refuse every caller, hence warnings, not failures.
    account = _Account.load(config, secret)
    sts_region = account.regions[0] if account.regions else HOME_REGION[account.partition]
    sts = _client(_session(account), "sts", sts_region, endpoints) if account.role_arn else None
    keys = _keys(account, sts=sts, session_name=DISCOVERY_SESSION, duration=DISCOVERY_SECONDS)
    session = keys.session()
    regions = list(account.regions) or sorted(
        session.get_available_regions("eks", partition_name=account.partition)
    )
    # Sessions are not thread-safe, clients are: build them here, use them in the pool.
    clients = {region: _client(session, "eks", region, endpoints) for region in regions}
    with ThreadPoolExecutor(max_workers=max(1, min(MAX_REGION_THREADS, len(regions)))) as pool:
        futures = {r: pool.submit(_region_clusters, clients[r], r) for r in regions}
    clusters: list[DiscoveredCluster] = []
    warnings: list[str] = []
    refused: dict[str, str] = {}
    failed: list[CloudError] = []
    for region in regions:
        try:
            found, notes = futures[region].result()
        except (ClientError, BotoCoreError) as exc:
            kind = _kind(exc)
            if kind is CredentialsRefused:
                refused[region] = _refusal(exc, account, region)
            else:
                failed.append(kind(f"Listing EKS clusters in {region} failed: {_said(exc)}"))
            continue
        clusters.extend(found)
        warnings.extend(notes)
    # A partial list would mark the missing region's clusters gone: fail the whole run.
    if failed:
        raise next((e for e in failed if isinstance(e, ProviderUnavailable)), failed[0])
    if refused and len(refused) == len(regions):
        raise CredentialsRefused(refused.get(sts_region) or next(iter(refused.values())))
    warnings.extend(
        f"{region}: not listed. If it is an opt-in region, it may not be enabled for this "
        f"account. {reason}"
        for region, reason in refused.items()
    )
    clusters.sort(key=lambda c: (c.region, c.name))
    return DiscoveryResult(clusters=clusters, warnings=warnings)


def _region_clusters(eks: Any, region: str) -> tuple[list[DiscoveredCluster], list[str]]:
    names: list[str] = []
    for page in eks.get_paginator("list_clusters").paginate():
        names.extend(str(n) for n in page.get("clusters") or ())
    clusters: list[DiscoveredCluster] = []
    warnings: list[str] = []
    for name in names:
        try:
            info = eks.describe_cluster(name=name)["cluster"]
        except ClientError as exc:
            if _code(exc) == "ResourceNotFoundException":
                continue  # deleted between the list and now
            if _kind(exc) is not CredentialsRefused:
                raise
            # A permission policy may name some clusters only: skip the others, say so.
            warnings.append(f"{region}/{name}: not allowed to describe it ({_said(exc)}).")
            continue
        cluster, warning = _cluster(info, region, node_count=_node_count(eks, name))
        clusters.append(cluster)
        if warning:
            warnings.append(warning)
    return clusters, warnings


def _node_count(eks: Any, name: str) -> int | None:
    """The managed node groups' desired sizes; None when unknown (no managed groups, or the
    role may not read them) rather than a misleading zero."""
    try:
        groups = [
            str(group)
            for page in eks.get_paginator("list_nodegroups").paginate(clusterName=name)
            for group in page.get("nodegroups") or ()
        ]
        sizes = [
            eks.describe_nodegroup(clusterName=name, nodegroupName=group)["nodegroup"]
            .get("scalingConfig", {})
            .get("desiredSize")
            for group in groups
        ]
    except ClientError as exc:
        if _kind(exc) is CredentialsRefused or _code(exc) == "ResourceNotFoundException":
            return None
        raise
    return sum(int(size or 0) for size in sizes) if sizes else None


def _cluster(
    info: Mapping[str, Any], region: str, *, node_count: int | None
) -> tuple[DiscoveredCluster, str | None]:
    name = str(info.get("name") or "")
    ca_data, warning = None, None
    encoded = (info.get("certificateAuthority") or {}).get("data")
    if encoded:
        try:
            ca_data = base64.b64decode(str(encoded), validate=True)
        except (binascii.Error, ValueError):
            ca_data = None
        if ca_data is not None and b"-----BEGIN CERTIFICATE-----" not in ca_data:
            ca_data = None
        if ca_data is None:
            warning = f"{region}/{name}: AWS returned no readable CA certificate for it."
    endpoint = str(info.get("endpoint") or "").rstrip("/") or None
    cluster = DiscoveredCluster(
        provider="aws",
        external_id=str(info.get("arn") or f"{region}/{name}"),
        name=name,
        region=region,
        endpoint=endpoint,
        ca_data=ca_data,
        kubernetes_version=info.get("version"),
        node_count=node_count,
        status=info.get("status"),
    )
    return cluster, warning


# --- cluster credentials ---------------------------------------------------------------------


def eks_token(keys: Credentials, cluster_name: str, *, region: str, sts_url: str) -> str:
    """An EKS bearer token: a presigned STS GetCallerIdentity for the cluster, minted offline."""
    # The EKS authenticator replays the URL to STS (with x-k8s-aws-id) to learn who calls.
    # The signer keeps only a weak reference to its emitter: hold it for the call.
    emitter = HierarchicalEmitter()
    signer = RequestSigner(ServiceId("sts"), region, "sts", "v4", keys, emitter)
    request = {
        "method": "GET",
        "url": f"{sts_url.rstrip('/')}/?Action=GetCallerIdentity&Version=2011-06-15",
        "body": {},
        "headers": {"x-k8s-aws-id": cluster_name},
        "context": {},
    }
    url = str(
        signer.generate_presigned_url(request, region_name=region, expires_in=60, operation_name="")
    )
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


class EksTokenProvider:
    """Tokens for one cluster: one is reused for ``TOKEN_REUSE``, then a new one is minted,
    re-assuming the role first when its session would expire while the token is in use."""

    def __init__(
        self,
        config: Mapping[str, Any],
        secret: Mapping[str, str] | None,
        *,
        cluster_name: str,
        region: str,
        endpoints: Endpoints,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._account = _Account.load(config, secret)
        self._cluster_name = cluster_name
        self._region = region
        self._now = now
        self._lock = threading.Lock()
        sts = _client(_session(self._account), "sts", region, endpoints)
        self._sts = sts if self._account.role_arn else None
        self._sts_url = str(sts.meta.endpoint_url)
        self._keys: _Keys | None = None
        self._token: str | None = None
        self._minted: datetime | None = None

    def __repr__(self) -> str:
        return f"EksTokenProvider(cluster={self._cluster_name!r}, region={self._region!r})"

    def __call__(self) -> str:
        with self._lock:
            now = self._now()
            if self._token is None or self._minted is None or now - self._minted >= TOKEN_REUSE:
                self._token = self._mint(now)
                self._minted = now
            return self._token

    def _mint(self, now: datetime) -> str:
        keys = self._keys
        if keys is None or (
            keys.expiration is not None and keys.expiration - now < CREDENTIALS_MARGIN
        ):
            keys = self._keys = _keys(
                self._account, sts=self._sts, session_name=SCAN_SESSION, duration=SCAN_SECONDS
            )
        signing = Credentials(keys.access_key, keys.secret_key, keys.token)
        return eks_token(signing, self._cluster_name, region=self._region, sts_url=self._sts_url)


def cluster_access(
    config: Mapping[str, Any],
    secret: Mapping[str, str] | None,
    cluster: DiscoveredCluster,
    *,
    endpoints: Endpoints,
    allow_private_endpoints: bool,
) -> ClusterAccess:
    """Access with a token minted now, so a refused role fails before the scan, not during it."""
    if not cluster.endpoint:
        raise ProviderError(
            f"The EKS cluster {cluster.name} has no API endpoint yet (status {cluster.status})."
        )
    provider = EksTokenProvider(
        config, secret, cluster_name=cluster.name, region=cluster.region, endpoints=endpoints
    )
    provider()
    try:
        return ClusterAccess(
            server=cluster.endpoint,
            ca_data=cluster.ca_data,
            token_provider=provider,
            allow_private_endpoints=allow_private_endpoints,
            name=cluster.name,
        )
    except ValueError as exc:
        raise ProviderError(
            f"The EKS cluster {cluster.name} has an unusable endpoint: {exc}."
        ) from None
