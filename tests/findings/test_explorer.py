"""The findings explorer: every filter and their combinations, sorting, keyset pages and their
edges, facet counts (exact, from the roll-ups, and "too many to count"), the HTMX fragment
against the full page, shareable URLs, ignored findings (with an expired rule counting again),
bad input turned into notices, viewers, and tenants kept apart.

Rows are arranged with tests.factories; everything is read through real requests."""

from __future__ import annotations

import html as htmllib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert, update
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from app.clouds.models import Cluster
from app.db import utcnow
from app.findings import counts, filters
from app.findings.filters import ClusterInfo, Filters
from app.findings.ignores import IgnoreScope, NewRule, create_rule
from app.history.rollups import refresh_clusters
from app.scans.models import Finding
from app.scans.service import finding_identity
from tests.conftest import Browser, BrowserFactory
from tests.factories import (
    add_account,
    add_cluster,
    add_finding,
    add_run,
    org_id_of,
    refresh,
    set_role,
)

RESULTS = {"HX-Request": "true", "HX-Target": "findings-results"}
_LINK = re.compile(r'<a class="finding-link" href="/findings/([0-9a-f-]{36})">([^<]*)<span')
FACET_LINK = (
    r'<a href="([^"]+)"{attrs}>\s*<span class="facet-mark" aria-hidden="true">{mark}</span>'
    r'\s*<span class="facet-label">{label}</span>'
)
_FACET_ITEM = re.compile(
    r'<span class="facet-label">(.*?)</span>\s*(?:<span class="facet-count">([\d,]+)</span>)?',
    re.S,
)


# --- reading pages --------------------------------------------------------------------------


def names(page: str) -> list[str]:
    """The findings' names in table order."""
    return [htmllib.unescape(m.group(2)) for m in _LINK.finditer(page)]


def ids(page: str) -> list[str]:
    return [m.group(1) for m in _LINK.finditer(page)]


def facet(page: str, name: str) -> dict[str, int | None]:
    """{label: count} of one facet (count None when the facet shows no counts)."""
    match = re.search(rf'aria-labelledby="facet-{name}">(.*?)</section>', page, re.S)
    assert match, f"no {name} facet"
    return {
        htmllib.unescape(label): int(n.replace(",", "")) if n else None
        for label, n in _FACET_ITEM.findall(match.group(1))
    }


def link(page: str, rel: str) -> str | None:
    match = re.search(rf'<a href="([^"]+)" rel="{rel}">', page)
    return htmllib.unescape(match.group(1)) if match else None


def total(page: str) -> str:
    match = re.search(r'<p class="findings-total" id="findings-total">(.*?)</p>', page, re.S)
    assert match, page
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def notices(page: str) -> list[str]:
    return [
        htmllib.unescape(m)
        for m in re.findall(r'<span class="visually-hidden">Warning: </span>(.*?)</p>', page)
    ]


# --- arranging --------------------------------------------------------------------------------


@dataclass
class World:
    client: Browser
    org_id: uuid.UUID
    shop: Cluster
    data: Cluster
    old: Cluster
    f: dict[str, Finding]


def ago(days: int) -> datetime:
    return utcnow() - timedelta(days=days)


