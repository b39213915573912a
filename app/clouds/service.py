"""Cloud accounts: connect, check, discover, encrypt, delete.

The rules this module keeps:

- Nothing is saved until the provider has accepted the credentials: connecting and replacing
  credentials make the one real call (``discover``) first, and only its success writes.
- The secret is one AES-GCM value bound to its row (``cloud_accounts:<id>:secret``), written
  here and read here only; it never reaches a page, a log line or a job argument.
- Discovery upserts clusters by (account, external id). A cluster the provider stops listing
  is marked gone (its scans and findings stay as history) and comes back if it reappears. A
  listing with warnings (a region or project that could not be read) is incomplete, so it
  marks nothing gone.
- The worker's discovery (``run_discovery``) talks to the provider outside any database
  transaction, and returns quietly if the account was deleted meanwhile.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app import jobs
from app.accounts.models import Organisation
from app.clouds.adapters import adapter
from app.clouds.base import (
    CredentialsRefused,
    DiscoveredCluster,
    DiscoveryResult,
    ParsedCredentials,
    ProviderError,
)
from app.clouds.models import AccountStatus, CloudAccount, Cluster, ClusterState
from app.config import Settings
from app.crypto import DecryptionFailed, KeyRing, LocalKeyRing
from app.db import session_scope, utcnow
from app.history.rollups import refresh_org_day
from app.kube.access import ClusterAccess
from app.scans.models import Finding, ScanRun, ScanTrigger

DISCOVER_TASK = "clouds.discover"
UNDECRYPTABLE = (
    "The stored credentials can no longer be decrypted (the encryption keys changed). "
    "Replace the credentials to reconnect this account."
)
EXTERNAL_ID_PREFIX = "leftover-"

# Column widths of ``clusters`` (values from a provider or a kubeconfig are cut to fit).
_NAME, _REGION, _VERSION, _ENDPOINT, _STATUS, _EXTERNAL = 255, 64, 64, 512, 64, 512


# --- secrets ------------------------------------------------------------------------------------


def _secret_context(account: CloudAccount) -> str:
    return f"cloud_accounts:{account.id}:secret"


def encrypt_secret(
    account: CloudAccount, secret: dict[str, str] | None, *, key_ring: KeyRing
) -> None:
    """Seal ``secret`` into the account's row, bound to its id so a copied value is useless."""
    current: uuid.UUID | None = account.id
    if current is None:
        # The id is the associated data, so it must exist before the row is flushed.
        account.id = uuid.uuid4()
    if secret is None:
        account.secret_ciphertext = None
        return
    plaintext = json.dumps(secret, sort_keys=True).encode()
    account.secret_ciphertext = key_ring.encrypt(plaintext, context=_secret_context(account))


def decrypt_secret(account: CloudAccount, *, key_ring: KeyRing) -> dict[str, str] | None:
    """The account's secret, or None when it has none; ``DecryptionFailed`` if it was moved."""
    if account.secret_ciphertext is None:
        return None
    plaintext = key_ring.decrypt(account.secret_ciphertext, context=_secret_context(account))
    value = json.loads(plaintext)
    if not isinstance(value, dict):
        raise DecryptionFailed("the stored secret is not a mapping")
    return {str(k): str(v) for k, v in value.items()}


def reencrypt_secrets(session: Session, *, key_ring: LocalKeyRing) -> tuple[int, int]:
    """Re-seal every stored secret with the newest key (after a key is prepended to
    ``LEFTOVER_ENCRYPTION_KEYS``); returns (re-encrypted, already current). A secret no
    configured key opens is left as it is and reported by the caller's count difference."""
    changed = current = 0
    rows = session.scalars(select(CloudAccount).where(CloudAccount.secret_ciphertext.is_not(None)))
    for account in rows:
        assert account.secret_ciphertext is not None
        if key_ring.is_current(account.secret_ciphertext):
            current += 1
            continue
        secret = decrypt_secret(account, key_ring=key_ring)
        encrypt_secret(account, secret, key_ring=key_ring)
        changed += 1
    return changed, current


def _secret_or_refused(account: CloudAccount, settings: Settings) -> dict[str, str] | None:
    # A secret that no key opens is, to the user, credentials that no longer work.
    try:
        return decrypt_secret(account, key_ring=settings.key_ring())
    except DecryptionFailed:
        raise CredentialsRefused(UNDECRYPTABLE) from None


# --- the external id of an AWS role connection --------------------------------------------------


def new_external_id() -> str:
    """A fresh ExternalId for one AWS role connection (random, so no one can guess another's)."""
    return EXTERNAL_ID_PREFIX + secrets.token_urlsafe(18)


