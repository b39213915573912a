"""Accounts pages: sign-up, sign-in/out, passwords, verification, account, organisations,
members and invitations. Thin: parse the form, call the service, render or redirect."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from app.accounts import schemas, service
from app.accounts.cookies import clear_session_cookie, set_session_cookie
from app.accounts.models import ROLE_RANK, ROLE_VALUES, Invitation, Membership, Role, User
from app.deps import (
    AdminOrg,
    AppSettings,
    CurrentOrg,
    CurrentUser,
    DbSession,
    FormFields,
    OrgContext,
    VisitorDep,
    org_loader,
    safe_next,
)
from app.web import is_htmx, render

router = APIRouter()

SECRET_FIELDS = frozenset({"password", "current_password", "new_password", "csrf_token"})
SIGNED_IN_MESSAGES = {
    "signed_out": "You are signed out.",
    "verified": "Your email is confirmed. Sign in to continue.",
}


def _done(request: Request, url: str) -> Response:
    """After a successful POST: HX-Redirect for HTMX, 303 See Other for a plain form."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _values(data: dict[str, str]) -> dict[str, str]:
    """What the user typed, to put back in the form — never passwords."""
    return {k: v for k, v in data.items() if k not in SECRET_FIELDS}


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _sign_in(
    request: Request,
    db: Any,
    user: User,
    *,
    settings: AppSettings,
    visitor: VisitorDep,
    url: str,
    org_id: uuid.UUID | None = None,
) -> Response:
    """A fresh session (the old one, if any, is deleted) and a redirect carrying its cookie."""
    _, token = service.start_session(
        db, user, settings=settings, org_id=org_id, previous_token=visitor.token
    )
    response = _done(request, url)
    set_session_cookie(response, token, settings=settings)
    return response


# Sign-up, sign-in, sign-out ---------------------------------------------------------------------


@router.get("/signup")
def signup_page(request: Request, visitor: VisitorDep) -> Response:
    if visitor.user is not None:
        return RedirectResponse("/", status_code=303)
    return render(
        request, "accounts/signup.html", {"values": {}, "errors": {}}, block="signup_form"
    )


@router.post("/signup")
def signup(
    request: Request, db: DbSession, settings: AppSettings, visitor: VisitorDep, data: FormFields
) -> Response:
    form, errors = schemas.parse_form(schemas.SignUpForm, data)
    if form is not None:
        try:
            user, org = service.sign_up(
                db,
                email=form.email,
                password=form.password,
                org_name=form.org_name,
                display_name=form.display_name,
                base_url=settings.base_url,
            )
        except service.FormError as exc:
            errors = {exc.field: exc.message}
        else:
            response = _sign_in(
                request, db, user, settings=settings, visitor=visitor, url="/", org_id=org.id
            )
            return response
    ctx = {"values": _values(data), "errors": errors}
    return render(request, "accounts/signup.html", ctx, block="signup_form", status_code=422)


@router.get("/signin")
def signin_page(request: Request, visitor: VisitorDep, next: str = "/") -> Response:
    if visitor.user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    notice = SIGNED_IN_MESSAGES.get(request.query_params.get("notice", ""))
    ctx = {"values": {"next": safe_next(next)}, "errors": {}, "error": None, "notice": notice}
    return render(request, "accounts/signin.html", ctx, block="signin_form")


@router.post("/signin")
def signin(
    request: Request, db: DbSession, settings: AppSettings, visitor: VisitorDep, data: FormFields
) -> Response:
    values = _values(data)
    values["next"] = safe_next(data.get("next"))
    form, errors = schemas.parse_form(schemas.SignInForm, data)
    error, status = None, 422
    if form is not None:
        result = service.authenticate(
            db,
            email=form.email,
            password=form.password,
            address=_address(request),
            settings=settings,
        )
        if result.user is not None:
            return _sign_in(
                request, db, result.user, settings=settings, visitor=visitor, url=values["next"]
            )
        if result.retry_after:
            error = (
                f"Too many attempts from here. Try again in {result.retry_after} seconds, "
                "or reset your password."
            )
            status = 429
        else:
            error = "That email and password do not match an account."
    ctx = {"values": values, "errors": errors, "error": error, "notice": None}
    return render(request, "accounts/signin.html", ctx, block="signin_form", status_code=status)


@router.post("/signout")
def signout(
    request: Request, db: DbSession, settings: AppSettings, visitor: VisitorDep
) -> Response:
    if visitor.token:
        service.end_session(db, visitor.token)
    response = _done(request, "/signin?notice=signed_out")
    clear_session_cookie(response, settings=settings)
    return response


# Passwords and verification ----------------------------------------------------------------------