def make_world(browser: BrowserFactory, db: Session, email: str, org: str) -> World:
    """Two active clusters (AWS and GCP) and a gone one, with findings of every sort."""
    client = browser()
    client.sign_up(email, org=org)
    org_id = org_id_of(db, email)
    aws = add_account(db, org_id, "prod", provider="aws")
    gcp = add_account(db, org_id, "data", provider="gcp")
    shop = add_cluster(db, aws, "shop-prod")
    data = add_cluster(db, gcp, "data-prod", region="europe-west4")
    old = add_cluster(db, aws, "old-staging", gone=True)
    r_shop, r_data, r_old = add_run(db, shop), add_run(db, data), add_run(db, old)
    spec: list[tuple[Any, dict[str, Any]]] = [
        (r_shop, dict(kind="PersistentVolumeClaim", name="pvc-data", cost="80", rule="pvc-unused",
                      age_days=120, first_seen=ago(40), basis="100 GiB gp3", owner="helm:shop")),
        (r_shop, dict(kind="ConfigMap", name="cm-flags", cost="0", rule="configmap-unused",
                      confidence="medium", age_days=10, first_seen=ago(2))),
        (r_shop, dict(kind="Secret", name="secret-maybe", cost="0", rule="secret-unused",
                      confidence="low", namespace="web", age_days=5, first_seen=ago(1))),
        (r_shop, dict(kind="PersistentVolume", name="pv-orphan", cost="25", rule="pv-unbound",
                      namespace=None, age_days=400, first_seen=ago(100))),
        (r_shop, dict(kind="Namespace", name="legacy", cost="0", rule="namespace-abandoned",
                      namespace=None, age_days=300, first_seen=ago(60), counts_in_total=False)),
        (r_shop, dict(kind="Service", name="svc-lb", cost="16.43", rule="service-no-endpoints",
                      confidence="medium", namespace="web", age_days=60, first_seen=ago(10))),
        (r_data, dict(kind="PersistentVolumeClaim", name="pvc-scratch", cost="17",
                      rule="pvc-unused", namespace="etl", age_days=30, first_seen=ago(5))),
        (r_data, dict(kind="Job", name="job-done", cost="0", rule="job-finished",
                      namespace="etl", age_days=200, first_seen=ago(20))),
        (r_old, dict(kind="PersistentVolumeClaim", name="pvc-gone", cost="100",
                     rule="pvc-unused", age_days=90, first_seen=ago(90))),
    ]  # fmt: skip
    made = {kw["name"]: add_finding(db, run, **kw) for run, kw in spec}
    refresh(db, org_id, shop, data, old)
    db.commit()
    return World(client, org_id, shop, data, old, made)


@pytest.fixture
def world(browser: BrowserFactory, db: Session) -> World:
    return make_world(browser, db, "owner@acme.test", "Acme")


ACTIVE = {"pvc-data", "cm-flags", "secret-maybe", "pv-orphan", "legacy", "svc-lb",
          "pvc-scratch", "job-done"}  # fmt: skip


# --- the page and its fragment ----------------------------------------------------------------


def test_full_page_lists_every_current_finding_costliest_first(world: World) -> None:
    page = world.client.get("/findings")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Findings</h1>" in html
    assert '<form id="findings-filters"' in html
    assert 'hx-get="/findings" hx-target="#findings-results" hx-push-url="true"' in html
    expected = sorted(
        (world.f[n] for n in ACTIVE), key=lambda f: (f.monthly_cost_usd, str(f.id)), reverse=True
    )
    assert names(html) == [f.name for f in expected], "the gone cluster's finding is left out"
    assert names(html)[:4] == ["pvc-data", "pv-orphan", "pvc-scratch", "svc-lb"]
    assert "estimated, list price" in html
    assert 'title="Estimated, list price: 100 GiB gp3"' in html
    assert "needs review" in html
    assert "not in totals" in html
    assert 'href="/findings.csv"' in html
    assert 'href="/findings.json"' in html


def test_results_fragment_for_the_form_and_section_for_other_htmx(world: World) -> None:
    fragment = world.client.get("/findings?kind=Secret&namespace=", headers=RESULTS)
    assert fragment.status_code == 200
    text = fragment.text
    assert "<html" not in text
    assert "<h1>" not in text
    assert '<form id="findings-filters"' not in text
    assert 'class="findings-total"' in text
    assert 'class="facets"' in text
    assert names(text) == ["secret-maybe"]
    assert fragment.headers["HX-Push-Url"] == "/findings?kind=Secret", "tidy address"

    section = world.client.get("/findings", headers={"HX-Request": "true"})
    assert "<html" not in section.text
    assert "<h1>Findings</h1>" in section.text
    assert '<form id="findings-filters"' in section.text
    assert "HX-Push-Url" not in section.headers


# --- filters ------------------------------------------------------------------------------------


