"""A finding's page: why, evidence, owner, cost basis (assumed prices flagged), first and last
seen, the kubectl command (namespaced, cluster-scoped, grouped and custom kinds, names quoted)
and a cascade's chains and whole removal set in a safe order, ignore status, viewers, 404s."""

from __future__ import annotations

import html as htmllib
import re
import uuid

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.findings.detail import kubectl_delete, owner_of, resource
from app.scans.models import Finding
from tests.conftest import BrowserFactory
from tests.factories import add_finding, add_run, set_role
from tests.findings.test_explorer import World, _ignore, ago, make_world


@pytest.fixture
def world(browser: BrowserFactory, db: Session) -> World:
    return make_world(browser, db, "owner@acme.test", "Acme")


def commands(page: str) -> list[list[str]]:
    """The command blocks of the page, each as its lines."""
    return [
        htmllib.unescape(block).split("\n")
        for block in re.findall(r'<pre class="command"><code>(.*?)</code></pre>', page, re.S)
    ]


def chains(page: str) -> list[list[str]]:
    """The cascade chains, each as the text of its steps."""
    out = []
    for chain in re.findall(r'<ol class="cascade-chain"[^>]*>(.*?)</ol>', page, re.S):
        steps = re.findall(r"<li>(.*?)</li>", chain, re.S)
        out.append([" ".join(re.sub(r"<[^>]+>", " ", htmllib.unescape(s)).split()) for s in steps])
    return out


def test_the_page_explains_the_finding(world: World, db: Session) -> None:
    pvc = world.f["pvc-data"]
    db.execute(
        update(Finding)
        .where(Finding.id == pvc.id)
        .values(
            evidence=["no Pod mounts it", "last used by Pod shop/db-0 (Succeeded)"],
            cost_assumed=True,
        )
    )
    db.commit()
    page = world.client.get(f"/findings/{pvc.id}")
    assert page.status_code == 200
    html = page.text
    assert "<h1>pvc-data</h1>" in html
    assert "PersistentVolumeClaim · shop · shop-prod" in html
    assert "Nothing mounts or references it." in html
    assert "<code>pvc-unused</code>" in html
    assert ">High<" in html
    assert "120 days" in html
    assert "Helm release <strong>shop</strong>" in html
    assert "<li>no Pod mounts it</li>" in html
    assert "<li>last used by Pod shop/db-0 (Succeeded)</li>" in html
    assert "<strong>$80.00</strong> a month, estimated, list price" in html
    assert "Basis: <span" in html
    assert "100 GiB gp3" in html
    assert "Assumed price" in html
    assert pvc.first_seen_at.strftime("%-d %b %Y, %H:%M") in html
    assert f'<time datetime="{pvc.last_seen_at.isoformat()}">' in html
    assert f'href="/clusters/{world.shop.id}"' in html
    assert commands(html) == [
        ["kubectl --context shop-prod delete persistentvolumeclaim pvc-data -n shop"]
    ]
    assert "The whole cascade" not in html
    assert 'class="cascade-chain"' not in html
    assert 'action="/ignores"' in html, "an owner may ignore it"
    assert f'name="finding_id" value="{pvc.id}"' in html


def test_cluster_scoped_and_grouped_kinds(world: World, db: Session) -> None:
    html = world.client.get(f"/findings/{world.f['pv-orphan'].id}").text
    assert commands(html) == [["kubectl --context shop-prod delete persistentvolume pv-orphan"]]
    assert "— (cluster-scoped)" in html
    ns = world.client.get(f"/findings/{world.f['legacy'].id}").text
    assert commands(ns) == [["kubectl --context shop-prod delete namespace legacy"]]
    assert "abandoned namespace costs what its contents cost" in ns
    run = add_run(db, world.data)
    job = add_finding(
        db, run, kind="CronJob", name="nightly", cost="0", namespace="etl",
        api_version="batch/v1", rule="cronjob-suspended",
    )  # fmt: skip
    widget = add_finding(
        db, run, kind="Widget", name="w1", cost="0", namespace="etl",
        api_version="example.com/v1alpha1", rule="owner-missing",
    )  # fmt: skip
    db.commit()
    assert commands(world.client.get(f"/findings/{job.id}").text) == [
        ["kubectl --context data-prod delete cronjob.batch nightly -n etl"]
    ]
    assert commands(world.client.get(f"/findings/{widget.id}").text) == [
        ["kubectl --context data-prod delete widget.example.com w1 -n etl"]
    ]


def test_commands_quote_every_customer_word() -> None:
    assert kubectl_delete("prod eu", "ConfigMap", "v1", "it's", "team $(x)") == (
        "kubectl --context 'prod eu' delete configmap 'it'\"'\"'s' -n 'team $(x)'"
    )
    assert kubectl_delete("a;b", "Thing", "x.io/v1", "n", None) == (
        "kubectl --context 'a;b' delete thing.x.io n"
    )
    assert resource("Deployment", "apps/v1") == "deployment.apps"
    assert resource("Deployment", None) == "deployment.apps", "known kinds know their group"
    assert resource("Service", None) == "service"
    assert resource("Gizmo", None) == "gizmo"
    assert resource("Secret", "v1") == "secret"


def test_owner_labels() -> None:
    assert owner_of("helm:shop") == ("Helm release", "shop")
    assert owner_of("argocd:payments") == ("Argo CD application", "payments")
    assert owner_of("team:data") == ("Team label", "data")
    assert owner_of("someone") == ("Owner", "someone")
    assert owner_of(None) is None


