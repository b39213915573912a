"""Store the demo organisation: generated clusters, the real engine's findings, a daily history.

``seed_demo`` replaces the installation's demo organisation (any organisation with ``is_demo``)
by a fresh "Demo organisation", in one transaction. For each generated cluster
(``app.demo.generate``) it runs ``app.analysis.analyze`` on the snapshot, then ``seed_rows``
replays the cluster's days (``app.demo.history``) as the scan pipeline would have published
them: a scan per day, the current findings, the ones cleaned up, the daily roll-ups. Today's
roll-ups (``WasteCurrent``, today's cluster and organisation rows) come from
``refresh_cluster`` and ``refresh_org_day``, as after a publish.

Demo cloud accounts are "connected" but hold no credentials, and demo clusters have no
endpoint: nothing about them can be contacted, and the workers skip demo organisations when
they schedule scans and discoveries. Every existing user (or only ``members``) becomes an
admin, free to try ignore rules and price overrides.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import Membership, Organisation, Role, User
from app.analysis import Options, analyze
from app.clouds.models import AccountStatus, CloudAccount, Cluster
from app.config import Settings
from app.db import make_engine, make_sessionmaker, session_scope, utcnow
from app.demo.generate import DemoCluster, demo_cluster, scale_for_findings
from app.demo.seed_rows import Bulk, replay
from app.history.models import OrgDailyWaste
from app.history.rollups import Key, Totals, refresh_cluster, refresh_org_day, rows_for
from app.pricing.book import load_default_price_book

DEMO_ORG_NAME = "Demo organisation"
MAX_CLUSTERS = 1000
MAX_DAYS = 3 * 365
MAX_SCALE = 100
_STATUS = {"aws": "ACTIVE", "gcp": "RUNNING", "azure": "Succeeded/Running"}
Progress = Callable[[str], None]


class DemoError(Exception):
    """The demo cannot be seeded as asked; the message says why (one line, no secrets)."""


@dataclass
class DemoReport:
    org_id: uuid.UUID
    replaced: int  # earlier demo organisations deleted
    clusters: int
    providers: dict[str, int]
    accounts: int
    days: int
    findings: int
    monthly_cost: Decimal  # counted current findings, list prices
    resolved: int
    members: list[str]
    rows: dict[str, int] = field(default_factory=dict)  # rows written per table
    seconds: float = 0.0

    def lines(self) -> list[str]:
        clouds = ", ".join(f"{p} {n}" for p, n in sorted(self.providers.items()))
        verb = "replaced the previous one" if self.replaced else "new"
        people = ", ".join(self.members) or "nobody yet (sign up, then run `leftover demo` again)"
        return [
            f"{DEMO_ORG_NAME} seeded in {self.seconds:.1f} s ({verb}), org {self.org_id}:",
            f"  {self.clusters} clusters ({clouds}) in {self.accounts} cloud accounts "
            "(generated: never scanned, no credentials)",
            f"  {self.findings:,} current findings from the engine, "
            f"${self.monthly_cost:,.2f}/month estimated at list prices",
            f"  {self.days} days of history: {self.rows.get('scan_runs', 0):,} scans, "
            f"{self.resolved:,} findings cleaned up",
            f"  admins: {people}",
            f"Sign in and pick {DEMO_ORG_NAME!r} in the organisation menu.",
        ]


def seed_demo(
    target: sessionmaker[Session] | Session,
    *,
    clusters: int = 12,
    days: int = 90,
    seed: int = 7,
    scale: int = 1,
    now: datetime,
    members: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> DemoReport:
    """Replace the demo organisation; ``members`` (emails) None means every user."""
    _check(clusters=clusters, days=days, scale=scale, now=now)
    if isinstance(target, Session):
        return _seed(target, clusters, days, seed, scale, now, members, progress)
    with session_scope(target) as session:
        return _seed(session, clusters, days, seed, scale, now, members, progress)


def seed_configured(
    settings: Settings,
    *,
    clusters: int = 12,
    days: int = 90,
    seed: int = 7,
    scale: int | None = None,
    findings_per_cluster: int | None = None,
    members: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> DemoReport:
    """``leftover demo``: seed the configured database, which must be migrated to the latest
    revision. ``findings_per_cluster`` picks the scale when ``scale`` is not given."""
    if scale is None:
        if findings_per_cluster is not None and findings_per_cluster < 1:
            raise DemoError("--findings-per-cluster must be at least 1")
        scale = scale_for_findings(findings_per_cluster) if findings_per_cluster else 1
    _check(clusters=clusters, days=days, scale=scale, now=utcnow())
    engine = make_engine(settings.database)
    try:
        require_migrated(engine)
        factory = make_sessionmaker(engine)
        return seed_demo(
            factory,
            clusters=clusters,
            days=days,
            seed=seed,
            scale=scale,
            now=utcnow(),
            members=members,
            progress=progress,
        )
    finally:
        engine.dispose()


def require_migrated(engine: Engine) -> None:
    """``DemoError`` unless the database answers and is at the migrations' head."""
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from app.ops import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    heads = set(ScriptDirectory.from_config(config).get_heads())
    where = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise DemoError(f"cannot open the database {where}: {reason}") from None
    if not current:
        raise DemoError(f"the database {where} has no tables yet: run `leftover migrate` first")
    if current != heads:
        raise DemoError(f"the database {where} is not up to date: run `leftover migrate` first")