def _query(world: World, query: str) -> str:
    return (
        query.replace("SHOP", str(world.shop.id))
        .replace("DATA", str(world.data.id))
        .replace("OLD", str(world.old.id))
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("cluster=DATA", {"pvc-scratch", "job-done"}),
        ("cluster=DATA&cluster=SHOP", ACTIVE),
        ("cluster=OLD", {"pvc-gone"}),
        ("namespace=web", {"secret-maybe", "svc-lb"}),
        ("namespace=-", {"pv-orphan", "legacy"}),
        ("kind=PersistentVolumeClaim", {"pvc-data", "pvc-scratch"}),
        ("kind=Secret&kind=Job", {"secret-maybe", "job-done"}),
        ("kind=Secret,Job", {"secret-maybe", "job-done"}),
        ("rule=pvc-unused&rule=pv-unbound", {"pvc-data", "pvc-scratch", "pv-orphan"}),
        ("confidence=low", {"secret-maybe"}),
        ("confidence=medium&confidence=low", {"cm-flags", "secret-maybe", "svc-lb"}),
        ("min_cost=0", ACTIVE),
        ("min_cost=17", {"pvc-data", "pv-orphan", "pvc-scratch"}),
        ("min_cost=16.43", {"pvc-data", "pv-orphan", "pvc-scratch", "svc-lb"}),
        ("age=200", {"pv-orphan", "legacy", "job-done"}),
        ("new_since=7d", {"cm-flags", "secret-maybe", "pvc-scratch"}),
        ("q=PVC", {"pvc-data", "pvc-scratch"}),
        ("q=_", set()),
        ("cluster=SHOP&namespace=shop&min_cost=1", {"pvc-data"}),
        ("kind=PersistentVolumeClaim&new_since=30d", {"pvc-scratch"}),
        ("cluster=OLD&cluster=DATA&kind=PersistentVolumeClaim", {"pvc-gone", "pvc-scratch"}),
    ],
)
def test_each_filter_and_combinations(world: World, query: str, expected: set[str]) -> None:
    page = world.client.get("/findings?" + _query(world, query))
    assert page.status_code == 200
    assert set(names(page.text)) == expected
    assert notices(page.text) == []


def test_new_since_takes_a_date(world: World) -> None:
    day = (utcnow() - timedelta(days=6)).date().isoformat()
    page = world.client.get(f"/findings?new_since={day}")
    assert set(names(page.text)) == {"cm-flags", "secret-maybe", "pvc-scratch"}
    assert f'value="{day}"' in page.text, "the form shows the filter as given"


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("min_cost=abc", "minimum cost"),
        ("min_cost=-5", "minimum cost"),
        ("min_cost=NaN", "minimum cost"),
        ("age=-1", "minimum age"),
        ("age=ten", "minimum age"),
        ("new_since=yesterday", "new since"),
        ("new_since=2026-02-30", "new since"),
        ("confidence=sure", "confidence"),
        ("cluster=not-a-uuid", "cluster"),
        (f"cluster={uuid.uuid4()}", "cluster"),
        ("namespace=Bad_NS", "namespace"),
        ("kind=<script>", "kind"),
        ("rule=DROP%20TABLE", "rule"),
        ("ignored=maybe", "ignored"),
        ("sort=price", "sort"),
        ("dir=sideways", "direction"),
        ("limit=5000", "page size"),
        ("limit=3", "page size"),
    ],
)
def test_bad_values_are_dropped_with_a_notice(world: World, query: str, said: str) -> None:
    page = world.client.get("/findings?" + query)
    assert page.status_code == 200
    said_notices = notices(page.text)
    assert len(said_notices) == 1, said_notices
    assert said in said_notices[0].lower()
    assert set(names(page.text)) == ACTIVE, "the bad filter is ignored, the rest shown"
    fragment = world.client.get("/findings?" + query, headers=RESULTS)
    assert fragment.status_code == 200
    assert len(notices(fragment.text)) == 1


def test_another_organisations_cluster_is_unknown(
    world: World, browser: BrowserFactory, db: Session
) -> None:
    other = make_world(browser, db, "owner@globex.test", "Globex")
    page = world.client.get(f"/findings?cluster={other.shop.id}")
    assert "no cluster of this organisation" in " ".join(notices(page.text))
    assert set(names(page.text)) == ACTIVE
    assert str(other.shop.id) not in page.text


# --- sorting ------------------------------------------------------------------------------------