def sign_external_id(external_id: str, *, org_id: uuid.UUID, settings: Settings) -> str:
    """A signature binding ``external_id`` to this organisation, carried in the connect form.

    Without it a user could post another organisation's ExternalId and have Leftover assume a
    role that trusts that organisation's id (the confused deputy ExternalId exists to stop)."""
    message = f"leftover:aws-external-id:v1:{org_id}:{external_id}".encode()
    return hmac.new(settings.signing_key(), message, hashlib.sha256).hexdigest()


def external_id_valid(
    external_id: str, signature: str, *, org_id: uuid.UUID, settings: Settings
) -> bool:
    """Whether ``external_id`` was generated by this Leftover for this organisation."""
    if not external_id.startswith(EXTERNAL_ID_PREFIX) or not signature:
        return False
    expected = sign_external_id(external_id, org_id=org_id, settings=settings)
    return hmac.compare_digest(expected.encode(), signature.encode())


# --- discovery ----------------------------------------------------------------------------------


@dataclass
class DiscoveryChange:
    """What one discovery did to an account's clusters."""

    new: list[Cluster] = field(default_factory=list)
    updated: list[Cluster] = field(default_factory=list)
    gone: list[Cluster] = field(default_factory=list)
    revived: list[Cluster] = field(
        default_factory=list
    )  # gone before, listed again (also in updated)

    @property
    def to_scan(self) -> list[Cluster]:
        """Clusters worth a scan right away: never scanned, or back after being gone."""
        return [*self.new, *self.revived]


def _discover(
    provider: str, config: dict[str, Any], secret: dict[str, str] | None, settings: Settings
) -> DiscoveryResult:
    return adapter(provider).discover(
        config,
        secret,
        endpoints=settings.cloud_endpoints(),
        allow_private_endpoints=settings.private_endpoints_allowed,
    )


def _fit(value: str | None, width: int) -> str | None:
    return None if value is None else value[:width]


def _external_key(value: str) -> str:
    # Longer than the column: a stable digest keeps it unique instead of a cut that might not be.
    if len(value) <= _EXTERNAL:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def _pem_text(data: bytes | None) -> str | None:
    if data is None:
        return None
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        return None


def _copy_into(cluster: Cluster, found: DiscoveredCluster, *, now: datetime) -> None:
    cluster.name = _fit(found.name, _NAME) or ""
    cluster.region = _fit(found.region, _REGION) or ""
    cluster.kubernetes_version = _fit(found.kubernetes_version, _VERSION)
    cluster.endpoint = _fit(found.endpoint, _ENDPOINT)
    cluster.ca_data = _pem_text(found.ca_data)
    cluster.node_count = found.node_count
    cluster.cloud_status = _fit(found.status, _STATUS)
    cluster.details = dict(found.details)
    cluster.last_seen_at = now


def account_clusters(session: Session, account: CloudAccount) -> list[Cluster]:
    """The account's clusters, active first, then by name."""
    stmt = (
        select(Cluster)
        .where(Cluster.account_id == account.id, Cluster.org_id == account.org_id)
        .order_by(Cluster.state, Cluster.name)
    )
    return list(session.scalars(stmt))


def apply_discovery(
    session: Session, account: CloudAccount, result: DiscoveryResult, *, now: datetime
) -> DiscoveryChange:
    """Upsert the listed clusters; mark the unlisted gone only when the listing was complete."""
    change = DiscoveryChange()
    existing = {c.external_id: c for c in account_clusters(session, account)}
    listed: set[str] = set()
    for found in result.clusters:
        key = _external_key(found.external_id)
        if key in listed:
            continue  # a provider listing one cluster twice (two zones, two pages)
        listed.add(key)
        cluster = existing.get(key)
        if cluster is None:
            cluster = Cluster(
                id=uuid.uuid4(),
                org_id=account.org_id,
                account_id=account.id,
                provider=account.provider,
                external_id=key,
                state=ClusterState.active.value,
                first_seen_at=now,
            )
            _copy_into(cluster, found, now=now)
            session.add(cluster)
            change.new.append(cluster)
            continue
        _copy_into(cluster, found, now=now)
        if cluster.gone:
            cluster.state, cluster.gone_at = ClusterState.active.value, None
            change.revived.append(cluster)
        change.updated.append(cluster)
    if not result.warnings:
        for key, cluster in existing.items():
            if key not in listed and not cluster.gone:
                cluster.state, cluster.gone_at = ClusterState.gone.value, now
                change.gone.append(cluster)
    account.last_discovery_at = now
    account.discovery_warnings = list(result.warnings)
    account.status = AccountStatus.connected.value
    account.status_message = None
    session.flush()
    if change.gone or change.revived:
        # A gone cluster leaves the organisation's totals; a revived one returns to them.
        refresh_org_day(session, account.org_id, now=now)
    return change


