"""The two visitor cookies and the middleware that keeps the anonymous one in place.

``leftover_session`` carries a signed-in session's token (set at sign-in, cleared at sign-out
or when the server finds it expired). ``leftover_anon`` is a random value every visitor gets on
their first request; before sign-in the CSRF token is derived from it. Both are HttpOnly,
SameSite=Lax, Path=/ and Secure outside local mode.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response

from app.config import Settings
from app.security import csrf_token, new_token

SESSION_COOKIE = "leftover_session"
ANON_COOKIE = "leftover_anon"
ANON_MAX_AGE = 60 * 60 * 24 * 30

IDENTITY_PROVIDERS = (("google", "Google"), ("github", "GitHub"), ("microsoft", "Microsoft"))


def set_cookie(
    response: Response, name: str, value: str, *, settings: Settings, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def set_session_cookie(response: Response, token: str, *, settings: Settings) -> None:
    """Give the browser the new session token (lives until the absolute expiry)."""
    set_cookie(
        response,
        SESSION_COOKIE,
        token,
        settings=settings,
        max_age=settings.session_absolute_hours * 3600,
    )


def clear_session_cookie(response: Response, *, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=settings.secure_cookies
    )


def anon_value(request: Request) -> str:
    """This visitor's anonymous cookie value (just issued by the middleware if it was absent)."""
    return request.cookies.get(ANON_COOKIE) or getattr(request.state, "new_anon", "") or ""


def identity_providers(settings: Settings) -> list[dict[str, str]]:
    return [
        {"key": key, "label": label}
        for key, label in IDENTITY_PROVIDERS
        if getattr(settings, f"{key}_client_id", None)
    ]


def anonymous_page(request: Request, settings: Settings) -> dict[str, Any]:
    """The page context before (or without) the database: nobody signed in."""
    cookie = request.cookies.get(SESSION_COOKIE) or anon_value(request)
    return {
        "user": None,
        "org": None,
        "role": None,
        "memberships": [],
        "csrf_token": csrf_token(settings.signing_key(), cookie),
        "toasts": [],
        "nav": None,
        "local_mode": settings.local,
        "identity_providers": identity_providers(settings),
    }


def visitor_cookies(
    settings: Settings,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """Middleware: issue the anonymous cookie, set the default page context, and drop a
    session cookie that the request found to be dead."""

    async def middleware(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.url.path.startswith("/static/"):
            return await call_next(request)
        issued = None
        if not request.cookies.get(ANON_COOKIE):
            issued = new_token()
            request.state.new_anon = issued
        request.state.page = anonymous_page(request, settings)
        response = await call_next(request)
        if issued:
            set_cookie(response, ANON_COOKIE, issued, settings=settings, max_age=ANON_MAX_AGE)
        if getattr(request.state, "drop_session_cookie", False) and not _sets_session(response):
            clear_session_cookie(response, settings=settings)
        return response

    return middleware


def _sets_session(response: Response) -> bool:
    prefix = SESSION_COOKIE + "="
    return any(v.startswith(prefix) for v in response.headers.getlist("set-cookie"))