def test_a_cascade_is_drawn_and_removed_users_first(world: World, db: Session) -> None:
    run = add_run(db, world.shop)
    deploy = add_finding(
        db, run, kind="Deployment", name="web", cost="30", api_version="apps/v1",
        rule="workload-scaled-to-zero",
    )  # fmt: skip
    svc = add_finding(
        db, run, kind="Service", name="web-svc", cost="0", rule="service-no-endpoints",
        cascade_from=[{"kind": "Deployment", "namespace": "shop", "name": "web"}],
    )  # fmt: skip
    ing = add_finding(
        db, run, kind="Ingress", name="web-ing", cost="18", api_version="networking.k8s.io/v1",
        rule="ingress-no-backend",
        cascade_from=[
            {"kind": "Service", "namespace": "shop", "name": "web-svc"},
            {"kind": "Service", "namespace": "shop", "name": "old-svc"},
        ],
        evidence=["Service shop/web-svc has no endpoints", "Service shop/old-svc has no endpoints"],
    )  # fmt: skip
    db.commit()
    html = world.client.get(f"/findings/{ing.id}").text
    assert chains(html) == [
        ["Deployment shop/web", "Service shop/web-svc", "Ingress shop/web-ing (this finding)"],
        ["Service shop/old-svc (not a current finding)", "Ingress shop/web-ing (this finding)"],
    ]
    assert f'<a href="/findings/{deploy.id}">Deployment shop/web</a>' in html
    assert f'<a href="/findings/{svc.id}">Service shop/web-svc</a>' in html
    assert "old-svc</a>" not in html
    single, whole = commands(html)
    assert single == [
        "kubectl --context shop-prod delete ingress.networking.k8s.io web-ing -n shop"
    ]
    assert whole == [
        "kubectl --context shop-prod delete deployment.apps web -n shop",
        "kubectl --context shop-prod delete service old-svc -n shop",
        "kubectl --context shop-prod delete service web-svc -n shop",
        "kubectl --context shop-prod delete ingress.networking.k8s.io web-ing -n shop",
    ]
    assert "Users first, this object last" in html
    # The middle of the chain sees its own part only.
    middle = world.client.get(f"/findings/{svc.id}").text
    assert chains(middle) == [["Deployment shop/web", "Service shop/web-svc (this finding)"]]


def test_a_cascade_in_a_circle_or_another_cluster_stops(world: World, db: Session) -> None:
    run = add_run(db, world.shop)
    a = add_finding(
        db, run, kind="Service", name="a", cost="0",
        cascade_from=[{"kind": "Service", "namespace": "shop", "name": "b"}],
    )  # fmt: skip
    add_finding(
        db, run, kind="Service", name="b", cost="0",
        cascade_from=[{"kind": "Service", "namespace": "shop", "name": "a"}],
    )  # fmt: skip
    other_run = add_run(db, world.data)
    add_finding(db, other_run, kind="Deployment", name="web", cost="0", namespace="shop")
    c = add_finding(
        db, run, kind="ConfigMap", name="c", cost="0",
        cascade_from=[{"kind": "Deployment", "namespace": "shop", "name": "web"}, "junk"],  # type: ignore[list-item]
    )  # fmt: skip
    db.commit()
    html = world.client.get(f"/findings/{a.id}").text
    assert chains(html) == [["Service shop/b", "Service shop/a (this finding)"]]
    assert commands(html)[1] == [
        "kubectl --context shop-prod delete service b -n shop",
        "kubectl --context shop-prod delete service a -n shop",
    ]
    other = world.client.get(f"/findings/{c.id}").text
    assert chains(other) == [
        ["Deployment shop/web (not a current finding)", "ConfigMap shop/c (this finding)"]
    ], "a finding of another cluster is not this one's owner"


def test_ignore_status_and_expiry(world: World, db: Session) -> None:
    _ignore(db, world, "pvc-data", expires=None, now=utcnow())
    html = world.client.get(f"/findings/{world.f['pvc-data'].id}").text
    text = " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)).split())
    assert "Ignored: kept on purpose — added by ops@acme.test on" in text
    assert "left out of totals and emails" in text
    assert 'href="/ignores"' in html
    _ignore(db, world, "pv-orphan", expires=ago(1), now=ago(3))
    expired = world.client.get(f"/findings/{world.f['pv-orphan'].id}").text
    assert "it has expired, so the finding counts again" in expired
    assert "Ignored:" not in expired


def test_gone_cluster_and_low_confidence(world: World) -> None:
    gone = world.client.get(f"/findings/{world.f['pvc-gone'].id}").text
    assert "old-staging is no longer found in its account" in gone
    low = world.client.get(f"/findings/{world.f['secret-maybe'].id}").text
    assert "needs review" in low
    assert "low confidence, it needs review" in low


def test_viewers_read_and_other_tenants_get_404(
    world: World, browser: BrowserFactory, db: Session
) -> None:
    other = make_world(browser, db, "owner@globex.test", "Globex")
    theirs = other.f["pvc-data"].id
    assert world.client.get(f"/findings/{theirs}").status_code == 404
    assert world.client.get("/findings/not-a-uuid").status_code == 404
    assert world.client.get(f"/findings/{uuid.uuid4()}").status_code == 404
    set_role(db, world.org_id, "viewer")
    page = world.client.get(f"/findings/{world.f['pvc-data'].id}")
    assert page.status_code == 200
    assert 'action="/ignores"' not in page.text
    assert "needs the member role" in page.text
    assert "kubectl --context shop-prod" in page.text


def test_names_are_escaped(world: World, db: Session) -> None:
    f = world.f["cm-flags"]
    db.execute(update(Finding).where(Finding.id == f.id).values(reason="<img src=x>"))
    db.commit()
    html = world.client.get(f"/findings/{f.id}").text
    assert "&lt;img src=x&gt;" in html
    assert "<img src=x>" not in html
