"""Sign-in with Google, GitHub and Microsoft against a fake identity provider (a real HTTP
server on 127.0.0.1, tests/fakes/idp.py). The test plays the browser: it follows the app's
redirect to the fake /authorize, takes the redirect back and opens the callback; the app talks
to the fake's token, JWKS and API endpoints over real HTTP."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.accounts import oidc, oidc_routes, service
from app.accounts.cookies import SESSION_COOKIE
from app.accounts.models import ExternalIdentity, Invitation, Organisation, User, WebSession
from app.config import Settings
from app.db import session_scope
from app.security import token_hash
from tests.accounts.helpers import link_in, mails_to, make_user
from tests.conftest import Browser, BrowserFactory, build_app, make_settings
from tests.fakes.idp import HOME_TENANT_ID, FakeIdP

CLIENTS = {"google-client": "google-secret", "gh-client": "gh-secret", "ms-client": "ms-secret"}
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
NOT_VERIFIED = "answer could not be verified"


def provider_settings(idp: FakeIdP, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "google_client_id": "google-client",
        "google_client_secret": "google-secret",
        "google_metadata_url": idp.google_metadata_url(),
        "github_client_id": "gh-client",
        "github_client_secret": "gh-secret",
        "github_base_url": idp.url,
        "github_api_url": idp.url + "/api",
        "microsoft_client_id": "ms-client",
        "microsoft_client_secret": "ms-secret",
        "microsoft_tenant": "common",
        "microsoft_metadata_url": idp.microsoft_metadata_template(),
    }
    values.update(overrides)
    return values


@pytest.fixture
def idp() -> Iterator[FakeIdP]:
    with FakeIdP(clients=CLIENTS) as fake:
        yield fake


@pytest.fixture
def settings(tmp_path: Path, database_url: str, idp: FakeIdP) -> Settings:
    """Every provider enabled and pointed at the fake (overrides conftest's ``settings``)."""
    return make_settings(tmp_path, database_url, **provider_settings(idp))


def wired(app: FastAPI) -> FastAPI:
    """The app with the sign-in router; a no-op once app.main includes it (the lead's wiring)."""
    if not any(getattr(r, "path", "") == "/auth/{provider}/start" for r in app.routes):
        app.include_router(oidc_routes.router)
    return app


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    made = wired(build_app(settings))
    yield made
    made.state.engine.dispose()


AppMaker = Callable[..., tuple[FastAPI, Browser]]


@pytest.fixture
def other_app(tmp_path: Path, database_url: str) -> Iterator[AppMaker]:
    """Another app on the same database with different settings, and a browser for it."""
    made: list[tuple[FastAPI, Browser]] = []

    def make(**values: Any) -> tuple[FastAPI, Browser]:
        app = wired(build_app(make_settings(tmp_path, database_url, **values)))
        client = Browser(app, base_url="http://testserver")
        made.append((app, client))
        return app, client

    yield make
    for app, client in made:
        client.close()
        app.state.engine.dispose()


# --- playing the browser -------------------------------------------------------------------------


def to_callback(client: Browser, provider: str, idp: FakeIdP, *, query: str = "") -> str:
    """Start at the app, visit the fake provider, and return the callback URL it sends back."""
    start = client.get(f"/auth/{provider}/start{query}", follow_redirects=False)
    assert start.status_code == 302, start.text
    location = start.headers["location"]
    assert location.startswith(idp.url + "/")
    with httpx.Client(trust_env=False) as provider_side:
        answer = provider_side.get(location, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    callback = answer.headers["location"]
    assert callback.startswith(f"http://testserver/auth/{provider}/callback?")
    return callback


def sign_in_with(
    client: Browser, provider: str, idp: FakeIdP, *, query: str = ""
) -> httpx.Response:
    callback = to_callback(client, provider, idp, query=query)
    response: httpx.Response = client.get(callback, follow_redirects=False)
    return response


def assert_signed_in(response: httpx.Response, client: Browser) -> None:
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"
    assert client.get("/account", follow_redirects=False).status_code == 200


def assert_refused(response: httpx.Response, client: Browser, text: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert "Sign in to Leftover" in response.text
    assert text in response.text
    assert SESSION_COOKIE not in response.cookies
    assert client.get("/account", follow_redirects=False).status_code == 303


def users(app: FastAPI) -> list[User]:
    with session_scope(app.state.sessionmaker) as db:
        found = list(db.scalars(select(User).order_by(User.email)))
        db.expunge_all()
        return found


def org_names_of(app: FastAPI, email: str) -> list[str]:
    with session_scope(app.state.sessionmaker) as db:
        user = service.get_user_by_email(db, email)
        assert user is not None
        return [m.org.name for m in service.memberships_of(db, user.id)]


def identities(app: FastAPI) -> list[tuple[str, str, str | None]]:
    with session_scope(app.state.sessionmaker) as db:
        rows = db.scalars(select(ExternalIdentity).order_by(ExternalIdentity.provider))
        return [(r.provider, r.subject, r.email) for r in rows]


def replace_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


# --- Google (OIDC) ------------------------------------------------------------------------------


def test_first_google_sign_in_creates_a_verified_user_and_their_organisation(
    app: FastAPI, client: Browser, idp: FakeIdP
) -> None:
    response = sign_in_with(client, "google", idp)
    assert_signed_in(response, client)
    (user,) = users(app)
    assert user.email == "ada@example.com"
    assert user.display_name == "Ada Lovelace"
    assert user.email_verified
    assert user.password_hash is None
    assert org_names_of(app, "ada@example.com") == ["Ada Lovelace's organisation"]
    assert identities(app) == [("google", "google-sub-1", "ada@example.com")]
    # The request carried PKCE (S256) and a nonce; the token request the matching verifier.
    (asked,) = idp.authorize_requests
    assert asked["code_challenge_method"] == "S256"
    assert asked["nonce"]
    assert asked["scope"] == "openid email profile"
    assert asked["redirect_uri"] == "http://testserver/auth/google/callback"
    (exchange,) = idp.token_requests
    assert len(exchange["code_verifier"]) >= 43
    page = client.get("/")
    assert page.status_code == 200
    assert "Ada Lovelace&#39;s organisation" in page.text or "Ada Lovelace's organisation" in (
        page.text
    )


def test_second_sign_in_links_the_same_user(app: FastAPI, client: Browser, idp: FakeIdP) -> None:
    assert_signed_in(sign_in_with(client, "google", idp), client)
    client.sign_out()
    idp.user.email = "ada@new.example.com"  # the provider's email changed; the subject did not
    assert_signed_in(sign_in_with(client, "google", idp), client)
    (user,) = users(app)
    assert user.email == "ada@example.com"
    assert identities(app) == [("google", "google-sub-1", "ada@new.example.com")]
    with session_scope(app.state.sessionmaker) as db:
        assert db.scalar(select(func.count()).select_from(Organisation)) == 1


def test_existing_password_user_with_the_same_email_is_linked(
    app: FastAPI, client: Browser, idp: FakeIdP
) -> None:
    user_id, _ = make_user(app, "ada@example.com", org="Analytical Engines")
    assert_signed_in(sign_in_with(client, "google", idp), client)
    (user,) = users(app)
    assert user.id == user_id
    assert user.password_hash is not None  # a verified account keeps its password
    assert org_names_of(app, "ada@example.com") == ["Analytical Engines"]
    assert identities(app) == [("google", "google-sub-1", "ada@example.com")]
    client.sign_out()
    client.sign_in("ada@example.com")  # both ways in still work


def test_linking_an_unverified_account_marks_it_verified_and_drops_what_a_squatter_set(
    app: FastAPI, browser: BrowserFactory, idp: FakeIdP
) -> None:
    squatter = browser(address="10.0.0.66")
    squatter.sign_up("ada@example.com", org="Squatted")  # never proved the address
    owner = browser()
    assert_signed_in(sign_in_with(owner, "google", idp), owner)
    (user,) = users(app)
    assert user.email_verified
    assert user.password_hash is None  # the password nobody proved is gone
    assert squatter.get("/account", follow_redirects=False).status_code == 303  # session ended


def test_unverified_google_email_is_refused(app: FastAPI, client: Browser, idp: FakeIdP) -> None:
    idp.user.email_verified = False
    response = sign_in_with(client, "google", idp)
    assert_refused(response, client, "Google has not confirmed that ada@example.com is yours")
    assert users(app) == []


def test_missing_email_verified_claim_counts_as_unverified(
    app: FastAPI, client: Browser, idp: FakeIdP
) -> None:
    idp.user.email_verified = None
    assert_refused(sign_in_with(client, "google", idp), client, "has not confirmed")
    assert users(app) == []


def test_email_from_userinfo_when_the_id_token_has_none(
    app: FastAPI, client: Browser, idp: FakeIdP
) -> None:
    idp.knobs.omit_email_in_id_token = True
    assert_signed_in(sign_in_with(client, "google", idp), client)
    assert [u.email for u in users(app)] == ["ada@example.com"]
    assert "/google/userinfo" in idp.requests


def test_cancelled_at_the_provider(app: FastAPI, client: Browser, idp: FakeIdP) -> None:
    idp.knobs.error = "access_denied"
    response = sign_in_with(client, "google", idp)
    assert_refused(response, client, "Signing in with Google was cancelled")
    assert users(app) == []


def test_other_provider_errors_never_echo_free_text(client: Browser, idp: FakeIdP) -> None:
    idp.knobs.error = "Call 555-0100 to unlock your account"
    response = sign_in_with(client, "google", idp)
    assert_refused(response, client, "Google could not sign you in. Try again.")
    assert "555-0100" not in response.text
    idp.knobs.error = "server_error"
    assert (
        "Google could not sign you in (server_error)." in sign_in_with(client, "google", idp).text
    )


def test_state_mismatch_is_refused(app: FastAPI, client: Browser, idp: FakeIdP) -> None:
    callback = to_callback(client, "google", idp)
    response = client.get(replace_query(callback, state="forged"), follow_redirects=False)
    assert_refused(response, client, "expired or was started in another browser")
    assert idp.token_requests == []  # the code was never exchanged
    assert users(app) == []


def test_callback_in_another_browser_is_refused(
    app: FastAPI, browser: BrowserFactory, idp: FakeIdP
) -> None:
    """Login CSRF: a callback URL made by one browser does nothing in another."""
    attacker, victim = browser(address="10.0.0.66"), browser()
    callback = to_callback(attacker, "google", idp)
    response = victim.get(callback, follow_redirects=False)
    assert_refused(response, victim, "expired or was started in another browser")
    assert users(app) == []


def test_a_callback_works_once(app: FastAPI, client: Browser, idp: FakeIdP) -> None:
    callback = to_callback(client, "google", idp)
    assert_signed_in(client.get(callback, follow_redirects=False), client)
    client.sign_out()
    again = client.get(callback, follow_redirects=False)
    assert again.status_code == 400
    assert "expired or was started in another browser" in again.text


def test_flow_cookie_is_sealed_short_lived_and_scoped(client: Browser, idp: FakeIdP) -> None:
    start = client.get("/auth/google/start?invitation=secret-invite", follow_redirects=False)
    cookie = next(
        c for c in start.headers.get_list("set-cookie") if c.startswith(oidc.FLOW_COOKIE + "=")
    )
    lowered = cookie.lower()
    assert "httponly" in lowered
    assert "samesite=lax" in lowered
    assert "path=/auth/" in lowered
    assert f"max-age={oidc.FLOW_TTL_SECONDS}" in lowered
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    value = cookie.split(";")[0].split("=", 1)[1]
    assert state not in value
    assert "secret-invite" not in value  # encrypted, not just signed


@pytest.mark.parametrize(
    ("knob", "value"),
    [
        ("tampered", True),
        ("wrong_key", True),
        ("expired", True),
        ("audience", "someone-else"),
        ("nonce", "replayed-nonce"),
        ("issuer", "https://evil.example.com"),
    ],
)
def test_bad_id_tokens_are_refused(
    app: FastAPI, client: Browser, idp: FakeIdP, knob: str, value: Any
) -> None:
    setattr(idp.knobs, knob, value)
    response = sign_in_with(client, "google", idp)
    assert_refused(response, client, NOT_VERIFIED)
    assert users(app) == []
    assert identities(app) == []


def test_provider_unreachable_is_a_clear_error_not_a_500(other_app: AppMaker, idp: FakeIdP) -> None:
    closed = FakeIdP(clients=CLIENTS)  # bound but never serving, then closed
    url = closed.google_metadata_url()
    closed.__exit__()
    _, client = other_app(google_client_id="g", google_metadata_url=url)
    response = client.get("/auth/google/start", follow_redirects=False)
    assert response.status_code == 502
    assert "Leftover could not reach Google" in response.text


def test_providers_not_configured_are_404_and_have_no_button(
    other_app: AppMaker, idp: FakeIdP
) -> None:
    _, client = other_app(github_client_id="gh-client", github_client_secret="gh-secret")
    for path in ("/auth/google/start", "/auth/google/callback", "/auth/microsoft/start"):
        assert client.get(path, follow_redirects=False).status_code == 404, path
    assert client.get("/auth/facebook/start", follow_redirects=False).status_code == 404
    page = client.get("/signin").text
    assert 'href="/auth/github/start"' in page
    assert "/auth/google/start" not in page
    assert "/auth/microsoft/start" not in page


def test_signin_page_offers_every_configured_provider(client: Browser) -> None:
    page = client.get("/signin").text
    for key in ("google", "github", "microsoft"):
        assert f'href="/auth/{key}/start"' in page


def test_session_id_is_rotated(app: FastAPI, client: Browser, idp: FakeIdP) -> None:
    make_user(app, "ada@example.com")
    client.sign_in("ada@example.com")
    before = client.cookies.get(SESSION_COOKIE)
    assert before
    assert_signed_in(sign_in_with(client, "google", idp), client)
    after = client.cookies.get(SESSION_COOKIE)
    assert after
    assert after != before
    with session_scope(app.state.sessionmaker) as db:
        hashes = set(db.scalars(select(WebSession.token_hash)))
    assert token_hash(before) not in hashes
    assert token_hash(after) in hashes


def test_invitation_is_accepted_through_the_flow(
    app: FastAPI, browser: BrowserFactory, idp: FakeIdP
) -> None:
    make_user(app, "owner@example.com", org="Acme")
    owner = browser(address="10.0.0.1")
    owner.sign_in("owner@example.com")
    sent = owner.submit("/settings/members/invite", {"email": "ada@example.com", "role": "member"})
    assert sent.status_code == 303, sent.text
    token = link_in(mails_to(app, "ada@example.com")[-1], "/invitations")
    ada = browser()
    response = sign_in_with(ada, "google", idp, query=f"?invitation={token}")
    assert response.status_code == 303
    assert "Welcome to Acme." in ada.get("/").text  # the first page shows the one-shot toast
    assert org_names_of(app, "ada@example.com") == ["Acme"]  # no organisation of her own
    with session_scope(app.state.sessionmaker) as db:
        invitation = db.scalar(select(Invitation).where(Invitation.email == "ada@example.com"))
        assert invitation is not None
        assert invitation.accepted_at is not None


def test_a_dead_invitation_still_signs_in_and_says_so(
    app: FastAPI, client: Browser, idp: FakeIdP
) -> None:
    response = sign_in_with(client, "google", idp, query="?invitation=nope")
    assert response.status_code == 303
    assert "That invitation is no longer valid" in client.get("/").text
    assert org_names_of(app, "ada@example.com") == ["Ada Lovelace's organisation"]


def test_no_token_is_logged(
    client: Browser, idp: FakeIdP, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert_signed_in(sign_in_with(client, "google", idp), client)
    client.sign_out()
    idp.knobs.audience = "someone-else"
    sign_in_with(client, "google", idp)
    assert idp.issued
    # Everything logged while the app served requests (TestClient runs routes in worker
    # threads), by the app and the libraries it uses — not the test playing the browser, whose
    # own request lines carry the callback URL, as a proxy's access log would.
    logged = "\n".join(r.getMessage() for r in caplog.records if r.threadName != "MainThread")
    assert "/token" in logged  # the app's own HTTP traffic is in what is checked
    assert "sign-in with google refused: bad_claim" in logged
    for secret in [*idp.issued, *CLIENTS.values()]:
        assert secret not in logged


# --- GitHub (OAuth 2 + API) ----------------------------------------------------------------------


def test_github_sign_in_uses_the_verified_primary_email(
    app: FastAPI, client: Browser, idp: FakeIdP
) -> None:
    assert_signed_in(sign_in_with(client, "github", idp), client)
    (user,) = users(app)
    assert user.email == "ada@example.com"
    assert user.display_name == "Ada Lovelace"
    assert identities(app) == [("github", "4242", "ada@example.com")]
    assert org_names_of(app, "ada@example.com") == ["Ada Lovelace's organisation"]
    (asked,) = idp.authorize_requests
    assert asked["path"] == "/login/oauth/authorize"
    assert asked["code_challenge_method"] == "S256"
    assert asked["scope"] == "read:user user:email"
    client.sign_out()
    assert_signed_in(sign_in_with(client, "github", idp), client)  # same identity again
    assert len(users(app)) == 1


def test_github_unverified_primary_email_is_refused(
    app: FastAPI, client: Browser, idp: FakeIdP
) -> None:
    idp.github_user.emails = [
        {"email": "ada@example.com", "primary": True, "verified": False},
        {"email": "ada@verified.example.com", "primary": False, "verified": True},
    ]
    response = sign_in_with(client, "github", idp)
    assert_refused(response, client, "Verify the address on GitHub")
    assert users(app) == []


def test_github_without_a_name_uses_the_login(app: FastAPI, client: Browser, idp: FakeIdP) -> None:
    idp.github_user.name = None
    assert_signed_in(sign_in_with(client, "github", idp), client)
    assert org_names_of(app, "ada@example.com") == ["ada's organisation"]


def test_github_bad_code_is_refused(app: FastAPI, client: Browser, idp: FakeIdP) -> None:
    callback = to_callback(client, "github", idp)
    response = client.get(replace_query(callback, code="not-a-code"), follow_redirects=False)
    assert_refused(response, client, NOT_VERIFIED)


# --- Microsoft (OIDC with a tenant) --------------------------------------------------------------


def test_microsoft_common_tenant(app: FastAPI, client: Browser, idp: FakeIdP) -> None:
    idp.user.sub = "ms-sub-1"
    assert_signed_in(sign_in_with(client, "microsoft", idp), client)
    assert identities(app) == [("microsoft", "ms-sub-1", "ada@example.com")]
    (asked,) = idp.authorize_requests
    assert asked["path"] == "/ms/common/oauth2/v2.0/authorize"
    assert "/ms/common/v2.0/.well-known/openid-configuration" in idp.requests


def test_microsoft_specific_tenant(other_app: AppMaker, idp: FakeIdP) -> None:
    app, client = other_app(**provider_settings(idp, microsoft_tenant=TENANT))
    idp.user.sub = "ms-sub-2"
    assert_signed_in(sign_in_with(client, "microsoft", idp), client)
    (asked,) = idp.authorize_requests
    assert asked["path"] == f"/ms/{TENANT}/oauth2/v2.0/authorize"
    assert identities(app) == [("microsoft", "ms-sub-2", "ada@example.com")]


def test_microsoft_token_from_another_tenant_is_refused(other_app: AppMaker, idp: FakeIdP) -> None:
    app, client = other_app(**provider_settings(idp, microsoft_tenant=TENANT))
    idp.knobs.issuer = f"{idp.url}/ms/{HOME_TENANT_ID}/v2.0"
    assert_refused(sign_in_with(client, "microsoft", idp), client, NOT_VERIFIED)
    assert users(app) == []


def test_microsoft_verified_domain_claim_counts_as_verified(
    app: FastAPI, client: Browser, idp: FakeIdP
) -> None:
    idp.user.email_verified = None  # Microsoft does not send email_verified
    idp.user.extra = {"xms_edov": True}
    assert_signed_in(sign_in_with(client, "microsoft", idp), client)
    idp.user.extra = {}
    client.sign_out()
    assert_refused(sign_in_with(client, "microsoft", idp), client, "has not confirmed")


def test_microsoft_bad_tenant_setting_is_404(other_app: AppMaker, idp: FakeIdP) -> None:
    _, client = other_app(**provider_settings(idp, microsoft_tenant="../evil?x="))
    assert client.get("/auth/microsoft/start", follow_redirects=False).status_code == 404