@router.get("/password/forgot")
def forgot_page(request: Request) -> Response:
    ctx: dict[str, Any] = {"values": {}, "errors": {}, "sent_to": None}
    return render(request, "accounts/forgot.html", ctx, block="forgot_form")


@router.post("/password/forgot")
def forgot(request: Request, db: DbSession, settings: AppSettings, data: FormFields) -> Response:
    form, errors = schemas.parse_form(schemas.EmailForm, data)
    ctx: dict[str, Any]
    if form is None:
        ctx = {"values": _values(data), "errors": errors, "sent_to": None}
        return render(request, "accounts/forgot.html", ctx, block="forgot_form", status_code=422)
    service.request_password_reset(db, form.email, base_url=settings.base_url)
    ctx = {"values": {}, "errors": {}, "sent_to": form.email}
    return render(request, "accounts/forgot.html", ctx, block="forgot_form")


@router.get("/password/reset/{token}")
def reset_page(request: Request, db: DbSession, token: str) -> Response:
    valid = service.find_email_token(db, token, purpose=service.TokenPurpose.reset) is not None
    ctx = {"values": {}, "errors": {}, "valid": valid, "token": token}
    return render(
        request, "accounts/reset.html", ctx, block="reset_form", status_code=200 if valid else 404
    )


@router.post("/password/reset/{token}")
def reset(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    visitor: VisitorDep,
    token: str,
    data: FormFields,
) -> Response:
    if service.find_email_token(db, token, purpose=service.TokenPurpose.reset) is None:
        ctx: dict[str, Any] = {"values": {}, "errors": {}, "valid": False, "token": token}
        return render(request, "accounts/reset.html", ctx, block="reset_form", status_code=404)
    form, errors = schemas.parse_form(schemas.NewPasswordForm, data)
    if form is None:
        ctx = {"values": {}, "errors": errors, "valid": True, "token": token}
        return render(request, "accounts/reset.html", ctx, block="reset_form", status_code=422)
    user = service.reset_password(db, token, password=form.password)
    response = _sign_in(request, db, user, settings=settings, visitor=visitor, url="/")
    return response


@router.get("/verify/{token}")
def verify_page(request: Request, db: DbSession, token: str) -> Response:
    valid = service.find_email_token(db, token, purpose=service.TokenPurpose.verify) is not None
    ctx = {"valid": valid, "token": token}
    return render(
        request, "accounts/verify.html", ctx, block="verify", status_code=200 if valid else 404
    )


@router.post("/verify/resend")
def verify_resend(
    request: Request, db: DbSession, settings: AppSettings, user: CurrentUser, visitor: VisitorDep
) -> Response:
    assert visitor.web_session is not None
    if user.email_verified:
        service.add_toast(visitor.web_session, "info", "Your email is already confirmed.")
    else:
        service.send_verification(db, user, base_url=settings.base_url)
        service.add_toast(visitor.web_session, "success", f"We sent a new link to {user.email}.")
    return _done(request, "/account")


@router.post("/verify/{token}")
def verify(request: Request, db: DbSession, visitor: VisitorDep, token: str) -> Response:
    try:
        service.verify_email(db, token)
    except service.NotFound:
        return render(
            request,
            "accounts/verify.html",
            {"valid": False, "token": token},
            block="verify",
            status_code=404,
        )
    if visitor.web_session is not None:
        service.add_toast(visitor.web_session, "success", "Your email is confirmed.")
        return _done(request, "/")
    return _done(request, "/signin?notice=verified")


# Account and organisations -----------------------------------------------------------------------


def _account(
    request: Request,
    *,
    forms: dict[str, Any] | None = None,
    block: str | None = None,
    status_code: int = 200,
) -> Response:
    ctx: dict[str, Any] = {
        "nav": None,
        "profile": {"values": {}, "errors": {}},
        "password": {"values": {}, "errors": {}},
        "new_org": {"values": {}, "errors": {}},
    }
    ctx.update(forms or {})
    return render(request, "accounts/account.html", ctx, block=block, status_code=status_code)


@router.get("/account")
def account_page(request: Request, user: CurrentUser) -> Response:
    return _account(request, block="account_page")


