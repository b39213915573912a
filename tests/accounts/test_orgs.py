"""Organisations: invitations (new and existing users, revoked, expired), the roles and
permissions matrix with last-owner protection, switching and creating organisations."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from app.accounts import service
from app.accounts.models import Invitation, Membership, Organisation
from app.db import session_scope, utcnow
from tests.accounts.helpers import add_member, link_in, mails_to, make_user, role_of
from tests.conftest import PASSWORD, Browser, BrowserFactory


@pytest.fixture
def team(app: FastAPI) -> dict[str, uuid.UUID]:
    """Acme with an owner, an admin, a member and a viewer; membership ids by role."""
    _, org_id = make_user(app, "owner@acme.test", org="Acme")
    ids = {"org": org_id}
    with session_scope(app.state.sessionmaker) as db:
        owner = db.scalar(select(Membership).where(Membership.org_id == org_id))
        assert owner is not None
        ids["owner"] = owner.id
    for role in ("admin", "member", "viewer"):
        ids[role] = add_member(app, org_id, f"{role}@acme.test", role)
    return ids


def as_(browser: BrowserFactory, role: str) -> Browser:
    client = browser()
    client.sign_in(f"{role}@acme.test")
    client.submit("/orgs/switch", {"org_id": str(_acme(client))})
    return client


def _acme(client: Browser) -> uuid.UUID:
    app: FastAPI = client.app  # type: ignore[assignment]
    with session_scope(app.state.sessionmaker) as db:
        org_id = db.scalar(select(Organisation.id).where(Organisation.name == "Acme"))
        assert org_id is not None
        return org_id


# --- invitations ----------------------------------------------------------------------------------


def test_invite_and_accept_as_a_new_user(
    app: FastAPI, team: dict[str, uuid.UUID], browser: BrowserFactory
) -> None:
    owner = as_(browser, "owner")
    sent = owner.submit("/settings/members/invite", {"email": "New@Acme.test", "role": "member"})
    assert sent.status_code == 303
    assert "new@acme.test" in owner.get("/settings/members").text
    (mail,) = mails_to(app, "new@acme.test")
    token = link_in(mail, "/invitations")

    newcomer = browser()
    page = newcomer.get(f"/invitations/{token}")
    assert page.status_code == 200
    assert "Acme" in page.text
    weak = newcomer.submit(f"/invitations/{token}/accept", {"display_name": "Nia", "password": "x"})
    assert weak.status_code == 422
    assert 'value="Nia"' in weak.text
    done = newcomer.submit(
        f"/invitations/{token}/accept", {"display_name": "Nia", "password": PASSWORD}
    )
    assert done.status_code == 303
    assert "Acme" in newcomer.get("/settings").text
    with session_scope(app.state.sessionmaker) as db:
        user = service.get_user_by_email(db, "new@acme.test")
        assert user is not None
        assert user.email_verified
        assert service.get_membership(db, user.id, team["org"]).role == "member"  # type: ignore[union-attr]
    assert browser().get(f"/invitations/{token}").status_code == 404  # single use


def test_invite_and_accept_as_an_existing_user(
    app: FastAPI, team: dict[str, uuid.UUID], browser: BrowserFactory
) -> None:
    make_user(app, "elsewhere@corp.test", org="Corp")
    owner = as_(browser, "owner")
    owner.submit("/settings/members/invite", {"email": "elsewhere@corp.test", "role": "viewer"})
    token = link_in(mails_to(app, "elsewhere@corp.test")[0], "/invitations")

    anonymous = browser()
    assert "Sign in to accept" in anonymous.get(f"/invitations/{token}").text
    redirect = anonymous.submit(f"/invitations/{token}/accept", {"password": "whatever 12345"})
    assert redirect.headers["location"] == f"/signin?next=/invitations/{token}"

    existing = browser()
    existing.sign_in("elsewhere@corp.test")
    assert existing.submit(f"/invitations/{token}/accept").status_code == 303
    assert "Acme" in existing.get("/settings").text  # switched to the new organisation
    with session_scope(app.state.sessionmaker) as db:
        user = service.get_user_by_email(db, "elsewhere@corp.test")
        assert user is not None
        roles = {m.org.name: m.role for m in service.memberships_of(db, user.id)}
    assert roles == {"Corp": "owner", "Acme": "viewer"}


def test_revoked_and_expired_invitations_do_not_work(
    app: FastAPI, team: dict[str, uuid.UUID], browser: BrowserFactory
) -> None:
    owner = as_(browser, "owner")
    owner.submit("/settings/members/invite", {"email": "a@x.test", "role": "member"})
    owner.submit("/settings/members/invite", {"email": "b@x.test", "role": "member"})
    revoked = link_in(mails_to(app, "a@x.test")[0], "/invitations")
    expired = link_in(mails_to(app, "b@x.test")[0], "/invitations")
    with session_scope(app.state.sessionmaker) as db:
        a = db.scalar(select(Invitation).where(Invitation.email == "a@x.test"))
        assert a is not None
        assert a.expires_at - a.created_at == pytest.approx(timedelta(days=7), abs=timedelta(1))
        db.execute(
            update(Invitation)
            .where(Invitation.email == "b@x.test")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert owner.submit(f"/settings/invitations/{a.id}/revoke").status_code == 303
    visitor = browser()
    for token in (revoked, expired):
        assert visitor.get(f"/invitations/{token}").status_code == 404
        refused = visitor.submit(f"/invitations/{token}/accept", {"password": PASSWORD})
        assert refused.status_code == 404
    with session_scope(app.state.sessionmaker) as db:
        assert service.get_user_by_email(db, "a@x.test") is None


def test_reinviting_replaces_the_pending_invitation(
    app: FastAPI, team: dict[str, uuid.UUID], browser: BrowserFactory
) -> None:
    owner = as_(browser, "owner")
    owner.submit("/settings/members/invite", {"email": "a@x.test", "role": "member"})
    owner.submit("/settings/members/invite", {"email": "a@x.test", "role": "viewer"})
    first, second = (link_in(m, "/invitations") for m in mails_to(app, "a@x.test"))
    assert browser().get(f"/invitations/{first}").status_code == 404
    assert browser().get(f"/invitations/{second}").status_code == 200
    taken = owner.submit(
        "/settings/members/invite", {"email": "member@acme.test", "role": "member"}
    )
    assert taken.status_code == 422
    assert "already a member" in taken.text


# --- roles and permissions ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_and_viewers_cannot_manage(
    app: FastAPI, team: dict[str, uuid.UUID], browser: BrowserFactory, role: str
) -> None:
    client = as_(browser, role)
    page = client.get("/settings/members")
    assert page.status_code == 200
    assert "owner@acme.test" in page.text
    assert "invite-form" not in page.text
    target = team["viewer" if role == "member" else "member"]
    assert (
        client.submit(
            "/settings/members/invite", {"email": "z@x.test", "role": "viewer"}
        ).status_code
        == 403
    )
    assert client.submit(f"/settings/members/{target}/role", {"role": "admin"}).status_code == 403
    assert client.submit(f"/settings/members/{target}/remove").status_code == 403
    assert client.submit("/settings", {"name": "Renamed"}).status_code == 403
    assert role_of(app, target) in ("member", "viewer")
    assert mails_to(app, "z@x.test") == []


def test_admin_manages_non_owners_only(
    app: FastAPI, team: dict[str, uuid.UUID], browser: BrowserFactory
) -> None:
    admin = as_(browser, "admin")
    assert (
        admin.submit(f"/settings/members/{team['member']}/role", {"role": "viewer"}).status_code
        == 303
    )
    assert role_of(app, team["member"]) == "viewer"
    assert (
        admin.submit(f"/settings/members/{team['owner']}/role", {"role": "admin"}).status_code
        == 403
    )
    assert admin.submit(f"/settings/members/{team['owner']}/remove").status_code == 403
    assert (
        admin.submit(f"/settings/members/{team['viewer']}/role", {"role": "owner"}).status_code
        == 403
    )
    assert role_of(app, team["owner"]) == "owner"
    owner_invite = admin.submit("/settings/members/invite", {"email": "o@x.test", "role": "owner"})
    assert owner_invite.status_code == 422
    assert "Only an owner" in owner_invite.text
    assert (
        admin.submit(
            "/settings/members/invite", {"email": "ad@x.test", "role": "admin"}
        ).status_code
        == 303
    )
    assert admin.submit(f"/settings/members/{team['viewer']}/remove").status_code == 303
    assert role_of(app, team["viewer"]) is None
    assert admin.submit("/settings", {"name": "Acme Ltd"}).status_code == 303


def test_last_owner_is_protected(
    app: FastAPI, team: dict[str, uuid.UUID], browser: BrowserFactory
) -> None:
    owner = as_(browser, "owner")
    demote = owner.submit(f"/settings/members/{team['owner']}/role", {"role": "admin"})
    assert demote.status_code == 422
    assert "needs an owner" in demote.text
    remove = owner.submit(f"/settings/members/{team['owner']}/remove")
    assert remove.status_code == 422
    assert role_of(app, team["owner"]) == "owner"
    # With a second owner, the first may step down.
    assert (
        owner.submit(f"/settings/members/{team['admin']}/role", {"role": "owner"}).status_code
        == 303
    )
    assert (
        owner.submit(f"/settings/members/{team['owner']}/role", {"role": "member"}).status_code
        == 303
    )
    assert role_of(app, team["owner"]) == "member"


def test_role_change_by_htmx_returns_redirect_or_the_members_block(
    app: FastAPI, team: dict[str, uuid.UUID], browser: BrowserFactory
) -> None:
    owner = as_(browser, "owner")
    ok = owner.submit(f"/settings/members/{team['member']}/role", {"role": "admin"}, htmx=True)
    assert ok.status_code == 204
    assert ok.headers["HX-Redirect"] == "/settings/members"
    bad = owner.submit(f"/settings/members/{team['owner']}/role", {"role": "viewer"}, htmx=True)
    assert bad.status_code == 422
    assert "<html" not in bad.text
    assert 'id="members"' in bad.text
    assert "needs an owner" in bad.text


# --- switching and creating organisations ---------------------------------------------------------


def test_switch_only_to_organisations_you_belong_to(
    app: FastAPI, team: dict[str, uuid.UUID], browser: BrowserFactory
) -> None:
    _, corp = make_user(app, "boss@corp.test", org="Corp")
    client = browser()
    client.sign_in("admin@acme.test")  # also owns "admin@acme.test own"
    assert client.submit("/orgs/switch", {"org_id": str(team["org"])}).status_code == 303
    assert "Acme" in client.get("/settings").text
    assert client.submit("/orgs/switch", {"org_id": str(corp)}).status_code == 404
    assert client.submit("/orgs/switch", {"org_id": "not-a-uuid"}).status_code == 404
    assert client.submit("/orgs/switch", {}).status_code == 404
    assert "Acme" in client.get("/settings").text


def test_create_another_organisation(app: FastAPI, browser: BrowserFactory) -> None:
    client = browser()
    client.sign_up()
    empty = client.submit("/orgs", {"name": "  "})
    assert empty.status_code == 422
    assert client.submit("/orgs", {"name": "Second"}).status_code == 303
    page = client.get("/settings/members")
    assert "Second" in page.text
    with session_scope(app.state.sessionmaker) as db:
        user = service.get_user_by_email(db, "owner@example.com")
        assert user is not None
        assert {m.org.name: m.role for m in service.memberships_of(db, user.id)} == {
            "Acme": "owner",
            "Second": "owner",
        }


def test_a_removed_member_loses_access_at_once(
    app: FastAPI, team: dict[str, uuid.UUID], browser: BrowserFactory
) -> None:
    member = as_(browser, "member")
    assert "Acme" in member.get("/settings").text
    owner = as_(browser, "owner")
    assert owner.submit(f"/settings/members/{team['member']}/remove").status_code == 303
    assert "Acme" not in member.get("/settings").text  # back in their own organisation


def test_scan_interval_is_an_organisation_setting(
    app: FastAPI, team: dict[str, uuid.UUID], browser: BrowserFactory
) -> None:
    admin = as_(browser, "admin")
    page = admin.get("/settings").text
    assert 'name="scan_interval_hours"' in page
    assert '<option value="24" selected>Daily</option>' in page
    refused = admin.submit("/settings", {"name": "Acme", "scan_interval_hours": "5"})
    assert refused.status_code == 422
    assert "Choose one of the listed intervals." in refused.text
    assert 'value="Acme"' in refused.text, "what was typed is kept"
    saved = admin.submit("/settings", {"name": "Acme", "scan_interval_hours": "6"})
    assert saved.status_code == 303
    with session_scope(app.state.sessionmaker) as db:
        org = db.get_one(Organisation, team["org"])
        assert org.scan_interval_hours == 6
    member = as_(browser, "member")
    assert "clusters scanned every 6 hours" in member.get("/settings").text
    assert member.submit("/settings", {"name": "X", "scan_interval_hours": "1"}).status_code == 403
