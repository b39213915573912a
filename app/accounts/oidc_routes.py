"""Sign-in through an identity provider: /auth/{provider}/start sends the browser to the
provider, /auth/{provider}/callback finishes it. A refusal re-renders the sign-in page with a
plain-words reason; an unknown or disabled provider is a 404."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from app.accounts import external, oidc, service
from app.accounts.cookies import set_session_cookie
from app.config import Settings
from app.deps import AppSettings, DbSession, VisitorDep
from app.web import render

router = APIRouter()
log = logging.getLogger("leftover.accounts.oidc")

MAX_INVITATION_TOKEN = 200


def _provider(settings: Settings, key: str) -> oidc.Provider:
    try:
        found = oidc.get_provider(settings, key)
    except oidc.SignInRefused:
        found = None  # a misconfigured provider is treated as not offered
    if found is None:
        raise HTTPException(status_code=404)
    return found


def _set_flow_cookie(response: Response, value: str, *, settings: Settings) -> None:
    response.set_cookie(
        oidc.FLOW_COOKIE,
        value,
        max_age=oidc.FLOW_TTL_SECONDS,
        path=oidc.FLOW_COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def _drop_flow_cookie(response: Response, *, settings: Settings) -> None:
    response.delete_cookie(
        oidc.FLOW_COOKIE,
        path=oidc.FLOW_COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def _refused(
    request: Request, provider: oidc.Provider, exc: oidc.SignInRefused, *, settings: Settings
) -> Response:
    """The sign-in page with the reason; the flow cookie goes (every flow is single-use)."""
    log.warning("sign-in with %s refused: %s", provider.key, exc.reason)
    ctx = {"values": {"next": "/"}, "errors": {}, "error": exc.message, "notice": None}
    response = render(
        request, "accounts/signin.html", ctx, block="signin_form", status_code=exc.status_code
    )
    _drop_flow_cookie(response, settings=settings)
    return response


@router.get("/auth/{provider}/start")
def start(request: Request, provider: str, settings: AppSettings) -> Response:
    """Send the browser to the provider, with this browser's flow sealed in a cookie."""
    found = _provider(settings, provider)
    invitation = request.query_params.get("invitation") or None
    if invitation is not None and len(invitation) > MAX_INVITATION_TOKEN:
        invitation = None
    try:
        with oidc.http_client() as http:
            url, flow = oidc.begin(http, found, settings=settings, invitation=invitation)
    except oidc.SignInRefused as exc:
        return _refused(request, found, exc, settings=settings)
    response = RedirectResponse(url, status_code=302)
    _set_flow_cookie(response, oidc.seal(flow, settings=settings), settings=settings)
    return response


@router.get("/auth/{provider}/callback")
def callback(
    request: Request, provider: str, db: DbSession, settings: AppSettings, visitor: VisitorDep
) -> Response:
    """Finish the flow this browser started: verify, find or create the user, rotate the
    session exactly as a password sign-in does, accept a carried invitation, go home."""
    found = _provider(settings, provider)
    params = request.query_params
    flow = oidc.unseal(request.cookies.get(oidc.FLOW_COOKIE), settings=settings)
    try:
        if flow is None or not oidc.state_matches(flow, found, params.get("state", "")):
            raise oidc.flow_expired()
        if params.get("error"):
            raise oidc.refused_by_provider(found, params["error"])
        with oidc.http_client() as http:
            profile = oidc.finish(http, found, flow, code=params.get("code", ""), settings=settings)
    except oidc.SignInRefused as exc:
        return _refused(request, found, exc, settings=settings)

    invitation = service.find_invitation(db, flow.invitation) if flow.invitation else None
    user = external.sign_in_external(
        db,
        provider=profile.provider,
        subject=profile.subject,
        email=profile.email,
        display_name=profile.display_name,
        own_org=invitation is None,
    )
    org_id = None
    if invitation is not None:
        service.accept_invitation(db, invitation, user=user)
        org_id = invitation.org_id
    web_session, token = service.start_session(
        db, user, settings=settings, org_id=org_id, previous_token=visitor.token
    )
    if invitation is not None:
        service.add_toast(web_session, "success", f"Welcome to {invitation.org.name}.")
    elif flow.invitation:
        service.add_toast(
            web_session,
            "error",
            "That invitation is no longer valid (expired, revoked or already used). "
            "Ask for a new one.",
        )
    log.info("signed in with %s: user %s", found.key, user.id)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, token, settings=settings)
    _drop_flow_cookie(response, settings=settings)
    return response
