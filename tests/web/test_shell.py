"""The page shell: every template obeys the CSP and CSRF rules; base and error pages render for
visitors and members; section pages return their named block to HTMX."""

from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient

from app.web import ENV, STATIC_DIR, TEMPLATES_DIR, render

TEMPLATES = sorted(p for p in TEMPLATES_DIR.rglob("*.html"))
NAMES = [str(p.relative_to(TEMPLATES_DIR)) for p in TEMPLATES]


def _source(path: Path) -> str:
    # Jinja comments may show forbidden markup as documentation.
    return re.sub(r"{#.*?#}", "", path.read_text(), flags=re.S)


# ---------- Guards over every template (everyone's) ----------


def test_templates_exist() -> None:
    assert "base.html" in NAMES
    assert {"errors/403.html", "errors/404.html", "errors/500.html"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_template_compiles(name: str) -> None:
    ENV.get_template(name)


@pytest.mark.parametrize("name", NAMES)
def test_no_inline_script_or_style(name: str) -> None:
    """The CSP forbids inline code: scripts only by src, no style attributes or elements."""
    text = _source(TEMPLATES_DIR / name)
    for match in re.finditer(r"<script\b([^>]*)>(.*?)</script>", text, flags=re.S | re.I):
        attrs, body = match.groups()
        assert re.search(r"\bsrc\s*=", attrs), f"{name}: inline <script> without src"
        assert not body.strip(), f"{name}: <script src> with a body"
    assert not re.search(r"<style\b", text, re.I), f"{name}: <style> element"
    assert not re.search(r"\sstyle\s*=", text, re.I), f"{name}: style= attribute"
    handler = re.search(r"<[^>]*\son[a-z]{3,}\s*=", text, re.I)
    assert not handler, f"{name}: inline event handler {handler.group(0)!r}"
    assert not re.search(r"\bhx-on", text), f"{name}: hx-on needs eval, refused by the CSP"
    assert "javascript:" not in text.lower(), f"{name}: javascript: URL"


@pytest.mark.parametrize("name", NAMES)
def test_autoescape_is_never_switched_off(name: str) -> None:
    """Cluster and resource names are attacker-controlled: no |safe, no autoescape false."""
    text = _source(TEMPLATES_DIR / name)
    assert not re.search(r"\|\s*safe\b", text), f"{name}: |safe"
    assert not re.search(r"autoescape\s+false", text), f"{name}: autoescape false"


@pytest.mark.parametrize("name", NAMES)
def test_every_post_form_carries_csrf(name: str) -> None:
    text = _source(TEMPLATES_DIR / name)
    forms = re.findall(r"<form\b([^>]*)>(.*?)</form>", text, flags=re.S | re.I)
    for attrs, body in forms:
        if re.search(r"""method\s*=\s*["']?post""", attrs, re.I):
            assert "forms.csrf()" in body or 'name="csrf_token"' in body, (
                f"{name}: <form{attrs}> has no CSRF token"
            )


def test_static_assets_exist() -> None:
    for path in ("css/app.css", "js/app.js", "js/htmx.min.js", "img/favicon.svg"):
        assert (STATIC_DIR / path).is_file(), path


# ---------- Rendering, through app.web.render and a real request ----------


class _Page(HTMLParser):
    """Collects what the tests look at in rendered HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        """Tags named ``tag`` having every attribute given (``x=None``: a bare attribute)."""
        return [
            a
            for t, a in self.tags
            if t == tag and all(k in a and a[k] == v for k, v in attrs.items())
        ]


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


ORG_ID = uuid.uuid4()
OTHER_ORG_ID = uuid.uuid4()


def member_page(role: str = "owner", nav: str | None = "dashboard") -> dict[str, Any]:
    return {
        "user": SimpleNamespace(
            id=uuid.uuid4(), email="ada@example.com", display_name="Ada", email_verified=True
        ),
        "org": SimpleNamespace(id=ORG_ID, name="Acme <Platform>"),
        "role": role,
        "memberships": [
            {"org_id": ORG_ID, "org_name": "Acme <Platform>", "role": role},
            {"org_id": OTHER_ORG_ID, "org_name": "Side project", "role": "viewer"},
        ],
        "csrf_token": "tok-123",
        "toasts": [{"kind": "success", "text": "Saved <b>it</b>"}],
        "nav": nav,
        "local_mode": False,
        "identity_providers": [],
    }


def shell_app(page: dict[str, Any] | None) -> FastAPI:
    """A bare app whose one route renders any template with ``page`` as the page context."""
    app = FastAPI()

    @app.get("/t/{name:path}")
    def _template(request: Request, name: str, block: str | None = None) -> HTMLResponse:
        if page is not None:
            request.state.page = page
        extra = {"providers": [], "can_manage": True} if name.startswith("clouds/") else {}
        return render(request, name, extra, block=block)

    return app


@pytest.mark.parametrize("name", ["errors/403.html", "errors/404.html", "errors/500.html"])
def test_error_pages_render_without_any_page_context(name: str) -> None:
    """A 404 for an unknown URL runs no dependency, so request.state.page is missing."""
    response = TestClient(shell_app(None)).get(f"/t/{name}")
    assert response.status_code == 200
    page = parse(response.text)
    assert page.find("body", **{"class": "layout-public"})
    assert not page.find("nav"), "visitors get no app navigation"
    assert not page.find("form"), "no forms (and no CSRF token) without a session"
    assert page.find("main", id="main")
    assert page.find("a", href="#main"), "skip link"


def test_error_pages_render_for_a_member_inside_the_app_shell() -> None:
    response = TestClient(shell_app(member_page(nav=None))).get("/t/errors/404.html")
    page = parse(response.text)
    assert page.find("body", **{"class": "layout-app"})
    assert page.find("nav", **{"aria-label": "Main"})
    assert not [a for _, a in page.tags if a.get("aria-current")]


def test_signed_in_shell() -> None:
    response = TestClient(shell_app(member_page(nav="findings"))).get("/t/errors/404.html")
    html = response.text
    page = parse(html)
    body = page.find("body")[0]
    assert body["hx-headers"] == '{"X-CSRF-Token": "tok-123"}'
    current = page.find("a", **{"aria-current": "page"})
    assert [a["href"] for a in current] == ["/findings"]
    # Organisation switcher: a real form that works without JS.
    switch = page.find("form", action="/orgs/switch")
    assert switch
    assert switch[0]["method"] == "post"
    assert page.find("select", name="org_id", id="org-switch")
    assert page.find("label", **{"for": "org-switch"})
    assert page.find("option", value=str(ORG_ID), selected=None)
    # Sign out is a POST with the token, never a link.
    assert page.find("form", action="/signout", method="post")
    assert len(page.find("input", name="csrf_token", value="tok-123")) == 2
    # Toasts: a polite live region; their text is escaped.
    assert page.find("div", id="toasts", role="status", **{"aria-live": "polite"})
    assert "Saved &lt;b&gt;it&lt;/b&gt;" in html
    assert "Acme &lt;Platform&gt;" in html
    # Only external scripts, from /static.
    scripts = page.find("script")
    assert {s["src"] for s in scripts} == {"/static/js/app.js", "/static/js/htmx.min.js"}


def test_single_membership_shows_the_org_name_without_a_form() -> None:
    ctx = member_page()
    ctx["memberships"] = ctx["memberships"][:1]
    page = parse(TestClient(shell_app(ctx)).get("/t/errors/404.html").text)
    assert not page.find("form", action="/orgs/switch")
    assert "Acme <Platform>" in "".join(page.text)


def test_public_layout_even_when_signed_in() -> None:
    html = TestClient(shell_app(member_page())).get("/t/base_public.html").text
    assert 'class="layout-public"' in html


# Templates that render without page data; the findings explorer needs its filters and results
# and is checked the same way through the real app below (SECTIONS).
@pytest.mark.parametrize("name", ["dashboard/index.html", "clusters/list.html", "clouds/list.html"])
def test_section_block_is_a_fragment(name: str) -> None:
    client = TestClient(shell_app(member_page()))
    full = client.get(f"/t/{name}", params={"block": "section"})
    assert full.text.lstrip().startswith("<!doctype html>")
    fragment = client.get(f"/t/{name}", params={"block": "section"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text
    assert "<nav" not in fragment.text
    assert "<h1>" in fragment.text
    assert fragment.text.strip() in full.text or "<h1>" in full.text


# ---------- The real app (create_app, a migrated database, a signed-in visitor) ----------

SECTIONS = [
    ("/", "dashboard", "Dashboard"),
    ("/clusters", "clusters", "Clusters"),
    ("/findings", "findings", "Findings"),
    ("/cloud-accounts", "clouds", "Cloud accounts"),
]


def test_unknown_url_is_an_html_404(client: TestClient) -> None:
    response = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Page not found" in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_500_page_hides_the_details(app: FastAPI) -> None:
    def explode() -> None:
        raise RuntimeError("secret-internal-detail at /srv/app.py line 42")

    app.add_api_route("/explode-for-test", explode)
    with TestClient(app, raise_server_exceptions=False) as visitor:
        response = visitor.get("/explode-for-test", headers={"Accept": "text/html"})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in response.text
    assert "secret-internal-detail" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text


@pytest.mark.parametrize(("path", "key", "heading"), SECTIONS)
def test_sections_need_a_signed_in_member(client: Any, path: str, key: str, heading: str) -> None:
    client.sign_up("first@example.com")
    client.sign_out()
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin")
    hx = client.get(path, headers={"HX-Request": "true"}, follow_redirects=False)
    assert hx.status_code == 401
    assert hx.headers["HX-Redirect"].startswith("/signin")


@pytest.mark.parametrize(("path", "key", "heading"), SECTIONS)
def test_section_page_and_its_htmx_block(client: Any, path: str, key: str, heading: str) -> None:
    client.sign_up("owner@example.com", org="Acme <Ops>")
    full = client.get(path)
    assert full.status_code == 200
    page = parse(full.text)
    current = page.find("a", **{"aria-current": "page"})
    assert [a["href"] for a in current] == [path]
    assert f"<h1>{heading}</h1>" in full.text
    assert page.find("body")[0]["hx-headers"].startswith('{"X-CSRF-Token": "')
    assert "Acme &lt;Ops&gt;" in full.text
    assert "<Ops>" not in full.text

    fragment = client.get(path, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert f"<h1>{heading}</h1>" in fragment.text
    assert "<html" not in fragment.text
    assert "<nav" not in fragment.text
    assert 'id="toasts"' not in fragment.text


def test_cloud_accounts_explain_the_action_to_viewers(client: Any, db: Any) -> None:
    from sqlalchemy import update

    from app.accounts.models import Membership

    client.sign_up("owner@example.com")
    owner_view = client.get("/cloud-accounts").text
    assert 'href="/cloud-accounts/new?provider=aws"' in owner_view
    assert "Only owners and admins" not in owner_view

    db.execute(update(Membership).values(role="viewer"))
    db.commit()
    viewer_view = client.get("/cloud-accounts").text
    assert "/cloud-accounts/new" not in viewer_view
    assert "Only owners and admins can connect cloud accounts" in viewer_view
    for name in ("Amazon Web Services", "Google Cloud", "Microsoft Azure", "kubeconfig"):
        assert name in viewer_view


def test_sign_in_page_uses_the_public_layout(client: Any) -> None:
    response = client.get("/signin")
    page = parse(response.text)
    assert page.find("body", **{"class": "layout-public"})
    assert not page.find("nav", **{"aria-label": "Main"})
    assert page.find("div", id="toasts", role="status")


# ---------- Macros ----------


def _macro(source: str, **ctx: Any) -> _Page:
    template = ENV.from_string(
        '{% import "components/forms.html" as forms with context %}'
        '{% import "components/ui.html" as ui with context %}' + source
    )
    return parse(template.render(csrf_token="tok-9", **ctx))


def test_field_links_its_error_and_help() -> None:
    page = _macro(
        '{{ forms.field("email", "Email", value=v, error="Enter an email.", type="email",'
        ' help="We never share it.", required=True, attrs={"maxlength": 200}) }}',
        v='"><b>x',
    )
    field = page.find("input", name="email")[0]
    assert field["id"] == "f-email"
    assert field["aria-invalid"] == "true"
    assert field["aria-describedby"] == "f-email-help f-email-error"
    assert field["value"] == '"><b>x'
    assert field["maxlength"] == "200"
    assert "required" in field
    assert page.find("label", **{"for": "f-email"})
    assert page.find("p", id="f-email-error")
    assert "Error: " in "".join(page.text), "errors are not colour alone"


def test_password_fields_never_echo_a_value() -> None:
    page = _macro('{{ forms.field("password", "Password", value="hunter2", type="password") }}')
    assert "value" not in page.find("input", name="password")[0]


def test_select_marks_the_chosen_option() -> None:
    page = _macro(
        '{{ forms.select("role", "Role", ["viewer", "admin"], value="admin", hide_label=True) }}'
        '{{ forms.select("n", "N", [(1, "One"), {"value": 2, "label": "Two"}], value=2) }}'
    )
    assert page.find("option", value="admin", selected=None)
    assert not page.find("option", value="viewer", selected=None)
    assert page.find("label", **{"for": "f-role", "class": "visually-hidden"})
    assert page.find("option", value="2", selected=None)


def test_checkbox_links_its_label_and_keeps_its_state() -> None:
    page = _macro(
        '{{ forms.checkbox("confirm", "I understand", checked=True, help="Cannot be undone") }}'
        '{{ forms.checkbox("quiet", "Quiet", hide_label=True) }}'
    )
    box = page.find("input", id="f-confirm", type="checkbox")[0]
    assert "checked" in box
    assert box["aria-describedby"] == "f-confirm-help"
    assert page.find("label", **{"for": "f-confirm"})
    quiet = page.find("input", id="f-quiet")[0]
    assert "checked" not in quiet
    assert page.find("label", **{"for": "f-quiet", "class": "visually-hidden"})


def test_confirm_button_posts_with_csrf_and_asks_first() -> None:
    page = _macro('{{ ui.confirm_button("/x/1/remove", "Remove", "Remove <Bob>?") }}')
    form = page.find("form")[0]
    assert form["method"] == "post"
    assert form["data-confirm"] == "Remove <Bob>?"
    assert page.find("input", name="csrf_token", value="tok-9")


def test_htmx_is_configured_for_the_csp_and_for_422_forms() -> None:
    html = ENV.get_template("errors/404.html").render({})
    page = parse(html)
    config = page.find("meta", name="htmx-config")[0]["content"] or ""
    assert '"includeIndicatorStyles": false' in config  # htmx would inject a <style>
    assert '"allowEval": false' in config
    assert '{"code": "422", "swap": true}' in config  # validation errors re-render the form
