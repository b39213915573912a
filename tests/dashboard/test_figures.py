"""The dashboard's "now" (``queries.breakdown`` with the costliest namespaces ranked by the
database) equals the full breakdown: the same totals per provider, cluster and kind, and
the same costliest namespaces — with low-confidence, ignored and gone-cluster findings left
out, and an ignore rule's expiry applied live."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.accounts.models import Organisation
from app.db import utcnow
from app.history import queries
from app.history.rollups import Totals
from app.scans.models import Finding
from tests.dashboard.helpers import arrange_two_clouds
from tests.factories import add_account, add_cluster, add_finding, add_run, refresh


def new_org(db: Session, name: str) -> uuid.UUID:
    org = Organisation(name=name)
    db.add(org)
    db.flush()
    return org.id


def as_tuple(t: Totals) -> tuple[Decimal, int, Decimal, int]:
    return (t.cost, t.findings, t.ignored_cost, t.ignored_findings)


def assert_same(db: Session, org_id: uuid.UUID, *, limit: int) -> None:
    now = utcnow()
    reference = queries.breakdown(db, org_id, now=now)
    got = queries.breakdown(db, org_id, now=now, namespaces=limit)
    assert as_tuple(got.total) == as_tuple(reference.total)
    assert got.namespaces_wasting == reference.namespaces_wasting
    for mine, theirs in (
        (got.by_provider, reference.by_provider),
        (got.by_cluster, reference.by_cluster),
        (got.by_kind, reference.by_kind),
    ):
        assert {k: as_tuple(v) for k, v in mine.items()} == {
            k: as_tuple(v) for k, v in theirs.items()
        }
    wasting = {k: v for k, v in reference.by_namespace.items() if v.waste > 0}
    top = sorted(wasting, key=lambda k: (-wasting[k].waste, str(k[0]), k[1]))[:limit]
    assert list(got.by_namespace) == top
    assert {k: as_tuple(v) for k, v in got.by_namespace.items()} == {
        k: as_tuple(wasting[k]) for k in top
    }
    assert got.namespaces_wasting == len(wasting)


def test_the_same_figures_as_the_reference_breakdown(db: Session) -> None:
    org_id = new_org(db, "Acme")
    clusters = arrange_two_clouds(db, org_id)
    # Another organisation's rows change nothing.
    other = new_org(db, "Other")
    theirs = add_cluster(db, add_account(db, other, "Their AWS"), "theirs")
    add_finding(db, add_run(db, theirs), kind="Service", name="x", namespace="web", cost="999")
    refresh(db, other, theirs)
    db.commit()

    for limit in (10, 2, 1):
        assert_same(db, org_id, limit=limit)
    got = queries.breakdown(db, org_id, now=utcnow(), namespaces=2)
    assert got.total.waste == Decimal("138.43")
    assert got.namespaces_wasting == 4
    shop, lake = clusters["shop"].id, clusters["lake"].id
    assert list(got.by_namespace) == [(shop, "shop"), (lake, "etl")]
    assert got.by_namespace[(lake, "etl")].ignored_cost == Decimal(18)

    # The ignore rule expires (its expiry moved back instead of the clock forward).
    db.execute(update(Finding).values(ignored_until=utcnow() - timedelta(seconds=1)))
    db.commit()
    assert_same(db, org_id, limit=10)
    assert queries.breakdown(db, org_id, now=utcnow(), namespaces=10).total.waste == Decimal(
        "156.43"
    )


def test_nothing_scanned_is_nothing(db: Session) -> None:
    org_id = new_org(db, "Acme")
    add_cluster(db, add_account(db, org_id, "Shop AWS"), "shop")
    db.commit()
    got = queries.breakdown(db, org_id, now=utcnow(), namespaces=10)
    assert got.by_cluster == {}
    assert got.total.waste == 0
    assert got.namespaces_wasting == 0