def _order(world: World, names_: list[str], key: Any) -> list[str]:
    return sorted(names_, key=lambda n: (key(world.f[n]), str(world.f[n].id)))


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("cost", lambda f: f.monthly_cost_usd),
        ("age", lambda f: f.age_days),
        ("first_seen", lambda f: f.first_seen_at),
        ("name", lambda f: f.name),
        ("kind", lambda f: (f.kind, f.monthly_cost_usd)),
    ],
)
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_every_sort_both_ways(world: World, sort: str, key: Any, direction: str) -> None:
    page = world.client.get(f"/findings?sort={sort}&dir={direction}")
    expected = _order(world, list(ACTIVE), key)
    if direction == "desc":
        expected.reverse()
    assert names(page.text) == expected


def test_default_directions_and_header_links(world: World) -> None:
    assert names(world.client.get("/findings?sort=name").text)[0] == "cm-flags"
    assert names(world.client.get("/findings?sort=age").text)[0] == "pv-orphan", "oldest first"
    html = world.client.get("/findings?sort=name").text
    assert 'aria-sort="ascending"' in html
    assert 'href="/findings?sort=name&amp;dir=desc"' in html, "the current column flips"
    assert 'href="/findings?sort=age"' in html


def test_unknown_age_sorts_as_youngest(world: World, db: Session) -> None:
    db.execute(update(Finding).where(Finding.id == world.f["job-done"].id).values(age_days=None))
    db.commit()
    assert names(world.client.get("/findings?sort=age&dir=asc").text)[0] == "job-done"


# --- keyset pages -------------------------------------------------------------------------------


@pytest.fixture
def many(browser: BrowserFactory, db: Session) -> World:
    """25 findings that cost the same (ties broken by id) and 5 dearer ones."""
    client = browser()
    client.sign_up("owner@many.test", org="Many")
    org_id = org_id_of(db, "owner@many.test")
    cluster = add_cluster(db, add_account(db, org_id, "prod"), "big")
    run = add_run(db, cluster)
    made: dict[str, Finding] = {}
    for i in range(30):
        cost = "5" if i < 25 else str(10 + i)
        made[f"cm-{i:02d}"] = add_finding(db, run, kind="ConfigMap", name=f"cm-{i:02d}", cost=cost)
    refresh(db, org_id, cluster)
    db.commit()
    return World(client, org_id, cluster, cluster, cluster, made)


def _walk(client: Browser, url: str) -> tuple[list[str], list[str]]:
    """Follow "next" links from ``url``; (ids in order, page URLs)."""
    seen: list[str] = []
    pages = [url]
    while True:
        html = client.get(pages[-1]).text
        seen += ids(html)
        after = link(html, "next")
        if after is None:
            return seen, pages
        pages.append(after)


def test_pages_walk_every_finding_once_with_ties_broken_by_id(many: World) -> None:
    seen, pages = _walk(many.client, "/findings?limit=10")
    expected = sorted(many.f.values(), key=lambda f: (f.monthly_cost_usd, str(f.id)), reverse=True)
    assert seen == [str(f.id) for f in expected]
    assert len(pages) == 3
    assert "cursor=" in pages[1]
    assert "limit=10" in pages[1]
    last = many.client.get(pages[-1]).text
    assert len(ids(last)) == 10
    assert link(last, "next") is None, "exactly a page: no next"
    assert link(last, "prev") is not None
    assert 'href="/findings?limit=10">First page</a>' in last


def test_previous_returns_the_same_page(many: World) -> None:
    first = many.client.get("/findings?limit=10").text
    assert link(first, "prev") is None, "the first page has no previous"
    second = many.client.get(link(first, "next") or "").text
    back = many.client.get(link(second, "prev") or "").text
    assert ids(back) == ids(first)
    assert link(back, "prev") is None, "back at the start"
    assert link(back, "next") is not None
    third = many.client.get(link(second, "next") or "").text
    assert ids(many.client.get(link(third, "prev") or "").text) == ids(second)


def test_page_size_bounds_and_the_last_partial_page(many: World) -> None:
    html = many.client.get("/findings?limit=200").text
    assert len(ids(html)) == 30
    assert link(html, "next") is None
    seen, pages = _walk(many.client, "/findings?limit=25")
    assert len(pages) == 2
    assert len(seen) == 30
    assert len(ids(many.client.get(pages[1]).text)) == 5


