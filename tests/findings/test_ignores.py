"""Ignore rules through the web: each scope made from its form (with CSRF), the totals moving at
once, expiry by the clock and by the tidy-up task, deletion handing findings to another rule,
validation messages with the typed values kept, viewers read-only, tenants kept apart.

Rows are arranged with tests.factories; everything else goes through real requests, the
figures through app.history.queries and the roll-up tables."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.clouds.models import CloudAccount, Cluster
from app.db import utcnow
from app.findings.expiry import expire_ignore_rules
from app.findings.ignore_view import expiry_text
from app.findings.models import IgnoreRule
from app.history import queries
from app.history.models import WasteCurrent
from app.scans.models import Finding
from tests.accounts.helpers import add_member
from tests.conftest import Browser, BrowserFactory
from tests.factories import add_account, add_cluster, add_finding, add_run, org_id_of, refresh

HX = {"HX-Request": "true"}


@dataclass
class Org:
    client: Browser
    org_id: uuid.UUID
    account: CloudAccount
    cluster: Cluster
    other_cluster: Cluster
    findings: dict[str, Finding]


def signed_up(browser: BrowserFactory, db: Session, email: str, org: str) -> Org:
    """An organisation with two clusters and findings in several namespaces, rolled up."""
    client = browser()
    client.sign_up(email, org=org)
    org_id = org_id_of(db, email)
    account = add_account(db, org_id, f"{org} AWS")
    prod = add_cluster(db, account, "prod-eu")
    staging = add_cluster(db, account, "staging")
    run, run2 = add_run(db, prod), add_run(db, staging)
    made = {
        "cart": add_finding(db, run, kind="Deployment", namespace="shop", name="cart", cost="40"),
        "pvc": add_finding(
            db, run, kind="PersistentVolumeClaim", namespace="shop", name="data-0", cost="80"
        ),
        "b1": add_finding(db, run, kind="ConfigMap", namespace="data", name="backup-1", cost="1"),
        "b22": add_finding(db, run, kind="ConfigMap", namespace="data", name="backup-22", cost="2"),
        "bx": add_finding(db, run, kind="ConfigMap", namespace="data", name="backupx", cost="4"),
        "bs": add_finding(db, run, kind="Secret", namespace="data", name="backup-9", cost="8"),
        "s1": add_finding(db, run, kind="Secret", namespace="legacy", name="token-a", cost="16"),
        "s2": add_finding(db, run, kind="Secret", namespace="legacy", name="token-b", cost="32"),
        "pv": add_finding(
            db, run, kind="PersistentVolume", namespace=None, name="pv-old-1", cost="64"
        ),
        "s3": add_finding(db, run2, kind="Secret", namespace="legacy", name="token-c", cost="128"),
    }
    refresh(db, org_id, prod, staging)
    db.commit()
    return Org(client, org_id, account, prod, staging, made)


@pytest.fixture
def acme(browser: BrowserFactory, db: Session) -> Org:
    return signed_up(browser, db, "owner@acme.test", "Acme")


def waste(db: Session, org: Org, *, now: datetime | None = None) -> Decimal:
    db.expire_all()
    return queries.breakdown(db, org.org_id, now=now or utcnow()).total.waste


def rules(db: Session, org_id: uuid.UUID) -> list[IgnoreRule]:
    db.expire_all()
    return list(db.scalars(select(IgnoreRule).where(IgnoreRule.org_id == org_id)))


def held(db: Session, finding: Finding) -> uuid.UUID | None:
    db.expire_all()
    return db.scalar(select(Finding.ignore_rule_id).where(Finding.id == finding.id))


def stored_ignored(db: Session, cluster: Cluster) -> Decimal:
    """The ignored cost the cluster's current roll-up row holds."""
    db.expire_all()
    value = db.scalar(
        select(WasteCurrent.ignored_cost).where(
            WasteCurrent.cluster_id == cluster.id, WasteCurrent.dimension == "total"
        )
    )
    return Decimal(value or 0)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


