"""Exports of the explorer's view: the CSV byte for byte (header, rows, formula injection
neutralised, the ignored column), the JSON with its filter echo, batches and the row cap,
the file name, viewers, and other organisations' findings never leaking in."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from app.db import session_scope, utcnow
from app.findings import explore, export, filters
from app.findings.view import clusters_of
from app.scans.models import Finding
from tests.conftest import BrowserFactory
from tests.factories import add_finding, add_run, set_role
from tests.findings.test_explorer import ACTIVE, World, _ignore, make_world


@pytest.fixture
def world(browser: BrowserFactory, db: Session) -> World:
    return make_world(browser, db, "owner@acme.test", "Acme Corp.")


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_header_and_rows_exactly(world: World) -> None:
    response = world.client.get(
        f"/findings.csv?cluster={world.shop.id}&kind=PersistentVolumeClaim&kind=Service"
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    today = utcnow().strftime("%Y-%m-%d")
    assert response.headers["content-disposition"] == (
        f'attachment; filename="leftover-findings-acme-corp-{today}.csv"'
    )
    assert response.headers["x-export-truncated"] == "false"
    pvc, svc = world.f["pvc-data"], world.f["svc-lb"]
    expected = (
        "cluster,provider,region,namespace,kind,name,rule,confidence,reason,monthly_cost_usd,"
        "cost_basis,cost_assumed,age_days,owner,first_seen_at,last_seen_at,ignored,"
        "ignore_reason,evidence,cascade_from\r\n"
        "shop-prod,aws,eu-west-1,shop,PersistentVolumeClaim,pvc-data,pvc-unused,high,"
        "Nothing mounts or references it.,80.00,100 GiB gp3,no,120,helm:shop,"
        f"{pvc.first_seen_at.isoformat()},{pvc.last_seen_at.isoformat()},no,,,\r\n"
        "shop-prod,aws,eu-west-1,web,Service,svc-lb,service-no-endpoints,medium,"
        "Nothing mounts or references it.,16.43,,no,60,,"
        f"{svc.first_seen_at.isoformat()},{svc.last_seen_at.isoformat()},no,,,\r\n"
    )
    assert response.text == expected


def test_csv_neutralises_formulas_and_joins_lists(world: World, db: Session) -> None:
    run = add_run(db, world.shop)
    add_finding(
        db,
        run,
        kind="ConfigMap",
        name="=HYPERLINK(evil)",
        cost="0",
        reason="+cmd|' /C calc'!A0",
        owner="@team",
        evidence=["-1+1", "referenced by Pod shop/a, which Failed"],
        cascade_from=[{"kind": "Deployment", "namespace": "shop", "name": "=web"}],
    )
    db.commit()
    rows = _rows(world.client.get("/findings.csv?q=hyperlink").text)
    assert len(rows) == 1
    row = rows[0]
    assert row["name"] == "'=HYPERLINK(evil)"
    assert row["reason"] == "'+cmd|' /C calc'!A0"
    assert row["owner"] == "'@team"
    assert row["evidence"] == "'-1+1 | referenced by Pod shop/a, which Failed"
    assert row["cascade_from"] == "Deployment shop/=web"
    for value in ("=1", "+1", "-1", "@x", "\tx", "\rx"):
        assert export.safe_cell(value) == "'" + value
    assert export.safe_cell("pvc-data") == "pvc-data"
    assert export.safe_cell("") == ""


def test_csv_ignored_column_and_reason(world: World, db: Session) -> None:
    _ignore(db, world, "pvc-data", expires=None, now=utcnow())
    default = _rows(world.client.get("/findings.csv").text)
    assert {r["name"] for r in default} == ACTIVE - {"pvc-data"}
    assert {r["ignored"] for r in default} == {"no"}
    rows = {r["name"]: r for r in _rows(world.client.get("/findings.csv?ignored=include").text)}
    assert set(rows) == ACTIVE
    assert rows["pvc-data"]["ignored"] == "yes"
    assert rows["pvc-data"]["ignore_reason"] == "kept on purpose"
    assert rows["pv-orphan"]["ignore_reason"] == ""
    only = _rows(world.client.get("/findings.csv?ignored=only").text)
    assert [r["name"] for r in only] == ["pvc-data"]


def test_csv_follows_the_views_order_and_the_gone_cluster_filter(world: World) -> None:
    by_name = _rows(world.client.get("/findings.csv?sort=name").text)
    assert [r["name"] for r in by_name] == sorted(ACTIVE)
    gone = _rows(world.client.get(f"/findings.csv?cluster={world.old.id}").text)
    assert [(r["cluster"], r["name"]) for r in gone] == [("old-staging", "pvc-gone")]


def test_json_echoes_filters_and_lists_the_same_fields(world: World) -> None:
    response = world.client.get("/findings.json?kind=PersistentVolumeClaim&min_cost=20&sort=age")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"].endswith('.json"')
    doc = response.json()
    assert doc["organisation"] == "Acme Corp."
    assert doc["filters"] == {
        "cluster": [],
        "namespace": None,
        "kind": ["PersistentVolumeClaim"],
        "rule": [],
        "confidence": [],
        "min_cost": "20",
        "age": None,
        "new_since": None,
        "q": None,
        "ignored": "hide",
        "sort": "age",
        "dir": "desc",
    }
    assert doc["count"] == 1
    assert doc["truncated"] is False
    assert doc["row_limit"] == export.EXPORT_CAP
    assert "estimate" in doc["cost_note"]
    [item] = doc["findings"]
    assert list(item) == list(export.FIELDS)
    assert item["name"] == "pvc-data"
    assert item["monthly_cost_usd"] == "80.00"
    assert item["cost_assumed"] is False
    assert item["ignored"] is False
    assert item["evidence"] == []
    assert item["age_days"] == 120


def test_json_of_an_empty_view_is_valid(world: World) -> None:
    doc = world.client.get("/findings.json?q=nothing-like-this").json()
    assert doc["findings"] == []
    assert doc["count"] == 0


def _view(app: FastAPI, world: World, query: str) -> tuple[Any, filters.Filters, Any]:
    now = utcnow()
    with session_scope(app.state.sessionmaker) as session:
        clusters = clusters_of(session, world.org_id)
    view = filters.parse(QueryParams(query), clusters=clusters, now=now).filters
    gone = [c.id for c in clusters.values() if c.gone]
    return explore.conditions(world.org_id, view, gone=gone, now=now), view, clusters


def test_batches_and_the_row_cap(world: World, app: FastAPI) -> None:
    where, view, clusters = _view(app, world, "sort=name")
    with session_scope(app.state.sessionmaker) as session:
        sizes = [len(b) for b in explore.batches(session, where, view, size=3, cap=100)]
        assert sizes == [3, 3, 2]
        capped = [len(b) for b in explore.batches(session, where, view, size=3, cap=5)]
        assert capped == [3, 2]
        assert export.truncated(session, where, cap=5) is True
        assert export.truncated(session, where, cap=8) is False
        text = "".join(export.csv_lines(session, where, view, clusters, now=utcnow(), cap=5))
        assert [r["name"] for r in _rows(text)] == sorted(ACTIVE)[:5]
        chunks = export.json_chunks(
            session, where, view, clusters, organisation="Acme", now=utcnow(), cap=5,
            is_truncated=True,
        )  # fmt: skip
        doc = json.loads("".join(chunks))
        assert doc["count"] == 5
        assert doc["truncated"] is True
        assert [f["name"] for f in doc["findings"]] == sorted(ACTIVE)[:5]


def test_viewers_export_and_tenants_stay_apart(
    world: World, browser: BrowserFactory, db: Session
) -> None:
    other = make_world(browser, db, "owner@globex.test", "Globex")
    db.execute(
        update(Finding).where(Finding.org_id == other.org_id).values(name=Finding.name + "-globex")
    )
    db.commit()
    set_role(db, world.org_id, "viewer")
    csv_text = world.client.get("/findings.csv?ignored=include").text
    assert {r["name"] for r in _rows(csv_text)} == ACTIVE
    assert "globex" not in csv_text
    json_text = world.client.get(f"/findings.json?cluster={other.shop.id}").text
    assert "globex" not in json_text
    assert {f["name"] for f in json.loads(json_text)["findings"]} == ACTIVE


def test_exports_need_a_signed_in_member(browser: BrowserFactory) -> None:
    visitor = browser()
    response = visitor.get("/findings.csv", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signup") or response.headers[
        "location"
    ].startswith("/signin")


def test_filename_is_safe() -> None:
    now = utcnow() - timedelta(days=1)
    assert export.filename('Acme "Ops" / Ünïcode', now, "csv") == (
        f"leftover-findings-acme-ops-n-code-{now:%Y-%m-%d}.csv"
    )
    assert export.filename("???", now, "json").startswith("leftover-findings-organisation-")