def _check(*, clusters: int, days: int, scale: int, now: datetime) -> None:
    if not 1 <= clusters <= MAX_CLUSTERS:
        raise DemoError(f"--clusters must be between 1 and {MAX_CLUSTERS}")
    if not 2 <= days <= MAX_DAYS:
        raise DemoError(f"--days must be between 2 and {MAX_DAYS}")
    if not 1 <= scale <= MAX_SCALE:
        raise DemoError(f"--scale must be between 1 and {MAX_SCALE}")
    if now.tzinfo is None:
        raise DemoError("now must be timezone-aware")


def _seed(
    session: Session,
    clusters: int,
    days: int,
    seed: int,
    scale: int,
    now: datetime,
    members: Sequence[str] | None,
    progress: Progress | None,
) -> DemoReport:
    started = time.perf_counter()
    say = progress or (lambda _line: None)
    users = _users(session, members)
    gone = session.execute(
        delete(Organisation)
        .where(Organisation.is_demo.is_(True))
        .execution_options(synchronize_session=False)
    )
    replaced = int(getattr(gone, "rowcount", 0) or 0)
    first_day = now - timedelta(days=days - 1)
    org = Organisation(name=DEMO_ORG_NAME, is_demo=True, created_at=first_day, updated_at=now)
    session.add(org)
    session.flush()
    for user in users:
        session.add(Membership(user_id=user.id, org_id=org.id, role=Role.admin.value))
    report = DemoReport(
        org_id=org.id,
        replaced=replaced,
        clusters=clusters,
        providers={},
        accounts=0,
        days=days,
        findings=0,
        monthly_cost=Decimal(0),
        resolved=0,
        members=[u.email for u in users],
    )
    bulk = Bulk(session)
    try:
        seeded = _clusters(session, bulk, org.id, report, seed, scale, now, say, started)
        bulk.flush()
    except BaseException:
        bulk.close(abort=True)
        raise
    bulk.close()
    say("demo: today's roll-ups …")
    for cluster_id in seeded:
        refresh_cluster(session, cluster_id, org.id, now=now)
    refresh_org_day(session, org.id, now=now)
    if session.get_bind().dialect.name == "postgresql":
        for table in bulk.tables:  # fresh planner statistics for the pages that read them
            session.execute(text(f"ANALYZE {table.name}"))
    report.rows = dict(bulk.written)
    report.seconds = time.perf_counter() - started
    return report


def _clusters(
    session: Session,
    bulk: Bulk,
    org_id: uuid.UUID,
    report: DemoReport,
    seed: int,
    scale: int,
    now: datetime,
    say: Progress,
    started: float,
) -> list[uuid.UUID]:
    """Generate, analyse and replay every cluster; then the organisation's past days."""
    days, count = report.days, report.clusters
    first_day = now - timedelta(days=days - 1)
    org_days: dict[int, dict[Key, Totals]] = {}
    accounts: dict[tuple[str, str], CloudAccount] = {}
    prices = load_default_price_book()
    seeded: list[uuid.UUID] = []
    for index in range(count):
        tick = time.perf_counter()
        demo = demo_cluster(index, seed=seed, scale=scale, now=now)
        account = _account(session, org_id, demo, accounts, first_day=first_day, now=now)
        cluster = _cluster(session, account, demo, first_day=first_day, now=now)
        options = Options(provider=demo.provider, region=demo.region)
        result = analyze(demo.snapshot, prices=prices, options=options, now=now)
        found, cost, resolved = replay(
            bulk, org_days, cluster, demo, result, days=days, seed=seed, now=now
        )
        seeded.append(cluster.id)
        report.findings += found
        report.monthly_cost += cost
        report.resolved += resolved
        report.providers[demo.provider] = report.providers.get(demo.provider, 0) + 1
        if count <= 24 or (index + 1) % 10 == 0 or index + 1 == count:
            say(
                f"demo: cluster {index + 1}/{count} {demo.name} ({demo.provider} "
                f"{demo.region}): {found:,} findings, ${cost:,.2f}/month "
                f"({time.perf_counter() - tick:.2f} s, {time.perf_counter() - started:.0f} s in)"
            )
    for offset, totals in sorted(org_days.items(), reverse=True):
        day = (now - timedelta(days=offset)).date()
        bulk.add(OrgDailyWaste, rows_for(totals, org_id=org_id, day=day))
    report.accounts = len(accounts)
    return seeded