def test_pages_keep_filters_and_sort(many: World) -> None:
    seen, pages = _walk(many.client, "/findings?limit=10&sort=name&dir=asc&kind=ConfigMap")
    assert [many.f[n].id for n in sorted(many.f)] == [uuid.UUID(i) for i in seen]
    assert all("sort=name" in p and "kind=ConfigMap" in p for p in pages[1:])


def test_a_cursor_past_the_end_gives_an_empty_page_with_a_way_back(many: World) -> None:
    seen, pages = _walk(many.client, "/findings?limit=10")
    last = min(many.f.values(), key=lambda f: (f.monthly_cost_usd, str(f.id)))
    from app.findings.explore import Cursor

    beyond = Cursor("cost", "desc", (last.monthly_cost_usd,), last.id).encode()
    html = many.client.get(f"/findings?limit=10&cursor={beyond}").text
    assert ids(html) == []
    assert "No more findings" in html
    assert 'href="/findings?limit=10"' in html
    assert len(seen) == 30
    assert len(pages) == 3


@pytest.mark.parametrize(
    "cursor",
    [
        "not-base64-$$$",
        "bm90IGpzb24",  # "not json"
        "WzEsMiwzXQ",  # [1,2,3]
        "eyJzIjoiY29zdCIsImQiOiJkZXNjIiwiayI6WzVdLCJpIjoieCJ9",  # cost key not a string, id "x"
        "eyJzIjoiY29zdCIsImQiOiJkZXNjIiwiayI6WyJhYmMiXSwiaSI6IjEyMzQ1Njc4LTEyMzQtMTIzNC0xMjM0LTEyMzQ1Njc4OTAxMiJ9",
        "x" * 2000,
    ],
)
def test_a_tampered_cursor_gives_the_first_page_and_a_notice(many: World, cursor: str) -> None:
    page = many.client.get(f"/findings?limit=10&cursor={cursor}")
    assert page.status_code == 200
    assert ids(page.text) == ids(many.client.get("/findings?limit=10").text)
    assert any("page link" in n for n in notices(page.text)), notices(page.text)


def test_a_cursor_from_another_sort_starts_again(many: World) -> None:
    by_cost = many.client.get("/findings?limit=10").text
    cursor = (link(by_cost, "next") or "").split("cursor=")[1]
    page = many.client.get(f"/findings?limit=10&sort=name&cursor={cursor}").text
    assert "another sort order" in " ".join(notices(page))
    assert names(page) == sorted(many.f)[:10]


# --- counts -------------------------------------------------------------------------------------


def test_exact_counts_and_facets(world: World) -> None:
    html = world.client.get("/findings").text
    said = total(html)
    assert said.startswith("8 findings · $138.43 a month"), said
    assert "estimated, list price" in said
    assert "2 of them are not added" in said, "low confidence and the abandoned namespace"
    assert facet(html, "cluster") == {"shop-prod": 6, "data-prod": 2}
    assert facet(html, "namespace") == {"shop": 2, "web": 2, "cluster-scoped": 2, "etl": 2}
    assert facet(html, "kind")["PersistentVolumeClaim"] == 2
    assert facet(html, "rule")["pvc-unused"] == 2
    assert facet(html, "confidence") == {"High": 5, "Medium": 2, "Low (needs review)": 1}


def test_facets_count_the_filtered_list_and_link_to_toggle(world: World) -> None:
    html = world.client.get(
        f"/findings?cluster={world.shop.id}&kind=PersistentVolumeClaim&kind=Service"
    ).text
    assert set(names(html)) == {"pvc-data", "svc-lb"}
    assert total(html).startswith("2 findings · $96.43 a month")
    assert facet(html, "cluster") == {"shop-prod": 2}
    assert facet(html, "kind") == {"PersistentVolumeClaim": 1, "Service": 1}
    assert facet(html, "namespace") == {"shop": 1, "web": 1}
    on = re.search(
        FACET_LINK.format(attrs=' aria-current="true" class="facet-on"', mark="✓", label="Service"),
        html,
    )
    assert on, "a selected value is marked with a check, not colour alone"
    assert (
        htmllib.unescape(on.group(1))
        == f"/findings?cluster={world.shop.id}&kind=PersistentVolumeClaim"
    )
    add = re.search(FACET_LINK.format(attrs="", mark="", label="web"), html)
    assert add
    assert "namespace=web" in htmllib.unescape(add.group(1))