TOTAL = Decimal("375")  # every finding above


# --- a finding, from its form --------------------------------------------------------------------


def test_ignore_one_finding_moves_the_totals_at_once(acme: Org, db: Session) -> None:
    assert waste(db, acme) == TOTAL
    pvc = acme.findings["pvc"]
    response = acme.client.submit(
        "/ignores",
        {
            "finding_id": str(pvc.id),
            "match": "finding",
            "reason": "Kept for the audit",
            "expiry": "7",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/findings/{pvc.id}"
    assert waste(db, acme) == TOTAL - 80
    assert stored_ignored(db, acme.cluster) == Decimal("80"), "roll-ups refreshed in the request"

    (rule,) = rules(db, acme.org_id)
    assert held(db, pvc) == rule.id
    assert rule.scope == "finding"
    assert rule.created_by_email == "owner@acme.test"
    assert rule.expires_at is not None
    assert timedelta(days=6, hours=23) < rule.expires_at - utcnow() <= timedelta(days=7)

    page = acme.client.get("/ignores")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Ignored 1 finding ($80.00/month left the totals)." in text, "the toast"
    assert "finding PersistentVolumeClaim shop/data-0 in prod-eu" in text
    assert "Kept for the audit" in text
    assert "owner@acme.test" in text
    assert "expires in 7 days" in text
    row = page.text[page.text.index(f'id="rule-{rule.id}"') :]
    row = row[: row.index("</tr>")]
    assert ">1<" in row
    assert "$80.00" in row
    assert f'href="/findings/{pvc.id}"' in row
    assert f'action="/ignores/{rule.id}/delete"' in row
    again = acme.client.get(f"/ignores?finding={pvc.id}").text
    assert "This finding is already ignored by" in again
    assert f'href="/ignores#rule-{rule.id}"' in again
    fresh = acme.client.get(f"/ignores?finding={acme.findings['cart'].id}").text
    assert "already ignored" not in fresh


def test_all_names_like_this_from_a_finding(acme: Org, db: Session) -> None:
    b1 = acme.findings["b1"]
    page = acme.client.get(f"/ignores?finding={b1.id}")
    assert page.status_code == 200
    assert 'value="backup-*"' in page.text, "the pattern is prefilled from the name"
    assert 'name="finding_id"' in page.text
    response = acme.client.submit(
        "/ignores",
        {
            "finding_id": str(b1.id),
            "match": "pattern",
            "name_pattern": "backup-?",
            "reason": "Nightly backups",
            "next": "/clusters",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/clusters"
    (rule,) = rules(db, acme.org_id)
    assert (rule.scope, rule.namespace, rule.kind, rule.cluster_id) == (
        "name_pattern",
        "data",
        "ConfigMap",
        acme.cluster.id,
    )
    # "?" is one character: backup-22, backupx and the Secret backup-9 are not covered.
    assert held(db, b1) == rule.id
    for key in ("b22", "bx", "bs"):
        assert held(db, acme.findings[key]) is None, key
    assert waste(db, acme) == TOTAL - 1
    text = text_of(acme.client.get("/ignores").text)
    assert "names matching backup-? in namespace data (ConfigMap), in prod-eu" in text
    assert "Ignored 1 finding ($1.00/month left the totals)." in text
    assert "never expires" in text


def test_like_wildcards_in_a_pattern_are_refused_and_never_over_match(
    acme: Org, db: Session
) -> None:
    for pattern in ("backup-%", "backup_1", "backup\\1"):
        response = acme.client.submit(
            "/ignores", {"namespace": "data", "name_pattern": pattern, "reason": "x"}
        )
        assert response.status_code == 422, pattern
        assert "lower-case letters, digits" in response.text
    assert rules(db, acme.org_id) == []
    # A literal "." matches only a dot, "-" only a dash.
    run = add_run(db, acme.cluster)
    dotted = add_finding(db, run, kind="ConfigMap", namespace="data", name="v1.2", cost="0")
    lookalike = add_finding(db, run, kind="ConfigMap", namespace="data", name="v1x2", cost="0")
    db.commit()
    ok = acme.client.submit(
        "/ignores", {"namespace": "data", "name_pattern": "v1.2", "reason": "pinned"}
    )
    assert ok.status_code == 303
    assert held(db, dotted) is not None
    assert held(db, lookalike) is None


# --- the rules page form -------------------------------------------------------------------------


def test_kind_in_a_namespace_in_every_cluster(acme: Org, db: Session) -> None:
    response = acme.client.submit(
        "/ignores",
        {"cluster_id": "", "namespace": "legacy", "kind": "secret", "reason": "Old tokens"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/ignores"
    (rule,) = rules(db, acme.org_id)
    assert (rule.scope, rule.kind, rule.cluster_id) == ("kind", "Secret", None)
    for key in ("s1", "s2", "s3"):
        assert held(db, acme.findings[key]) == rule.id
    assert held(db, acme.findings["bs"]) is None, "another namespace"
    assert waste(db, acme) == TOTAL - 16 - 32 - 128
    assert stored_ignored(db, acme.other_cluster) == Decimal("128")
    text = text_of(acme.client.get("/ignores").text)
    assert "every Secret in namespace legacy, in every cluster" in text
    assert "Ignored 3 findings ($176.00/month left the totals)." in text


def test_pattern_among_cluster_scoped_objects_of_one_cluster(acme: Org, db: Session) -> None:
    response = acme.client.submit(
        "/ignores",
        {
            "cluster_id": str(acme.cluster.id),
            "cluster_scoped": "on",
            "namespace": "ignored-when-cluster-scoped",
            "name_pattern": "pv-old-*",
            "reason": "Retained volumes",
            "expiry": "date",
            "expires_on": (utcnow() + timedelta(days=40)).date().isoformat(),
        },
    )
    assert response.status_code == 303
    (rule,) = rules(db, acme.org_id)
    assert rule.namespace is None
    assert rule.expires_at is not None
    assert rule.expires_at.time() == datetime.min.time()
    assert held(db, acme.findings["pv"]) == rule.id
    assert waste(db, acme) == TOTAL - 64
    text = text_of(acme.client.get("/ignores").text)
    assert "names matching pv-old-* among cluster-scoped objects, in prod-eu" in text
    assert "expires in 40 days" in text or "expires in 39 days" in text


def test_a_rule_that_holds_nothing_new_says_so(acme: Org, db: Session) -> None:
    data = {"namespace": "legacy", "kind": "Secret", "reason": "Old tokens"}
    assert acme.client.submit("/ignores", data).status_code == 303
    again = acme.client.submit("/ignores", {**data, "name_pattern": "token-*"})
    assert again.status_code == 303
    assert "It holds no finding yet" in acme.client.get("/ignores").text
    assert len(rules(db, acme.org_id)) == 2


# --- validation ----------------------------------------------------------------------------------

DATED = {"namespace": "data", "kind": "Secret", "reason": "x", "expiry": "date"}
INVALID = [
    ({"namespace": "data", "kind": "ConfigMap", "reason": "  "}, "Say why this is ignored"),
    ({"kind": "ConfigMap", "reason": "x"}, "Give the namespace, or choose cluster-scoped"),
    ({"namespace": "Data_Team", "kind": "ConfigMap", "reason": "x"}, "is not a namespace name"),
    ({"namespace": "data", "kind": "Gizmo", "reason": "x"}, "no kind called"),
    ({"namespace": "data", "reason": "x"}, "Choose a kind, or give a name pattern"),
    ({"namespace": "data", "name_pattern": "**", "reason": "x"}, "whole namespace"),
    (
        {"namespace": "data", "kind": "Secret", "reason": "x", "expiry": "date"},
        "Give the date the rule expires on",
    ),
    (
        {**DATED, "expires_on": "31/12"},
        "is not a date like",
    ),
    (
        {**DATED, "expires_on": "2020-01-01"},
        "The expiry is in the past",
    ),
    ({"namespace": "data", "kind": "Secret", "reason": "x", "expiry": "365"}, "Choose when"),
    ({"namespace": "data", "kind": "Secret", "reason": "y" * 1001}, "The reason is too long"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "message"), INVALID)
def test_a_form_that_cannot_be_saved_comes_back_with_why(
    acme: Org, db: Session, data: dict[str, str], message: str
) -> None:
    page = acme.client.submit("/ignores", data)
    assert page.status_code == 422
    assert message in text_of(page.text)
    assert 'role="alert"' in page.text
    assert "<html" in page.text
    if data.get("namespace"):
        assert f'value="{data["namespace"]}"' in page.text, "what was typed is kept"
    assert rules(db, acme.org_id) == []
    assert waste(db, acme) == TOTAL

    fragment = acme.client.submit("/ignores", data, htmx=True)
    assert fragment.status_code == 422
    assert "<html" not in fragment.text
    assert fragment.text.strip().startswith('<section class="card ignore-form-card" id="new-rule"')
    assert message in text_of(fragment.text)


def test_the_finding_form_comes_back_where_it_was(acme: Org, db: Session) -> None:
    cart = acme.findings["cart"]
    data = {
        "finding_id": str(cart.id),
        "match": "pattern",
        "name_pattern": "Cart*",
        "reason": "why",
    }
    fragment = acme.client.submit("/ignores", data, htmx=True)
    assert fragment.status_code == 422
    assert fragment.text.strip().startswith(
        '<section class="card ignore-finding" id="ignore-finding"'
    )
    assert "lower-case letters" in fragment.text
    assert 'value="Cart*"' in fragment.text
    assert (
        'id="fi-match-pattern" type="radio" name="match" value="pattern" checked' in fragment.text
    )

    page = acme.client.submit("/ignores", {**data, "reason": "", "name_pattern": "cart-*"})
    assert page.status_code == 422
    assert "<html" in page.text
    assert "Say why this is ignored" in page.text
    assert 'value="cart-*"' in page.text
    assert f'name="finding_id" value="{cart.id}"' in page.text
    assert rules(db, acme.org_id) == []


def test_next_must_stay_on_the_site(acme: Org) -> None:
    data = {"finding_id": str(acme.findings["cart"].id), "reason": "kept"}
    response = acme.client.submit("/ignores", {**data, "next": "//evil.test/x"})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    htmx = acme.client.submit(
        "/ignores", {"namespace": "shop", "kind": "Deployment", "reason": "k"}, htmx=True
    )
    assert htmx.status_code == 204
    assert htmx.headers["HX-Redirect"] == "/ignores"


# --- expiry --------------------------------------------------------------------------------------


def _expire(db: Session, rule_id: uuid.UUID, when: datetime) -> None:
    """Move a rule's expiry (and its findings' copy) to ``when``, as time passing would."""
    db.execute(update(IgnoreRule).where(IgnoreRule.id == rule_id).values(expires_at=when))
    db.execute(update(Finding).where(Finding.ignore_rule_id == rule_id).values(ignored_until=when))
    db.commit()


def test_an_expired_rule_stops_applying_at_once_and_the_task_tidies(
    app: FastAPI, acme: Org, db: Session
) -> None:
    data = {"namespace": "legacy", "kind": "Secret", "reason": "Old tokens", "expiry": "30"}
    assert acme.client.submit("/ignores", data).status_code == 303
    (rule,) = rules(db, acme.org_id)
    assert waste(db, acme) == TOTAL - 176

    _expire(db, rule.id, utcnow() - timedelta(hours=1))
    assert waste(db, acme) == TOTAL, "the figures count the findings again without any task"
    assert held(db, acme.findings["s1"]) == rule.id, "not tidied yet"
    assert stored_ignored(db, acme.cluster) == Decimal("48"), "roll-up not refreshed yet"
    page = acme.client.get("/ignores").text
    expired = page[page.index("Expired rules") :]
    assert "every Secret in namespace legacy" in text_of(expired)
    assert "no longer applying" in expired
    assert "No rule applies now" in page

    counts = expire_ignore_rules(app.state.sessionmaker)
    assert counts == {"organisations": 1, "clusters": 2}
    assert held(db, acme.findings["s1"]) is None
    assert stored_ignored(db, acme.cluster) == Decimal(0)
    assert stored_ignored(db, acme.other_cluster) == Decimal(0)
    assert waste(db, acme) == TOTAL
    assert rules(db, acme.org_id), "an expired rule stays listed until deleted"
    assert expire_ignore_rules(app.state.sessionmaker) == {"organisations": 0, "clusters": 0}


def test_a_second_rule_takes_over_when_the_first_expires(
    app: FastAPI, acme: Org, db: Session
) -> None:
    first = {"namespace": "data", "kind": "ConfigMap", "reason": "configs", "expiry": "7"}
    second = {"namespace": "data", "name_pattern": "backup-*", "reason": "backups"}
    assert acme.client.submit("/ignores", first).status_code == 303
    assert acme.client.submit("/ignores", second).status_code == 303
    by_reason = {r.reason: r for r in rules(db, acme.org_id)}
    assert held(db, acme.findings["b1"]) == by_reason["configs"].id
    assert held(db, acme.findings["bs"]) == by_reason["backups"].id

    _expire(db, by_reason["configs"].id, utcnow() - timedelta(minutes=1))
    # Until the tidy-up the first rule's findings simply count again; then the second holds
    # those it matches.
    assert waste(db, acme) == TOTAL - 8
    expire_ignore_rules(app.state.sessionmaker)
    for key in ("b1", "b22"):
        assert held(db, acme.findings[key]) == by_reason["backups"].id, key
    assert held(db, acme.findings["bx"]) is None
    assert waste(db, acme) == TOTAL - 1 - 2 - 8
    assert stored_ignored(db, acme.cluster) == Decimal("11")


def test_expiry_in_words() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert expiry_text(None, now) == "never expires"
    assert expiry_text(now + timedelta(days=3, seconds=-5), now) == "expires in 3 days"
    assert expiry_text(now + timedelta(days=1), now) == "expires in 1 day"
    assert expiry_text(now + timedelta(hours=5), now) == "expires in 5 hours"
    assert expiry_text(now + timedelta(seconds=20), now) == "expires in 1 minute"
    assert expiry_text(now - timedelta(days=2), now) == "expired on 29 Nov 2026"
    assert expiry_text(now, now) == "expired on 1 Dec 2026"


# --- deleting ------------------------------------------------------------------------------------


def test_delete_restores_and_hands_over_to_another_rule(acme: Org, db: Session) -> None:
    first = {"namespace": "data", "kind": "ConfigMap", "reason": "configs"}
    second = {"namespace": "data", "name_pattern": "backup-*", "reason": "backups"}
    assert acme.client.submit("/ignores", first).status_code == 303
    assert acme.client.submit("/ignores", second).status_code == 303
    by_reason = {r.reason: r for r in rules(db, acme.org_id)}
    assert waste(db, acme) == TOTAL - 7 - 8

    response = acme.client.submit(f"/ignores/{by_reason['configs'].id}/delete")
    assert response.status_code == 303
    assert response.headers["location"] == "/ignores"
    assert held(db, acme.findings["b1"]) == by_reason["backups"].id
    assert held(db, acme.findings["bx"]) is None
    assert waste(db, acme) == TOTAL - 1 - 2 - 8
    assert stored_ignored(db, acme.cluster) == Decimal("11")
    text = text_of(acme.client.get("/ignores").text)
    assert "1 finding no longer ignored ($4.00/month back in the totals)" in text

    htmx = acme.client.submit(f"/ignores/{by_reason['backups'].id}/delete", htmx=True)
    assert htmx.status_code == 204
    assert htmx.headers["HX-Redirect"] == "/ignores"
    assert rules(db, acme.org_id) == []
    assert waste(db, acme) == TOTAL
    assert stored_ignored(db, acme.cluster) == Decimal(0)
    assert "3 findings no longer ignored ($11.00/month" in text_of(acme.client.get("/ignores").text)


# --- roles and tenants ---------------------------------------------------------------------------


def test_viewer_reads_rules_but_cannot_add_or_delete(
    app: FastAPI, acme: Org, db: Session, browser: BrowserFactory
) -> None:
    data = {"namespace": "legacy", "kind": "Secret", "reason": "Old tokens"}
    assert acme.client.submit("/ignores", data).status_code == 303
    (rule,) = rules(db, acme.org_id)
    add_member(app, acme.org_id, "viewer@acme.test", "viewer")
    viewer = browser()
    viewer.sign_in("viewer@acme.test")
    switch = viewer.submit("/orgs/switch", {"org_id": str(acme.org_id)})
    assert switch.status_code == 303

    page = viewer.get("/ignores")
    assert page.status_code == 200
    assert "every Secret in namespace legacy" in text_of(page.text)
    assert 'action="/ignores"' not in page.text
    assert "/delete" not in page.text
    assert "needs the member role or higher; your role in Acme is viewer" in page.text
    cart = acme.findings["cart"]
    form = viewer.get(f"/ignores?finding={cart.id}").text
    assert 'name="finding_id"' not in form
    assert "Ignoring findings needs the member role or higher" in form

    refused = viewer.submit("/ignores", {"finding_id": str(cart.id), "reason": "mine"})
    assert refused.status_code == 403
    assert viewer.submit(f"/ignores/{rule.id}/delete").status_code == 403
    assert len(rules(db, acme.org_id)) == 1
    assert held(db, cart) is None


def test_another_organisations_rows_cannot_be_targeted(
    acme: Org, db: Session, browser: BrowserFactory
) -> None:
    globex = signed_up(browser, db, "owner@globex.test", "Globex")
    theirs = {"namespace": "legacy", "kind": "Secret", "reason": "Globex keeps these"}
    assert globex.client.submit("/ignores", theirs).status_code == 303
    (their_rule,) = rules(db, globex.org_id)
    their_finding = globex.findings["pvc"]

    assert acme.client.get(f"/ignores?finding={their_finding.id}").status_code == 404
    assert acme.client.get("/ignores?finding=not-a-uuid").status_code == 404
    attempts = [
        {"finding_id": str(their_finding.id), "reason": "steal"},
        {"cluster_id": str(globex.cluster.id), "namespace": "shop", "kind": "Secret",
         "reason": "x"},
        {"cluster_id": "not-a-uuid", "namespace": "shop", "kind": "Secret", "reason": "x"},
    ]  # fmt: skip
    for data in attempts:
        assert acme.client.submit("/ignores", data).status_code == 404, data
    assert acme.client.submit(f"/ignores/{their_rule.id}/delete").status_code == 404
    assert acme.client.submit("/ignores/not-a-uuid/delete").status_code == 404
    assert rules(db, acme.org_id) == []
    assert [r.id for r in rules(db, globex.org_id)] == [their_rule.id]
    assert held(db, their_finding) is None
    listed = acme.client.get("/ignores").text
    assert "Globex keeps these" not in listed
    # A rule for every cluster covers only its own organisation's findings.
    mine = {"namespace": "legacy", "kind": "Secret", "reason": "Acme keeps these"}
    assert acme.client.submit("/ignores", mine).status_code == 303
    (acme_rule,) = rules(db, acme.org_id)
    assert held(db, acme.findings["s1"]) == acme_rule.id
    assert held(db, globex.findings["s1"]) == their_rule.id
    count = db.scalar(select(func.count()).where(Finding.ignore_rule_id == acme_rule.id))
    assert count == 3


def test_forms_need_the_csrf_token(acme: Org, db: Session) -> None:
    data = {"finding_id": str(acme.findings["cart"].id), "reason": "x", "csrf_token": "forged"}
    assert acme.client.post("/ignores", data=data).status_code == 403
    assert rules(db, acme.org_id) == []