def _queue_scans(session: Session, clusters: list[Cluster]) -> None:
    # Imported here: the scans service reads cluster credentials through this module.
    from app.scans.service import queue_scan

    for cluster in clusters:
        queue_scan(session, cluster, trigger=ScanTrigger.discovery)


def connect_account(
    session: Session,
    *,
    org_id: uuid.UUID,
    user_id: uuid.UUID | None,
    provider: str,
    name: str,
    parsed: ParsedCredentials,
    settings: Settings,
) -> CloudAccount:
    """Check the credentials with a real discovery, then save the account and its clusters.

    A ``CloudError`` from the provider propagates before anything is added to ``session``."""
    result = _discover(provider, parsed.config, parsed.secret, settings)
    now = utcnow()
    account = CloudAccount(
        id=uuid.uuid4(),
        org_id=org_id,
        provider=provider,
        name=name,
        config=dict(parsed.config),
        status=AccountStatus.connected.value,
        created_by_id=user_id,
        discovery_warnings=[],
    )
    encrypt_secret(account, parsed.secret, key_ring=settings.key_ring())
    account.secret_changed_at = now
    session.add(account)
    session.flush()
    change = apply_discovery(session, account, result, now=now)
    _queue_scans(session, change.to_scan)
    return account


def replace_credentials(
    session: Session, account: CloudAccount, parsed: ParsedCredentials, *, settings: Settings
) -> DiscoveryChange:
    """Check the new credentials first; only if the provider accepts them, store them.

    On a ``CloudError`` the account keeps its old configuration and secret untouched."""
    result = _discover(account.provider, parsed.config, parsed.secret, settings)
    now = utcnow()
    account.config = dict(parsed.config)
    encrypt_secret(account, parsed.secret, key_ring=settings.key_ring())
    account.secret_changed_at = now
    change = apply_discovery(session, account, result, now=now)
    _queue_scans(session, change.to_scan)
    return change


def request_discovery(session: Session, account: CloudAccount) -> None:
    """Ask a worker to rediscover ``account`` once this transaction commits."""
    jobs.enqueue(session, DISCOVER_TASK, account_id=account.id)


def _record_failure(
    factory: sessionmaker[Session], account_id: uuid.UUID, *, status: AccountStatus, reason: str
) -> str:
    with session_scope(factory) as session:
        account = session.get(CloudAccount, account_id)
        if account is None:
            return "missing"
        account.status = status.value
        account.status_message = reason
        account.last_discovery_at = utcnow()
    return status.value


def run_discovery(factory: sessionmaker[Session], account_id: str, *, settings: Settings) -> str:
    """Rediscover one account for the worker; returns the outcome ("connected", "missing" …).

    Refused credentials mark the account "needs attention" (never retried); another provider
    error is recorded as "error"; ``ProviderUnavailable`` propagates so the task retries."""
    try:
        key = uuid.UUID(str(account_id))
    except ValueError:
        return "missing"
    with session_scope(factory) as session:
        account = session.get(CloudAccount, key)
        if account is None:
            return "missing"
        provider, config = account.provider, dict(account.config)
        try:
            secret = _secret_or_refused(account, settings)
        except CredentialsRefused as exc:
            account.status = AccountStatus.needs_attention.value
            account.status_message = exc.reason
            return AccountStatus.needs_attention.value
    # The provider call happens outside any transaction: it may take a while.
    try:
        result = _discover(provider, config, secret, settings)
    except CredentialsRefused as exc:
        return _record_failure(
            factory, key, status=AccountStatus.needs_attention, reason=exc.reason
        )
    except ProviderError as exc:
        return _record_failure(factory, key, status=AccountStatus.error, reason=exc.reason)
    return _save_discovery(factory, key, result)


def _save_discovery(
    factory: sessionmaker[Session], account_id: uuid.UUID, result: DiscoveryResult
) -> str:
    # A duplicate message may run two discoveries of one account at once: the loser's insert
    # of a new cluster hits the unique (account, external id); once more, it is an update.
    for attempt in range(2):
        try:
            with session_scope(factory) as session:
                account = session.get(CloudAccount, account_id)
                if account is None:
                    return "missing"  # deleted while the provider was answering
                change = apply_discovery(session, account, result, now=utcnow())
                _queue_scans(session, change.to_scan)
            break
        except IntegrityError:
            if attempt:
                raise
    return AccountStatus.connected.value


