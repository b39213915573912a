"""Sign-up, sign-in, sign-out, sessions (cookie flags, rotation, idle and absolute expiry),
passwords (change, reset by emailed link), email verification, and the create-user service."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from app.accounts import service
from app.accounts.cookies import ANON_COOKIE, SESSION_COOKIE
from app.accounts.models import EmailToken, Membership, User, WebSession
from app.db import session_scope, utcnow
from app.security import token_hash
from tests.accounts.helpers import link_in, mails_to, make_user
from tests.conftest import PASSWORD, Browser, BrowserFactory, build_app, make_settings

NEW_PASSWORD = "a different passphrase 42"


def _session_rows(app: FastAPI) -> int:
    with session_scope(app.state.sessionmaker) as db:
        return int(db.scalar(select(func.count()).select_from(WebSession)) or 0)


def _user(app: FastAPI, email: str) -> User:
    with session_scope(app.state.sessionmaker) as db:
        user = service.get_user_by_email(db, email)
        assert user is not None
        return user


def _signed_in(client: Browser) -> bool:
    return client.get("/account", follow_redirects=False).status_code == 200


# --- first visit, sign-up, sign-in, sign-out ------------------------------------------------------


def test_first_visit_to_an_empty_instance_leads_to_signup(client: Browser) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signup"
    assert client.get("/signup").status_code == 200


def test_once_someone_signed_up_visitors_are_sent_to_signin(app: FastAPI, client: Browser) -> None:
    make_user(app, "first@example.com")
    response = client.get("/settings/members", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Fsettings%2Fmembers"


def test_htmx_request_without_a_session_gets_401_with_hx_redirect(
    app: FastAPI, client: Browser
) -> None:
    make_user(app, "first@example.com")
    response = client.get("/account", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/signin")


def test_sign_up_creates_user_owner_membership_and_session(app: FastAPI, client: Browser) -> None:
    response = client.sign_up("Owner@Example.com", org="Acme", name="Olive")
    assert response.headers["location"] == "/"
    with session_scope(app.state.sessionmaker) as db:
        user = service.get_user_by_email(db, "owner@example.com")
        assert user is not None
        assert user.email == "owner@example.com"  # normalised: unique case-insensitively
        assert user.password_hash
        assert user.password_hash.startswith("$argon2id$")
        assert user.email_verified_at is None
        (membership,) = service.memberships_of(db, user.id)
        assert membership.role == "owner"
        assert membership.org.name == "Acme"
    page = client.get("/settings")
    assert page.status_code == 200
    assert "Acme" in page.text


def test_sign_up_with_a_taken_email_in_other_case_is_refused(client: Browser) -> None:
    client.sign_up("owner@example.com")
    other = client.submit(
        "/signup", {"email": "OWNER@example.com", "password": PASSWORD, "org_name": "Two"}
    )
    assert other.status_code == 422
    assert "already exists" in other.text


def test_sign_in_and_sign_out(app: FastAPI, browser: BrowserFactory) -> None:
    make_user(app, "someone@example.com")
    client = browser()
    wrong = client.submit("/signin", {"email": "someone@example.com", "password": "nope nope 1"})
    assert wrong.status_code == 422
    assert "do not match" in wrong.text
    assert 'value="someone@example.com"' in wrong.text
    response = client.sign_in("SOMEONE@example.com")
    assert response.headers["location"] == "/"
    assert _signed_in(client)
    out = client.sign_out()
    assert out.status_code == 303
    assert out.headers["location"] == "/signin?notice=signed_out"
    assert not _signed_in(client)
    assert _session_rows(app) == 0


def test_sign_in_returns_to_a_local_next_only(app: FastAPI, browser: BrowserFactory) -> None:
    make_user(app, "someone@example.com")
    client = browser()
    data = {"email": "someone@example.com", "password": PASSWORD, "next": "/settings/members"}
    assert client.submit("/signin", data).headers["location"] == "/settings/members"
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        other = browser()
        data["next"] = evil
        assert other.submit("/signin", data).headers["location"] == "/"


# --- session cookie -------------------------------------------------------------------------------


def _set_cookie_header(response: object, name: str) -> str:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    (header,) = [h for h in headers if h.startswith(name + "=")]
    return str(header)


def test_session_cookie_flags_in_local_mode(app: FastAPI, client: Browser) -> None:
    first = client.get("/signup")
    anon = _set_cookie_header(first, ANON_COOKIE)
    response = client.sign_up()
    cookie = _set_cookie_header(response, SESSION_COOKIE)
    for header in (anon, cookie):
        lowered = header.lower()
        assert "httponly" in lowered
        assert "samesite=lax" in lowered
        assert "path=/" in lowered
        assert "secure" not in lowered


def test_session_cookie_is_secure_in_production_mode(tmp_path, database_url: str) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(
        tmp_path, database_url, mode="production", base_url="https://leftover.example"
    )
    app = build_app(settings)
    try:
        with Browser(app, base_url="https://testserver") as client:
            first = client.get("/signup")
            assert "secure" in _set_cookie_header(first, ANON_COOKIE).lower()
            response = client.sign_up()
            cookie = _set_cookie_header(response, SESSION_COOKIE).lower()
            assert "secure" in cookie
            assert "httponly" in cookie
            assert "samesite=lax" in cookie
            assert "Strict-Transport-Security" in client.get("/signin").headers
    finally:
        app.state.engine.dispose()


def test_session_id_rotates_at_sign_in(app: FastAPI, browser: BrowserFactory) -> None:
    make_user(app, "someone@example.com")
    client = browser()
    client.get("/signin")
    anon = client.cookies.get(ANON_COOKIE)
    planted = "attacker-chosen-session-value"
    client.cookies.set(SESSION_COOKIE, planted, domain="testserver.local")
    client.sign_in("someone@example.com")
    first = client.cookies.get(SESSION_COOKIE)
    assert first
    assert first not in (anon, planted)
    # Signing in again (e.g. as someone else on a shared machine) makes a new session and
    # ends the previous one.
    client.sign_in("someone@example.com")
    second = client.cookies.get(SESSION_COOKIE)
    assert second
    assert second != first
    stale = browser()
    stale.cookies.set(SESSION_COOKIE, first)
    assert not _signed_in(stale)
    assert _session_rows(app) == 1


def test_idle_session_expires(app: FastAPI, client: Browser) -> None:
    settings = app.state.settings
    client.sign_up()
    token = client.cookies.get(SESSION_COOKIE)
    assert token
    assert _signed_in(client)
    with session_scope(app.state.sessionmaker) as db:
        idle = timedelta(minutes=settings.session_idle_minutes)
        db.execute(
            update(WebSession)
            .where(WebSession.token_hash == token_hash(token))
            .values(last_seen_at=utcnow() - idle - timedelta(seconds=5))
        )
    response = client.get("/account", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin")
    assert SESSION_COOKIE + '=""' in response.headers.get("set-cookie", "")
    assert _session_rows(app) == 0


def test_activity_keeps_a_session_alive_until_its_absolute_expiry(
    app: FastAPI, client: Browser
) -> None:
    settings = app.state.settings
    client.sign_up()
    token = client.cookies.get(SESSION_COOKIE)
    assert token
    idle = timedelta(minutes=settings.session_idle_minutes)
    with session_scope(app.state.sessionmaker) as db:
        db.execute(
            update(WebSession)
            .where(WebSession.token_hash == token_hash(token))
            .values(last_seen_at=utcnow() - idle + timedelta(minutes=2))
        )
    assert _signed_in(client)  # touched: last_seen_at moves forward
    with session_scope(app.state.sessionmaker) as db:
        row = db.scalar(select(WebSession))
        assert row is not None
        assert utcnow() - row.last_seen_at < timedelta(minutes=1)
        assert row.expires_at - row.created_at == timedelta(hours=settings.session_absolute_hours)
        row.expires_at = utcnow() - timedelta(seconds=1)
    assert not _signed_in(client)
    assert _session_rows(app) == 0


def test_sign_out_revokes_the_session_server_side(app: FastAPI, browser: BrowserFactory) -> None:
    client = browser()
    client.sign_up()
    token = client.cookies.get(SESSION_COOKIE)
    assert token
    client.sign_out()
    replay = browser()
    replay.cookies.set(SESSION_COOKIE, token)
    assert not _signed_in(replay)


# --- passwords ------------------------------------------------------------------------------------


def test_change_password_ends_other_sessions(app: FastAPI, browser: BrowserFactory) -> None:
    laptop, phone = browser(), browser()
    laptop.sign_up()
    phone.sign_in("owner@example.com")
    wrong = laptop.submit(
        "/account",
        {"action": "password", "current_password": "not it at all", "new_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 422
    assert "not your current password" in wrong.text
    done = laptop.submit(
        "/account",
        {"action": "password", "current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert done.status_code == 303
    assert _signed_in(laptop)
    assert not _signed_in(phone)
    assert (
        browser()
        .submit("/signin", {"email": "owner@example.com", "password": PASSWORD})
        .status_code
        == 422
    )
    browser().sign_in("owner@example.com", password=NEW_PASSWORD)


def test_password_reset_end_to_end(app: FastAPI, browser: BrowserFactory) -> None:
    make_user(app, "someone@example.com")
    old_device = browser()
    old_device.sign_in("someone@example.com")
    client = browser()
    unknown = client.submit("/password/forgot", {"email": "nobody@example.com"})
    known = client.submit("/password/forgot", {"email": "Someone@example.com"})
    assert unknown.status_code == known.status_code == 200
    assert "If an account exists" in unknown.text
    assert "If an account exists" in known.text
    assert mails_to(app, "nobody@example.com") == []
    (mail,) = mails_to(app, "someone@example.com")
    assert ("mail.deliver", {"mail_id": str(mail.id)}) in app.state.sent_jobs
    token = link_in(mail, "/password/reset")
    assert client.get(f"/password/reset/{token}").status_code == 200

    weak = client.submit(f"/password/reset/{token}", {"password": "short"})
    assert weak.status_code == 422
    done = client.submit(f"/password/reset/{token}", {"password": NEW_PASSWORD})
    assert done.status_code == 303
    assert _signed_in(client)
    assert not _signed_in(old_device)  # every earlier session ends
    # Single use.
    assert client.get(f"/password/reset/{token}").status_code == 404
    again = browser().submit(f"/password/reset/{token}", {"password": "yet another one 77"})
    assert again.status_code == 404
    browser().sign_in("someone@example.com", password=NEW_PASSWORD)
    assert (
        browser()
        .submit("/signin", {"email": "someone@example.com", "password": PASSWORD})
        .status_code
        == 422
    )


def test_password_reset_link_expires_after_an_hour(app: FastAPI, client: Browser) -> None:
    make_user(app, "someone@example.com")
    client.submit("/password/forgot", {"email": "someone@example.com"})
    token = link_in(mails_to(app, "someone@example.com")[0], "/password/reset")
    with session_scope(app.state.sessionmaker) as db:
        row = db.scalar(select(EmailToken).where(EmailToken.token_hash == token_hash(token)))
        assert row is not None
        assert timedelta(minutes=59) < row.expires_at - row.created_at <= timedelta(hours=1)
        row.expires_at = utcnow() - timedelta(seconds=1)
    assert client.get(f"/password/reset/{token}").status_code == 404
    refused = client.submit(f"/password/reset/{token}", {"password": NEW_PASSWORD})
    assert refused.status_code == 404
    browser_login = client.submit("/signin", {"email": "someone@example.com", "password": PASSWORD})
    assert browser_login.status_code == 303  # the password did not change


# --- verification ---------------------------------------------------------------------------------


def test_email_verification(app: FastAPI, client: Browser) -> None:
    client.sign_up()
    (mail,) = mails_to(app, "owner@example.com")
    token = link_in(mail, "/verify")
    page = client.get(f"/verify/{token}")
    assert page.status_code == 200
    assert not _user(app, "owner@example.com").email_verified  # GET changes nothing
    assert client.submit(f"/verify/{token}").status_code == 303
    assert _user(app, "owner@example.com").email_verified
    assert client.get(f"/verify/{token}").status_code == 404  # single use
    assert client.submit(f"/verify/{token}").status_code == 404


def test_verification_can_be_resent(app: FastAPI, client: Browser) -> None:
    client.sign_up()
    assert "Confirm your email" in client.get("/account").text
    assert client.submit("/verify/resend").status_code == 303
    assert len(mails_to(app, "owner@example.com")) == 2
    token = link_in(mails_to(app, "owner@example.com")[-1], "/verify")
    client.submit(f"/verify/{token}")
    assert "Confirm your email" not in client.get("/account").text


# --- secrets stay secret --------------------------------------------------------------------------


def test_passwords_are_never_rendered_or_logged(
    app: FastAPI, browser: BrowserFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    marker = "Sekrit-Marker-Passphrase-991"
    client = browser()
    responses = [
        client.submit("/signup", {"email": "bad", "password": marker, "org_name": "Acme"}),
        client.submit("/signin", {"email": "x@example.com", "password": marker}),
    ]
    client.sign_up()
    responses.append(
        client.submit(
            "/account",
            {"action": "password", "current_password": marker, "new_password": marker + "x"},
        )
    )
    for response in responses:
        assert response.status_code in (422, 429)
        assert marker not in response.text
    assert marker not in caplog.text
    with session_scope(app.state.sessionmaker) as db:
        hashes = db.scalars(select(User.password_hash)).all()
        assert all(marker not in (h or "") for h in hashes)


# --- create-user (CLI service) --------------------------------------------------------------------


def test_create_user_with_org(app: FastAPI, client: Browser) -> None:
    user_id, org_id = make_user(app, "Admin@Example.com", org="Ops")
    with session_scope(app.state.sessionmaker) as db:
        user = db.get_one(User, user_id)
        assert user.email == "admin@example.com"
        assert user.email_verified
        membership = db.scalar(select(Membership).where(Membership.user_id == user_id))
        assert membership is not None
        assert (membership.org_id, membership.role) == (org_id, "owner")
        for bad in (
            {"email": "admin@example.com", "password": PASSWORD, "org_name": "X"},
            {"email": "not-an-email", "password": PASSWORD, "org_name": "X"},
            {"email": "b@example.com", "password": "short", "org_name": "X"},
            {"email": "b@example.com", "password": PASSWORD, "org_name": " "},
        ):
            with pytest.raises(ValueError):  # noqa: PT011 - the message is for the CLI user
                service.create_user_with_org(db, **bad)
    client.sign_in("admin@example.com")