def _bulk(
    db: Session, cluster: Cluster, n: int, *, kind: str = "ConfigMap", cost: str = "1"
) -> None:
    run = add_run(db, cluster)
    now = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "id": uuid.uuid4(), "org_id": cluster.org_id, "cluster_id": cluster.id,
            "scan_run_id": run.id, "identity": finding_identity(kind, "bulk", f"x-{i}", "r"),
            "kind": kind, "api_version": "v1", "namespace": "bulk", "name": f"x-{i:05d}",
            "uid": "", "rule": "configmap-unused", "reason": "unused", "confidence": "medium",
            "cascade_from": [], "evidence": [], "monthly_cost_usd": Decimal(cost),
            "cost_basis": None, "cost_assumed": False, "counts_in_total": True,
            "security_risk": False, "age_days": 3, "owner": None, "first_seen_at": now,
            "last_seen_at": now,
        }
        for i in range(n)
    ]  # fmt: skip
    db.execute(insert(Finding), rows)


def test_large_views_count_from_the_rollups_or_say_they_are_too_many(
    world: World, db: Session
) -> None:
    _bulk(db, world.data, counts.COUNT_LIMIT + 10)
    refresh(db, world.org_id, world.shop, world.data)
    db.commit()
    big = counts.COUNT_LIMIT + 10

    html = world.client.get("/findings").text
    said = total(html)
    # Counted findings only: the low-confidence Secret and the abandoned namespace are left out.
    assert said.startswith(f"{big + 6:,} findings that count in totals · ${big + 138.43:,.2f}")
    assert "need review" in said
    assert facet(html, "cluster") == {"data-prod": big + 2, "shop-prod": 4}
    assert facet(html, "kind")["ConfigMap"] == big + 1
    assert facet(html, "namespace")["bulk"] == big
    assert set(facet(html, "confidence").values()) == {None}, "not split by confidence"
    assert "Not counted by confidence" in html
    assert len(names(html)) == 50

    by_kind = world.client.get("/findings?kind=ConfigMap").text
    assert total(by_kind).startswith(f"{big + 1:,} findings that count in totals")
    assert facet(by_kind, "kind") == {"ConfigMap": big + 1}
    assert facet(by_kind, "cluster") == {"data-prod": big, "shop-prod": 1}
    assert "Not counted by namespace" in by_kind

    over = world.client.get("/findings?kind=ConfigMap&namespace=bulk&min_cost=0.5").text
    assert total(over).startswith(f"More than {counts.COUNT_LIMIT:,} findings match")
    assert len(names(over)) == 50
    assert link(over, "next")

    small = world.client.get("/findings?kind=ConfigMap&namespace=shop").text
    assert total(small).startswith("1 finding · $0.00 a month")


# --- ignored findings ---------------------------------------------------------------------------


def _ignore(
    db: Session, world: World, name: str, *, expires: datetime | None, now: datetime
) -> None:
    f = world.f[name]
    rule = NewRule(
        IgnoreScope.finding, "kept on purpose", cluster_id=f.cluster_id,
        finding_identity=f.identity, expires_at=expires,
    )  # fmt: skip
    create_rule(db, world.org_id, rule, user_id=None, user_email="ops@acme.test", now=now)
    refresh_clusters(db, world.org_id, [f.cluster_id], now=utcnow())
    db.commit()


def test_ignored_hidden_by_default_shown_under_the_switch(world: World, db: Session) -> None:
    _ignore(db, world, "pvc-data", expires=None, now=utcnow())
    # A rule that expired yesterday: its finding counts again, by the clock alone.
    _ignore(db, world, "pv-orphan", expires=ago(1), now=ago(3))

    hidden = world.client.get("/findings").text
    assert set(names(hidden)) == ACTIVE - {"pvc-data"}
    assert total(hidden).startswith("7 findings · $58.43 a month")

    only = world.client.get("/findings?ignored=only").text
    assert names(only) == ["pvc-data"]
    assert "Ignored" in only
    assert "1 ignored, which would add $80.00 a month" in total(only)

    both = world.client.get("/findings?ignored=include").text
    assert set(names(both)) == ACTIVE
    said = total(both)
    assert said.startswith("8 findings · $58.43 a month"), "ignored cost left out of the total"
    assert "1 ignored" in said