def accounts_due_for_discovery(
    session: Session, *, now: datetime, interval: timedelta
) -> list[uuid.UUID]:
    """Accounts (of every organisation) whose last discovery is older than ``interval``.

    Accounts needing attention are left out: their credentials were refused, and asking again
    with the same ones cannot help (the user replaces them or presses Refresh)."""
    stmt = (
        select(CloudAccount.id)
        .join(Organisation, Organisation.id == CloudAccount.org_id)
        .where(Organisation.is_demo.is_(False))  # generated accounts: nothing to discover
        .where(CloudAccount.status != AccountStatus.needs_attention.value)
        .where(
            or_(
                CloudAccount.last_discovery_at.is_(None),
                CloudAccount.last_discovery_at <= now - interval,
            )
        )
        .order_by(CloudAccount.last_discovery_at)
    )
    return list(session.scalars(stmt))


# --- cluster credentials ------------------------------------------------------------------------


def discovered_from_row(cluster: Cluster) -> DiscoveredCluster:
    """The cluster as its adapter described it at discovery (what credential minting needs)."""
    return DiscoveredCluster(
        provider=cluster.provider,
        external_id=cluster.external_id,
        name=cluster.name,
        region=cluster.region,
        endpoint=cluster.endpoint,
        ca_data=cluster.ca_data.encode() if cluster.ca_data else None,
        kubernetes_version=cluster.kubernetes_version,
        node_count=cluster.node_count,
        status=cluster.cloud_status,
        details=dict(cluster.details or {}),
    )


def cluster_access_for(session: Session, cluster: Cluster, *, settings: Settings) -> ClusterAccess:
    """Short-lived credentials to read ``cluster``, minted now from its account's secret.

    Raises the adapter's ``CloudError``s; a secret no key opens is ``CredentialsRefused``."""
    account = session.get_one(CloudAccount, cluster.account_id)
    secret = _secret_or_refused(account, settings)
    return adapter(account.provider).cluster_access(
        dict(account.config),
        secret,
        discovered_from_row(cluster),
        endpoints=settings.cloud_endpoints(),
        allow_private_endpoints=settings.private_endpoints_allowed,
    )


# --- pages --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountSummary:
    """One account with what its list row and delete confirmation show."""

    account: CloudAccount
    clusters: int  # active clusters
    gone: int


@dataclass(frozen=True)
class DeletionScope:
    clusters: int
    scan_runs: int
    findings: int


def list_accounts(session: Session, org_id: uuid.UUID) -> list[AccountSummary]:
    """The organisation's accounts by name, each with its active and gone cluster counts."""
    accounts = list(
        session.scalars(
            select(CloudAccount)
            .where(CloudAccount.org_id == org_id)
            .order_by(func.lower(CloudAccount.name), CloudAccount.created_at)
        )
    )
    counts: dict[tuple[uuid.UUID, str], int] = {}
    rows = session.execute(
        select(Cluster.account_id, Cluster.state, func.count())
        .where(Cluster.org_id == org_id)
        .group_by(Cluster.account_id, Cluster.state)
    )
    for account_id, state, count in rows:
        counts[(account_id, state)] = int(count)
    return [
        AccountSummary(
            account=a,
            clusters=counts.get((a.id, ClusterState.active.value), 0),
            gone=counts.get((a.id, ClusterState.gone.value), 0),
        )
        for a in accounts
    ]


def deletion_scope(session: Session, account: CloudAccount) -> DeletionScope:
    """How many clusters, scan runs and findings deleting ``account`` removes with it."""
    cluster_ids = select(Cluster.id).where(
        Cluster.account_id == account.id, Cluster.org_id == account.org_id
    )
    clusters = session.scalar(select(func.count()).select_from(cluster_ids.subquery()))
    runs = session.scalar(
        select(func.count()).select_from(ScanRun).where(ScanRun.cluster_id.in_(cluster_ids))
    )
    findings = session.scalar(
        select(func.count()).select_from(Finding).where(Finding.cluster_id.in_(cluster_ids))
    )
    return DeletionScope(clusters=clusters or 0, scan_runs=runs or 0, findings=findings or 0)


def delete_account(session: Session, account: CloudAccount) -> None:
    """Delete the account; its clusters, scan runs and findings go with it (FK cascades)."""
    session.delete(account)
    session.flush()
