"""Sign-in throttling: guessing from one address slows that address down, but never locks the
account: the right password from elsewhere still works, and waits expire by themselves."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import update

from app.accounts import service
from app.accounts.models import SignInAttempt
from app.db import session_scope, utcnow
from tests.accounts.helpers import make_user
from tests.conftest import PASSWORD, BrowserFactory

EMAIL = "victim@example.com"


def _attempt(browser: BrowserFactory, address: str, password: str, email: str = EMAIL) -> int:
    return (
        browser(address=address)
        .submit("/signin", {"email": email, "password": password})
        .status_code
    )


def _add_failures(app: FastAPI, *, email: str, addresses: list[str], ago: timedelta) -> None:
    with session_scope(app.state.sessionmaker) as db:
        for address in addresses:
            db.add(SignInAttempt(email=email, address=address, success=False, at=utcnow() - ago))


def test_failures_from_one_address_slow_that_address_only(
    app: FastAPI, browser: BrowserFactory
) -> None:
    make_user(app, EMAIL)
    limit = app.state.settings.signin_attempts_per_account
    attacker = browser(address="203.0.113.9")
    for _ in range(limit):
        response = attacker.submit("/signin", {"email": EMAIL, "password": "guess guess 1"})
        assert response.status_code == 422
    blocked = attacker.submit("/signin", {"email": EMAIL, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Try again in" in blocked.text
    # The owner, elsewhere, is not affected.
    assert _attempt(browser, "198.51.100.20", PASSWORD) == 303
    # Nor is another account from the attacker's address.
    make_user(app, "other@example.com")
    assert _attempt(browser, "203.0.113.9", PASSWORD, email="other@example.com") == 303


def test_the_wait_grows_then_expires(app: FastAPI) -> None:
    settings = app.state.settings
    limit = settings.signin_attempts_per_account
    make_user(app, EMAIL)
    _add_failures(app, email=EMAIL, addresses=["203.0.113.9"] * limit, ago=timedelta(0))
    with session_scope(app.state.sessionmaker) as db:
        result = service.authenticate(
            db, email=EMAIL, password=PASSWORD, address="203.0.113.9", settings=settings
        )
        assert result.user is None
        assert 25 <= result.retry_after <= 30  # the first wait: 30 seconds
        first_wait = result.retry_after
    _add_failures(app, email=EMAIL, addresses=["203.0.113.9"] * 3, ago=timedelta(0))
    with session_scope(app.state.sessionmaker) as db:
        longer = service.authenticate(
            db, email=EMAIL, password=PASSWORD, address="203.0.113.9", settings=settings
        ).retry_after
        assert longer > first_wait
        assert longer <= 15 * 60
    # Fifteen minutes later the failures no longer count.
    with session_scope(app.state.sessionmaker) as db:
        db.execute(update(SignInAttempt).values(at=utcnow() - timedelta(minutes=16)))
    with session_scope(app.state.sessionmaker) as db:
        result = service.authenticate(
            db, email=EMAIL, password=PASSWORD, address="203.0.113.9", settings=settings
        )
        assert result.user is not None


def test_a_distributed_attack_never_locks_the_account(
    app: FastAPI, browser: BrowserFactory
) -> None:
    make_user(app, EMAIL)
    addresses = [f"203.0.113.{n}" for n in range(1, 250)]
    _add_failures(app, email=EMAIL, addresses=addresses * 2, ago=timedelta(minutes=1))
    assert _attempt(browser, "198.51.100.20", PASSWORD) == 303


def test_a_success_resets_the_count_for_that_address(app: FastAPI, browser: BrowserFactory) -> None:
    make_user(app, EMAIL)
    limit = app.state.settings.signin_attempts_per_account
    for _ in range(limit - 1):
        assert _attempt(browser, "198.51.100.20", "typo typo typo") == 422
    assert _attempt(browser, "198.51.100.20", PASSWORD) == 303
    for _ in range(limit - 1):
        assert _attempt(browser, "198.51.100.20", "typo typo typo") == 422
    assert _attempt(browser, "198.51.100.20", PASSWORD) == 303


def test_credential_stuffing_from_one_address_is_slowed(
    app: FastAPI, browser: BrowserFactory
) -> None:
    make_user(app, EMAIL)
    limit = app.state.settings.signin_attempts_per_address
    with session_scope(app.state.sessionmaker) as db:
        for n in range(limit):
            db.add(
                SignInAttempt(
                    email=f"user{n}@example.com", address="203.0.113.9", success=False, at=utcnow()
                )
            )
    assert _attempt(browser, "203.0.113.9", PASSWORD) == 429
    assert _attempt(browser, "198.51.100.20", PASSWORD) == 303


def test_throttled_attempts_are_not_recorded_and_password_reset_still_works(
    app: FastAPI, browser: BrowserFactory
) -> None:
    make_user(app, EMAIL)
    limit = app.state.settings.signin_attempts_per_account
    _add_failures(app, email=EMAIL, addresses=["203.0.113.9"] * limit, ago=timedelta(0))
    client = browser(address="203.0.113.9")
    for _ in range(5):
        assert client.submit("/signin", {"email": EMAIL, "password": "x" * 12}).status_code == 429
    with session_scope(app.state.sessionmaker) as db:
        assert db.query(SignInAttempt).count() == limit
    assert client.submit("/password/forgot", {"email": EMAIL}).status_code == 200