@router.post("/account")
def account(
    request: Request, db: DbSession, user: CurrentUser, visitor: VisitorDep, data: FormFields
) -> Response:
    assert visitor.web_session is not None
    if data.get("action") == "password":
        pw_form, errors = schemas.parse_form(schemas.ChangePasswordForm, data)
        if pw_form is not None:
            try:
                service.change_password(
                    db,
                    user,
                    current=pw_form.current_password,
                    new=pw_form.new_password,
                    keep_session=visitor.web_session.id,
                )
            except service.FormError as exc:
                errors = {exc.field: exc.message}
            else:
                service.add_toast(visitor.web_session, "success", "Your password is changed.")
                return _done(request, "/account")
        forms = {"password": {"values": {}, "errors": errors}}
        return _account(request, forms=forms, block="password_form", status_code=422)
    form, errors = schemas.parse_form(schemas.ProfileForm, data)
    if form is None:
        forms = {"profile": {"values": _values(data), "errors": errors}}
        return _account(request, forms=forms, block="profile_form", status_code=422)
    service.update_profile(db, user, display_name=form.display_name)
    service.add_toast(visitor.web_session, "success", "Your profile is saved.")
    return _done(request, "/account")


@router.post("/orgs")
def create_org(
    request: Request, db: DbSession, user: CurrentUser, visitor: VisitorDep, data: FormFields
) -> Response:
    assert visitor.web_session is not None
    form, errors = schemas.parse_form(schemas.OrgForm, data)
    if form is None:
        forms = {"new_org": {"values": _values(data), "errors": errors}}
        return _account(request, forms=forms, block="org_form", status_code=422)
    org = service.create_org(db, user, name=form.name)
    visitor.web_session.current_org_id = org.id
    service.add_toast(visitor.web_session, "success", f"{org.name} is created; you are its owner.")
    return _done(request, "/")


@router.post("/orgs/switch")
def switch_org(
    request: Request, db: DbSession, user: CurrentUser, visitor: VisitorDep, data: FormFields
) -> Response:
    assert visitor.web_session is not None
    org_id = schemas.parse_uuid(data.get("org_id", ""))
    if org_id is None:
        raise HTTPException(status_code=404)
    try:
        membership = service.switch_org(db, visitor.web_session, org_id)
    except service.NotFound:
        raise HTTPException(status_code=404) from None
    service.add_toast(visitor.web_session, "info", f"You are now in {membership.org.name}.")
    return _done(request, "/")


# Organisation settings and members ---------------------------------------------------------------


@router.get("/settings")
def settings_page(request: Request, ctx: CurrentOrg) -> Response:
    values = {"name": ctx.org.name, "scan_interval_hours": str(ctx.org.scan_interval_hours)}
    page = {"nav": "settings", "values": values, "errors": {}, "intervals": schemas.SCAN_INTERVALS}
    return render(request, "settings/org.html", page, block="settings_page")


@router.post("/settings")
def update_org(
    request: Request,
    db: DbSession,
    data: FormFields,
    ctx: AdminOrg,
) -> Response:
    form, errors = schemas.parse_form(schemas.OrgForm, data)
    if form is None:
        page = {
            "nav": "settings",
            "values": _values(data),
            "errors": errors,
            "intervals": schemas.SCAN_INTERVALS,
        }
        return render(request, "settings/org.html", page, block="org_form", status_code=422)
    service.update_org(
        db,
        ctx.membership,
        name=form.name,
        scan_interval_hours=form.scan_interval_hours,
    )
    service.add_toast(ctx.web_session, "success", "The organisation's settings are saved.")
    return _done(request, "/settings")


def _members(
    request: Request,
    db: DbSession,
    ctx: OrgContext,
    *,
    invite: dict[str, Any] | None = None,
    row_error: dict[str, str] | None = None,
    block: str = "members_page",
    status_code: int = 200,
) -> Response:
    actor_rank = ROLE_RANK[ctx.role]
    page = {
        "nav": "settings",
        "members": service.list_members(db, ctx.org_id),
        "invitations": service.pending_invitations(db, ctx.org_id),
        "can_manage": ctx.at_least(Role.admin),
        "is_owner": ctx.role is Role.owner,
        "assignable_roles": [r for r in ROLE_VALUES if ROLE_RANK[Role(r)] <= actor_rank],
        "me": ctx.membership.id,
        "invite": invite or {"values": {"role": "member"}, "errors": {}},
        "row_error": row_error or {},
    }
    return render(request, "settings/members.html", page, block=block, status_code=status_code)


@router.get("/settings/members")
def members_page(request: Request, db: DbSession, ctx: CurrentOrg) -> Response:
    return _members(request, db, ctx)


@router.post("/settings/members/invite")
def invite(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    data: FormFields,
    ctx: AdminOrg,
) -> Response:
    form, errors = schemas.parse_form(schemas.InviteForm, data)
    if form is not None:
        try:
            service.invite(
                db, ctx.membership, email=form.email, role=form.role, base_url=settings.base_url
            )
        except service.PermissionDenied as exc:
            errors = {"role": str(exc)}
        except service.FormError as exc:
            errors = {exc.field: exc.message}
        else:
            service.add_toast(ctx.web_session, "success", f"Invitation sent to {form.email}.")
            return _done(request, "/settings/members")
    invite_ctx = {"values": _values(data), "errors": errors}
    return _members(request, db, ctx, invite=invite_ctx, block="invite_form", status_code=422)


