"""Route-wide guarantees, checked by enumerating the app's routes (new routes are covered
automatically): CSRF refusal on every state-changing method, no state change on any GET,
tenant isolation for every id in a path, full page vs HTMX block, and forms that answer bad
input with field errors (never a 500)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import inspect, select, text

from app.accounts import service
from app.accounts.models import Membership
from app.db import session_scope
from tests.accounts.helpers import add_member, link_in, mails_to, make_user
from tests.conftest import PASSWORD, Browser, BrowserFactory, api_routes

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
VOLATILE = {"web_sessions": {"last_seen_at", "toasts", "updated_at"}}
PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")


@dataclass
class World:
    """Two organisations with members, invitations and links; ids and tokens by name."""

    a: dict[str, Any]
    b: dict[str, Any]


def _org_objects(app: FastAPI, owner: str, org: str, member: str, invitee: str) -> dict[str, Any]:
    _, org_id = make_user(app, owner, org=org)
    member_id = add_member(app, org_id, member, "member")
    with session_scope(app.state.sessionmaker) as db:
        actor = db.scalar(
            select(Membership).where(Membership.org_id == org_id, Membership.role == "owner")
        )
        assert actor is not None
        invitation = service.invite(
            db, actor, email=invitee, role="viewer", base_url="http://testserver"
        )
        user = service.get_user_by_email(db, owner)
        assert user is not None
        service.request_password_reset(db, owner, base_url="http://testserver")
        service.send_verification(db, user, base_url="http://testserver")
        invitation_id = invitation.id
    mails = mails_to(app, owner)
    return {
        "org_id": org_id,
        "membership_id": member_id,
        "invitation_id": invitation_id,
        "message_id": mails[0].id,
        "invitation_token": link_in(mails_to(app, invitee)[0], "/invitations"),
        "reset_token": link_in(mails[0], "/password/reset"),
        "verify_token": link_in(mails[1], "/verify"),
    }


@pytest.fixture
def world(app: FastAPI) -> World:
    return World(
        a=_org_objects(app, "owner@a.test", "Org A", "member@a.test", "invitee@a.test"),
        b=_org_objects(app, "owner@b.test", "Org B", "member@b.test", "invitee@b.test"),
    )


def fill(path: str, objects: dict[str, Any]) -> str:
    """``path`` with each parameter replaced by the matching object of one organisation."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "token":
            if path.startswith("/password/reset"):
                return str(objects["reset_token"])
            if path.startswith("/verify"):
                return str(objects["verify_token"])
            return str(objects["invitation_token"])
        if name == "provider":
            return "google"
        return str(objects.get(name, uuid.uuid4()))

    return PARAM.sub(value, path)


