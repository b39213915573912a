"""Two clusters of one organisation publishing at the same moment on PostgreSQL: each has
inserted rows referencing the organisation (KEY SHARE locks through the foreign keys) before it
re-sums the organisation's day. The second waits for the first and then sees its rows — no
deadlock, no lost update."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.accounts.models import Organisation
from app.db import make_engine, make_sessionmaker, utcnow
from app.history.models import OrgDailyWaste
from app.history.rollups import refresh_cluster, refresh_org_day
from tests.conftest import empty_all_tables
from tests.factories import add_account, add_cluster, add_finding, add_run

pytestmark = pytest.mark.services


def test_two_publishers_take_turns_on_the_organisation_day(migrated_postgres: str) -> None:
    empty_all_tables(migrated_postgres)
    engine = make_engine(migrated_postgres)
    factory = make_sessionmaker(engine)
    try:
        with factory() as setup:
            org = Organisation(name="Acme")
            setup.add(org)
            setup.flush()
            account = add_account(setup, org.id, "prod")
            one, two = add_cluster(setup, account, "one"), add_cluster(setup, account, "two")
            runs = {c.id: add_run(setup, c) for c in (one, two)}
            setup.commit()
            org_id, clusters = org.id, [one.id, two.id]
            run_ids = {k: v.id for k, v in runs.items()}

        first, second = factory(), factory()
        errors: list[BaseException] = []
        now = utcnow()

        def publish_rows(session: Session, cluster_id: object, cost: str) -> None:
            session.execute(text("SET lock_timeout = '10s'"))  # a lock that never comes fails
            run = session.get_one(type(runs[clusters[0]]), run_ids[cluster_id])
            add_finding(session, run, kind="PersistentVolumeClaim", name="data", cost=cost)
            refresh_cluster(session, run.cluster_id, org_id, now=now)  # KEY SHARE on the org

        publish_rows(first, clusters[0], "10")
        publish_rows(second, clusters[1], "5")
        refresh_org_day(first, org_id, now=now)  # takes the organisation's lock

        def finish_second() -> None:
            try:
                refresh_org_day(second, org_id, now=now)  # waits for the first to commit
                second.commit()
            except BaseException as exc:  # reported below
                errors.append(exc)

        waiter = threading.Thread(target=finish_second)
        waiter.start()
        waiter.join(timeout=1.0)
        assert waiter.is_alive(), "the second publisher waits for the first"
        first.commit()
        waiter.join(timeout=30)
        assert not waiter.is_alive()
        assert errors == []
        with factory() as check:
            total = check.scalar(
                select(OrgDailyWaste.cost).where(
                    OrgDailyWaste.org_id == org_id, OrgDailyWaste.dimension == "total"
                )
            )
            assert total == Decimal("15.0000"), "the second saw the first's rows"
        first.close()
        second.close()
    finally:
        engine.dispose()