def test_ignored_in_the_rollup_figures(world: World, db: Session) -> None:
    _bulk(db, world.data, counts.COUNT_LIMIT + 10)
    refresh(db, world.org_id, world.shop, world.data)
    db.commit()
    _ignore(db, world, "pvc-data", expires=None, now=utcnow())
    big = counts.COUNT_LIMIT + 10
    hidden = world.client.get("/findings").text
    assert total(hidden).startswith(
        f"{big + 5:,} findings that count in totals · ${big + 58.43:,.2f}"
    )
    assert facet(hidden, "cluster")["shop-prod"] == 3
    both = world.client.get("/findings?ignored=include").text
    said = total(both)
    assert said.startswith(f"{big + 6:,} findings that count in totals · ${big + 58.43:,.2f}")
    assert "1 ignored finding listed ($80.00 a month, not in the total)" in said


# --- shareable URLs -----------------------------------------------------------------------------


def test_a_view_round_trips_through_its_url() -> None:
    cluster = ClusterInfo(uuid.uuid4(), "shop", "aws", "eu-west-1", gone=False)
    now = datetime(2026, 11, 27, 12, tzinfo=UTC)
    view = Filters(
        clusters=(cluster.id,), namespace="-", kinds=("Secret", "Job"), rules=("pvc-unused",),
        confidences=("low",), min_cost=Decimal("2.5"), min_age=30, new_since="7d",
        since=now - timedelta(days=7), q="a b%", ignored="include", sort="age", direction="asc",
        limit=25,
    )  # fmt: skip
    url = view.url()
    parsed = filters.parse(
        QueryParams(url.split("?", 1)[1]), clusters={cluster.id: cluster}, now=now
    )
    assert parsed.notices == []
    assert parsed.filters == view
    assert filters.parse(QueryParams(""), clusters={}, now=now).filters == Filters()
    assert Filters().url() == "/findings"


def test_a_shared_link_opens_the_same_view(
    world: World, browser: BrowserFactory, db: Session
) -> None:
    first = world.client.get("/findings?kind=PersistentVolumeClaim").text
    shared = next(
        htmllib.unescape(h)
        for h in re.findall(r'<a href="([^"]+)">\s*<span class="facet-mark"', first)
        if "namespace=etl" in htmllib.unescape(h)
    )
    colleague = browser()
    colleague.sign_in("owner@acme.test")
    page = colleague.get(shared).text
    assert names(page) == ["pvc-scratch"]
    assert 'value="etl"' in page, "the form shows the shared filters"
    assert re.search(r'<option value="PersistentVolumeClaim" selected>', page)


# --- who sees what ------------------------------------------------------------------------------


def test_viewers_browse_and_tenants_stay_apart(
    world: World, browser: BrowserFactory, db: Session
) -> None:
    other = make_world(browser, db, "owner@globex.test", "Globex")
    db.execute(
        update(Finding).where(Finding.org_id == other.org_id).values(name=Finding.name + "-globex")
    )
    db.commit()
    set_role(db, world.org_id, "viewer")
    html = world.client.get("/findings").text
    assert set(names(html)) == ACTIVE
    assert "globex" not in html.lower()
    assert facet(html, "cluster") == {"shop-prod": 6, "data-prod": 2}
    assert total(html).startswith("8 findings")
    theirs = other.client.get("/findings").text
    assert {n.removesuffix("-globex") for n in names(theirs)} == ACTIVE
    assert all(n.endswith("-globex") for n in names(theirs))


def test_names_are_escaped(world: World, db: Session) -> None:
    db.execute(update(Finding).where(Finding.id == world.f["cm-flags"].id).values(name="<b>x</b>"))
    db.commit()
    html = world.client.get("/findings?kind=ConfigMap").text
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "<b>x</b>" not in html


def test_empty_states(browser: BrowserFactory, world: World) -> None:
    assert "No findings match" in world.client.get("/findings?q=nothing-like-this").text
    newcomer = browser()
    newcomer.sign_up("new@initech.test", org="Initech")
    html = newcomer.get("/findings").text
    assert "No findings yet" in html
    assert total(html).startswith("0 findings")