def snapshot(app: FastAPI) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table (volatile session bookkeeping left out)."""
    state: dict[str, list[tuple[str, ...]]] = {}
    engine = app.state.engine
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            skip = VOLATILE.get(table, set())
            columns = [c["name"] for c in inspect(conn).get_columns(table) if c["name"] not in skip]
            names = ", ".join(f'"{c}"' for c in columns)
            rows = conn.execute(text(f'SELECT {names} FROM "{table}"')).all()  # noqa: S608
            state[table] = sorted(tuple(str(v) for v in row) for row in rows)
    return state


def signed_in(browser: BrowserFactory, email: str) -> Browser:
    client = browser()
    client.sign_in(email)
    return client


def _routes(app: FastAPI, methods: set[str]) -> list[tuple[str, str]]:
    return sorted(
        (path, method) for path, found, _ in api_routes(app) for method in found & methods
    )


# --- CSRF -----------------------------------------------------------------------------------------


def test_every_state_changing_route_refuses_a_missing_or_wrong_csrf_token(
    app: FastAPI, world: World, browser: BrowserFactory
) -> None:
    routes = _routes(app, UNSAFE)
    assert ("/signout", "POST") in routes
    assert ("/settings/members/invite", "POST") in routes
    member = signed_in(browser, "owner@a.test")
    anonymous = browser()
    anonymous.get("/signin")
    other_token = signed_in(browser, "owner@b.test").csrf()
    before = snapshot(app)
    for path, method in routes:
        url = fill(path, world.a)
        for client in (member, anonymous):
            attempts: list[dict[str, Any]] = [
                {"data": {"email": "x@y.test", "password": PASSWORD, "name": "X"}},
                {"data": {"csrf_token": "forged"}},
                {"data": {"csrf_token": other_token}},
                {"headers": {"HX-Request": "true", "X-CSRF-Token": other_token}},
            ]
            for attempt in attempts:
                response = client.request(method, url, follow_redirects=False, **attempt)
                assert response.status_code == 403, (method, url, attempt, response.status_code)
                assert "reload and try again" in response.text
    assert snapshot(app) == before


def test_a_valid_token_in_the_header_is_accepted(app: FastAPI, browser: BrowserFactory) -> None:
    client = browser()
    client.sign_up()
    response = client.post(
        "/orgs",
        data={"name": "Via HTMX"},
        headers={"HX-Request": "true", "X-CSRF-Token": client.csrf()},
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/"


# --- no state change on GET -----------------------------------------------------------------------


def test_no_get_route_changes_state(app: FastAPI, world: World, browser: BrowserFactory) -> None:
    routes = _routes(app, {"GET"})
    assert len(routes) >= 10
    member = signed_in(browser, "owner@a.test")
    anonymous = browser()
    member.get("/")  # consume the first page's one-shot messages
    before = snapshot(app)
    for path, _ in routes:
        url = fill(path, world.a)
        for client in (member, anonymous):
            response = client.get(url, follow_redirects=False)
            assert response.status_code < 500, (url, response.status_code)
    assert snapshot(app) == before


# --- tenant isolation -----------------------------------------------------------------------------


def test_every_id_of_another_organisation_is_a_404(
    app: FastAPI, world: World, browser: BrowserFactory
) -> None:
    routes = [
        (path, method)
        for path, method in _routes(app, {"GET", *UNSAFE})
        if any(p.endswith("_id") for p in PARAM.findall(path)) and not path.startswith("/dev/")
    ]
    assert ("/settings/members/{membership_id}/role", "POST") in routes
    owner_a = signed_in(browser, "owner@a.test")
    token = owner_a.csrf()
    before = snapshot(app)
    for path, method in routes:
        url = fill(path, world.b)
        response = owner_a.request(
            method,
            url,
            data={"role": "viewer", "name": "Hijacked", "csrf_token": token}
            if method in UNSAFE
            else None,
            follow_redirects=False,
        )
        assert response.status_code == 404, (method, url, response.status_code)
        assert "Hijacked" not in response.text
    assert snapshot(app) == before
    # The same ids are reachable by their own organisation's owner.
    owner_b = signed_in(browser, "owner@b.test")
    ok = owner_b.submit(f"/settings/members/{world.b['membership_id']}/role", {"role": "viewer"})
    assert ok.status_code == 303


def test_switching_to_another_organisation_is_a_404(
    app: FastAPI, world: World, browser: BrowserFactory
) -> None:
    owner_a = signed_in(browser, "owner@a.test")
    assert owner_a.submit("/orgs/switch", {"org_id": str(world.b["org_id"])}).status_code == 404
    assert "Org B" not in owner_a.get("/settings/members").text


# --- full page vs HTMX block ----------------------------------------------------------------------

PAGES = {
    "/signin": ('id="signin-form"', False),
    "/signup": ('id="signup-form"', False),
    "/password/forgot": ('id="forgot-form"', False),
    "/account": ('id="password-form"', True),
    "/settings": ('id="org-settings-form"', True),
    "/settings/members": ('id="members"', True),
}


@pytest.mark.parametrize("path", sorted(PAGES))
def test_full_page_or_htmx_block(app: FastAPI, browser: BrowserFactory, path: str) -> None:
    marker, needs_user = PAGES[path]
    client = browser()
    if needs_user:
        client.sign_up()
    else:
        make_user(app, "someone@example.com")
    full = client.get(path)
    assert full.status_code == 200
    assert "<html" in full.text
    assert marker in full.text
    assert 'hx-headers=\'{"X-CSRF-Token": "' in full.text
    block = client.get(path, headers={"HX-Request": "true"})
    assert block.status_code == 200
    assert "<html" not in block.text
    assert "<body" not in block.text
    assert marker in block.text


# --- bad input ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormCase:
    path: str
    fields: dict[str, str]  # valid values
    signed_in: bool = True
    extra: dict[str, str] | None = None


FORMS = {
    "signup": FormCase(
        "/signup",
        {"email": "n@example.com", "password": PASSWORD, "org_name": "Org", "display_name": "N"},
        signed_in=False,
    ),
    "signin": FormCase("/signin", {"email": "n@example.com", "password": PASSWORD}, False),
    "forgot": FormCase("/password/forgot", {"email": "n@example.com"}, False),
    "reset": FormCase("/password/reset/{token}", {"password": PASSWORD}, False),
    "accept": FormCase(
        "/invitations/{token}/accept", {"display_name": "N", "password": PASSWORD}, False
    ),
    "profile": FormCase("/account", {"display_name": "N"}, extra={"action": "profile"}),
    "password": FormCase(
        "/account",
        {"current_password": PASSWORD, "new_password": "another passphrase 9"},
        extra={"action": "password"},
    ),
    "new_org": FormCase("/orgs", {"name": "Org"}),
    "rename": FormCase("/settings", {"name": "Org"}),
    "invite": FormCase("/settings/members/invite", {"email": "n@example.com", "role": "member"}),
    "role": FormCase("/settings/members/{membership_id}/role", {"role": "viewer"}),
}
EMAIL_FIELDS = {"email"}
OPTIONAL = {"display_name"}
BAD_EMAILS = ["plainaddress", "a@b", "a b@c.de", "a@b.c\x00", "@example.com", "a@.com", "a@b@c.de"]
UNICODE = "Zoë 🚀 株式会社 <b>&"


def _client_for(case: FormCase, world: World, browser: BrowserFactory) -> tuple[Browser, str]:
    client = signed_in(browser, "owner@a.test") if case.signed_in else browser()
    return client, fill(case.path, world.a)


def _post(client: Browser, url: str, case: FormCase, data: dict[str, str]) -> Any:
    return client.submit(url, {**(case.extra or {}), **data})


def _assert_field_error(response: Any, field: str, *, case: str) -> None:
    assert response.status_code == 422, (case, field, response.status_code)
    assert "field-error" in response.text or "form-error" in response.text, (case, field)


@pytest.mark.parametrize(
    "name", sorted(n for n, c in FORMS.items() if any(f not in OPTIONAL for f in c.fields))
)
def test_forms_answer_missing_fields_with_field_errors(
    app: FastAPI, world: World, browser: BrowserFactory, name: str
) -> None:
    case = FORMS[name]
    client, url = _client_for(case, world, browser)
    required = [f for f in case.fields if f not in OPTIONAL]
    _assert_field_error(_post(client, url, case, {}), required[0], case=name)
    for field in required:
        data = {k: v for k, v in case.fields.items() if k != field}
        _assert_field_error(_post(client, url, case, data), field, case=name)


@pytest.mark.parametrize("name", sorted(FORMS))
def test_forms_refuse_oversized_fields_and_keep_what_was_typed(
    app: FastAPI, world: World, browser: BrowserFactory, name: str
) -> None:
    case = FORMS[name]
    client, url = _client_for(case, world, browser)
    for field in case.fields:
        if field == "current_password":
            continue
        data = {**case.fields, field: "x" * 5000}
        response = _post(client, url, case, data)
        _assert_field_error(response, field, case=name)
        for other, value in case.fields.items():
            if other != field and "password" not in other and other != "role":
                assert f'value="{value}"' in response.text, (name, field, other)


@pytest.mark.parametrize(
    "name", sorted(n for n, c in FORMS.items() if EMAIL_FIELDS & set(c.fields))
)
def test_forms_refuse_malformed_emails(
    app: FastAPI, world: World, browser: BrowserFactory, name: str
) -> None:
    case = FORMS[name]
    client, url = _client_for(case, world, browser)
    for bad in BAD_EMAILS:
        response = _post(client, url, case, {**case.fields, "email": bad})
        _assert_field_error(response, "email", case=name)
        assert "Enter an email address like" in response.text
        if "\x00" not in bad:
            escaped = bad.replace("@", "@")
            assert f'value="{escaped}"' in response.text


def test_unicode_is_kept_on_error_and_accepted_when_valid(browser: BrowserFactory) -> None:
    client = browser()
    refused = client.submit(
        "/signup",
        {"email": "bad", "password": PASSWORD, "org_name": UNICODE, "display_name": UNICODE},
    )
    assert refused.status_code == 422
    assert 'value="Zoë 🚀 株式会社 &lt;b&gt;&amp;"' in refused.text
    client.sign_up("zoe@example.com", org=UNICODE, name=UNICODE)
    page = client.get("/settings")
    assert "Zoë 🚀 株式会社 &lt;b&gt;&amp;" in page.text
    assert "<b>&" not in page.text
    control = client.submit("/orgs", {"name": "bad\x00name"})
    assert control.status_code == 422


def test_no_post_route_answers_garbage_with_a_500(
    app: FastAPI, world: World, browser: BrowserFactory
) -> None:
    member = signed_in(browser, "owner@a.test")
    garbage = [
        {"unexpected": "field"},
        {f: "\x00\x01\ud7ff" for f in ("email", "password", "name", "role", "org_id")},
        {f: "y" * 100_000 for f in ("email", "password", "name", "display_name")},
    ]
    for path, method in _routes(app, UNSAFE):
        if path == "/signout":
            continue
        url = fill(path, world.a)
        for data in garbage:
            response = member.submit(url, data) if method == "POST" else None
            assert response is None or response.status_code < 500, (url, response.status_code)
    oversized = member.post(
        "/orgs", data={"name": "z" * (3 * 1024 * 1024), "csrf_token": member.csrf()}
    )
    assert oversized.status_code == 413


def test_invitation_links_for_unknown_tokens_are_404(browser: BrowserFactory) -> None:
    client = browser()
    for path in (
        "/invitations/nope",
        "/password/reset/nope",
        "/verify/nope",
        "/invitations/" + "x" * 500,
    ):
        assert client.get(path).status_code == 404