@router.post("/settings/members/{membership_id}/role")
def change_role(
    request: Request,
    db: DbSession,
    data: FormFields,
    membership_id: uuid.UUID,
    ctx: AdminOrg,
    target: Annotated[Membership, org_loader(Membership, "membership_id")],
) -> Response:
    form, errors = schemas.parse_form(schemas.RoleForm, data)
    message = errors.get("role")
    if form is not None:
        try:
            service.change_role(db, target, role=form.role, actor=ctx.membership)
        except service.PermissionDenied as exc:
            raise HTTPException(status_code=403, detail=str(exc)) from None
        except service.FormError as exc:
            message = exc.message
        else:
            text = f"{target.user.label} is now {form.role}."
            service.add_toast(ctx.web_session, "success", text)
            return _done(request, "/settings/members")
    return _members(
        request,
        db,
        ctx,
        row_error={str(target.id): message or "Choose a role."},
        block="members",
        status_code=422,
    )


@router.post("/settings/members/{membership_id}/remove")
def remove_member(
    request: Request,
    db: DbSession,
    membership_id: uuid.UUID,
    ctx: AdminOrg,
    target: Annotated[Membership, org_loader(Membership, "membership_id")],
) -> Response:
    label, leaving = target.user.label, target.id == ctx.membership.id
    try:
        service.remove_member(db, target, actor=ctx.membership)
    except service.PermissionDenied as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from None
    except service.FormError as exc:
        row_error = {str(target.id): exc.message}
        return _members(request, db, ctx, row_error=row_error, block="members", status_code=422)
    if leaving:
        service.add_toast(ctx.web_session, "info", f"You left {ctx.org.name}.")
        return _done(request, "/")
    service.add_toast(ctx.web_session, "success", f"{label} is removed.")
    return _done(request, "/settings/members")


@router.post("/settings/invitations/{invitation_id}/revoke")
def revoke_invitation(
    request: Request,
    db: DbSession,
    invitation_id: uuid.UUID,
    ctx: AdminOrg,
    invitation: Annotated[Invitation, org_loader(Invitation, "invitation_id")],
) -> Response:
    try:
        service.revoke_invitation(db, invitation, actor=ctx.membership)
    except service.PermissionDenied as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from None
    service.add_toast(
        ctx.web_session, "success", f"The invitation to {invitation.email} is revoked."
    )
    return _done(request, "/settings/members")


# Accepting an invitation -------------------------------------------------------------------------


def _invitation_page(
    request: Request,
    db: DbSession,
    invitation: Invitation | None,
    visitor: VisitorDep,
    *,
    token: str,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    has_account = (
        invitation is not None and service.get_user_by_email(db, invitation.email) is not None
    )
    ctx = {
        "invitation": invitation,
        "token": token,
        "has_account": has_account,
        "form": form or {"values": {}, "errors": {}},
    }
    if invitation is None:
        status_code = 404
    return render(
        request, "accounts/invitation.html", ctx, block="invitation", status_code=status_code
    )


@router.get("/invitations/{token}")
def invitation_page(request: Request, db: DbSession, visitor: VisitorDep, token: str) -> Response:
    return _invitation_page(request, db, service.find_invitation(db, token), visitor, token=token)


@router.post("/invitations/{token}/accept")
def accept_invitation(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    visitor: VisitorDep,
    token: str,
    data: FormFields,
) -> Response:
    invitation = service.find_invitation(db, token)
    if invitation is None:
        return _invitation_page(request, db, None, visitor, token=token)
    if visitor.user is not None and visitor.web_session is not None:
        service.accept_invitation(db, invitation, user=visitor.user)
        visitor.web_session.current_org_id = invitation.org_id
        text = f"Welcome to {invitation.org.name}."
        service.add_toast(visitor.web_session, "success", text)
        return _done(request, "/")
    if service.get_user_by_email(db, invitation.email) is not None:
        return _done(request, "/signin?next=" + f"/invitations/{token}")
    form, errors = schemas.parse_form(schemas.AcceptInvitationForm, data)
    if form is None:
        state = {"values": _values(data), "errors": errors}
        return _invitation_page(
            request, db, invitation, visitor, token=token, form=state, status_code=422
        )
    user = service.accept_invitation_as_new_user(
        db, invitation, password=form.password, display_name=form.display_name
    )
    return _sign_in(
        request, db, user, settings=settings, visitor=visitor, url="/", org_id=invitation.org_id
    )