def _users(session: Session, members: Sequence[str] | None) -> list[User]:
    if members is None:
        return list(session.scalars(select(User).order_by(User.email)))
    users: dict[uuid.UUID, User] = {}
    for email in members:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise DemoError(f"no user has the email {email.strip()!r}; sign up first")
        users[user.id] = user
    return sorted(users.values(), key=lambda u: u.email)


# --- accounts and clusters --------------------------------------------------------------------


def _account(
    session: Session,
    org_id: uuid.UUID,
    demo: DemoCluster,
    accounts: dict[tuple[str, str], CloudAccount],
    *,
    first_day: datetime,
    now: datetime,
) -> CloudAccount:
    """An AWS account per account id; one GCP and one Azure account listing every project or
    subscription (as a service account or a service principal would)."""
    group = demo.account if demo.provider == "aws" else ""
    account = accounts.get((demo.provider, group))
    if account is None:
        account = CloudAccount(
            org_id=org_id,
            provider=demo.provider,
            name=_account_name(demo),
            config={},
            secret_ciphertext=None,  # generated: nothing to sign in with, nothing to scan
            status=AccountStatus.connected.value,
            last_discovery_at=now,
            discovery_warnings=[],
            created_at=first_day,
            updated_at=now,
        )
        session.add(account)
        accounts[(demo.provider, group)] = account
    account.config = _config(demo, account.config)
    return account


def _account_name(demo: DemoCluster) -> str:
    if demo.provider == "aws":
        return f"Demo AWS {demo.environment} ({demo.account})"
    return "Demo GCP projects" if demo.provider == "gcp" else "Demo Azure subscriptions"


def _config(demo: DemoCluster, old: dict[str, Any]) -> dict[str, Any]:
    """Plausible ids and regions, and nothing a worker could connect with: GCP and Azure need
    the secret there is none of, and the AWS role has no external id, so the adapters refuse
    before any call (Leftover's own AWS identity is never used to assume a made-up role)."""
    if demo.provider == "aws":
        return {
            "auth": "role",
            "role_arn": f"arn:aws:iam::{demo.account}:role/leftover-read-only",
            "regions": sorted({*old.get("regions", []), demo.region}),
        }
    if demo.provider == "gcp":
        return {
            "project_ids": sorted({*old.get("project_ids", []), demo.account}),
            "client_email": "leftover-reader@acme-platform.iam.gserviceaccount.com",
        }
    return {
        "tenant_id": "8f4b7c2e-5d1a-4e3b-9c6f-2a7d0e1b3c4d",
        "client_id": "1c9e6a3f-7b2d-4f8e-a5c1-6d0b9e2f4a7c",
        "subscription_ids": sorted({*old.get("subscription_ids", []), demo.account}),
    }


def _cluster(
    session: Session,
    account: CloudAccount,
    demo: DemoCluster,
    *,
    first_day: datetime,
    now: datetime,
) -> Cluster:
    details: dict[str, Any] = {"demo": True}
    if demo.provider == "gcp":
        details.update(project=demo.account, location=demo.region)
    elif demo.provider == "azure":
        details.update(subscription_id=demo.account, resource_group=f"rg-{demo.name}", aad=False)
    session.flush()  # the account's id
    cluster = Cluster(
        org_id=account.org_id,
        account_id=account.id,
        provider=demo.provider,
        external_id=demo.external_id or f"demo:{demo.name}",
        name=demo.name,
        region=demo.region,
        kubernetes_version=demo.kubernetes_version,
        endpoint=None,  # generated: there is no API server to reach
        node_count=demo.node_count,
        cloud_status=_STATUS[demo.provider],
        details=details,
        first_seen_at=first_day,
        last_seen_at=now,
        created_at=first_day,
        updated_at=now,
    )
    session.add(cluster)
    session.flush()
    return cluster
