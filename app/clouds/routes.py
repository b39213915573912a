"""Cloud account pages: list, connect, detail, replace credentials, refresh and delete.

Thin: read the form (uploads capped at ``max_upload_bytes``), let the provider's adapter parse
it, call the service, render or redirect. Owners and admins manage accounts; members and
viewers see them read-only. A failed form comes back with what was typed, except secrets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from app.accounts.models import Role
from app.accounts.sessions import add_toast
from app.clouds import service
from app.clouds.adapters import adapter
from app.clouds.base import CloudError, InvalidCredentials, ParsedCredentials
from app.clouds.models import CloudAccount
from app.clouds.schemas import (
    CONNECTION_KINDS,
    KINDS,
    ConnectionKind,
    clean_account_name,
    connection_details,
    default_name,
    kept_values,
    kind_of,
    values_from_config,
)
from app.config import Settings
from app.deps import (
    AdminOrg,
    AppSettings,
    CurrentOrg,
    DbSession,
    FormFields,
    OrgContext,
    org_loader,
)
from app.web import human_bytes, is_htmx, render

router = APIRouter()

AccountDep = Annotated[CloudAccount, org_loader(CloudAccount, "account_id")]
DELETE_UNCONFIRMED = "Tick the box to confirm that everything listed above is deleted."
STALE_EXTERNAL_ID = (
    "This form's external ID was not issued to your organisation (the page is stale or was "
    "altered). Use the new external ID below in the role's trust policy."
)
RE_ENTER = "Secrets are never kept after an error: enter them again."


@dataclass
class Submitted:
    """A posted form: text fields (first value of each) and uploaded files, read up to a cap."""

    fields: dict[str, str]
    files: dict[str, bytes] = field(default_factory=dict)
    oversized: set[str] = field(default_factory=set)


async def read_form(request: Request) -> Submitted:
    """The form with each upload read to at most ``max_upload_bytes`` + 1 (enough to refuse)."""
    settings: Settings = request.app.state.settings
    form = await request.form()
    submitted = Submitted(fields={})
    for key, value in form.multi_items():
        if isinstance(value, str):
            submitted.fields.setdefault(key, value)
        elif isinstance(value, UploadFile) and value.filename and key not in submitted.files:
            data = await value.read(settings.max_upload_bytes + 1)
            if len(data) > settings.max_upload_bytes:
                submitted.oversized.add(key)
            elif data:
                submitted.files[key] = data
    return submitted


SubmittedForm = Annotated[Submitted, Depends(read_form)]


def _done(request: Request, url: str) -> Response:
    """After a successful POST: HX-Redirect for HTMX, 303 See Other for a plain form."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _limit(settings: Settings) -> str:
    return human_bytes(settings.max_upload_bytes)


def _credential_fields(
    kind: ConnectionKind, submitted: Submitted, settings: Settings
) -> tuple[dict[str, str], dict[str, str]]:
    """The provider's form fields with an uploaded file in place of its text field, and the
    field errors of uploads that are too large or not text."""
    fields, errors = dict(submitted.fields), dict[str, str]()
    if kind.upload is None:
        return fields, errors
    text_field, file_field = kind.upload
    limit = _limit(settings)
    if file_field in submitted.oversized:
        errors[text_field] = f"The file is larger than {limit}; choose the right file."
    elif file_field in submitted.files:
        try:
            fields[text_field] = submitted.files[file_field].decode("utf-8-sig")
        except UnicodeDecodeError:
            errors[text_field] = "The file is not a text file (UTF-8); choose the right file."
    if text_field not in errors and len(fields.get(text_field, "").encode()) > (
        settings.max_upload_bytes
    ):
        errors[text_field] = f"The pasted text is larger than {limit}; paste only the file."
    return fields, errors


def _parse(
    kind: ConnectionKind,
    fields: dict[str, str],
    errors: dict[str, str],
    *,
    existing: dict[str, Any] | None = None,
) -> tuple[ParsedCredentials | None, str | None]:
    """The adapter's reading of the form; a field it names that the form does not show
    becomes the form-level message."""
    if errors:
        return None, None
    try:
        return adapter(kind.key).parse_form(fields, existing=existing), None
    except InvalidCredentials as exc:
        shown = set(kind.fields) - {"external_id"}
        if exc.field in shown:
            errors[exc.field] = exc.message
            return None, None
        return None, exc.message


# --- list ---------------------------------------------------------------------------------------


@router.get("/cloud-accounts", response_class=Response)
def cloud_account_list(request: Request, db: DbSession, ctx: CurrentOrg) -> Response:
    """Connected accounts and the ways to connect one; only admins and owners may connect."""
    context = {
        "nav": "clouds",
        "providers": CONNECTION_KINDS,
        "can_manage": ctx.at_least(Role.admin),
        "accounts": service.list_accounts(db, ctx.org_id),
    }
    return render(request, "clouds/list.html", context, block="section")


# --- connect ------------------------------------------------------------------------------------


def _aws_context(
    settings: Settings, *, external_id: str, signature: str | None = None
) -> dict[str, Any]:
    from app.clouds import aws

    trust, permissions = aws.policies(settings.aws_principal_arn, external_id)
    return {
        "external_id": external_id,
        "signature": signature,
        "principal_arn": settings.aws_principal_arn,
        "trust_policy": trust,
        "permission_policy": permissions,
    }


def _form_context(
    settings: Settings,
    values: dict[str, str],
    errors: dict[str, str] | None,
    form_error: str | None,
    aws: dict[str, Any] | None,
) -> dict[str, Any]:
    """What every credentials form renders: values, errors, AWS policies, the upload limit."""
    return {
        "nav": "clouds",
        "values": values,
        "errors": errors or {},
        "form_error": form_error,
        "aws": aws,
        "max_upload": _limit(settings),
        "re_enter": RE_ENTER if (errors or form_error) else None,
    }


def _signed_aws_context(
    ctx: OrgContext, settings: Settings, external_id: str | None
) -> dict[str, Any]:
    """The AWS form's context with ``external_id`` (a new one if None), signed for this org."""
    external_id = external_id or service.new_external_id()
    signature = service.sign_external_id(external_id, org_id=ctx.org_id, settings=settings)
    return _aws_context(settings, external_id=external_id, signature=signature)


def _new_page(
    request: Request,
    ctx: OrgContext,
    settings: Settings,
    *,
    kind: ConnectionKind | None,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    external_id: str | None = None,
    block: str = "section",
    status_code: int = 200,
) -> Response:
    aws = None
    if kind is not None and kind.key == "aws":
        aws = _signed_aws_context(ctx, settings, external_id)
    context = {
        **_form_context(settings, values, errors, form_error, aws),
        "kind": kind,
        "kinds": CONNECTION_KINDS,
    }
    return render(request, "clouds/new.html", context, block=block, status_code=status_code)


@router.get("/cloud-accounts/new", response_class=Response)
def connect_page(
    request: Request, ctx: AdminOrg, settings: AppSettings, provider: str = ""
) -> Response:
    """The connect form of one provider (a fresh AWS external ID each time), or the choice."""
    kind = kind_of(provider)
    values = {"auth": "role"} if kind is not None and kind.key == "aws" else {}
    return _new_page(request, ctx, settings, kind=kind, values=values)


def _checked_external_id(fields: dict[str, str], ctx: OrgContext, settings: Settings) -> str | None:
    external_id = fields.get("external_id", "")
    signature = fields.get("external_id_signature", "")
    if service.external_id_valid(external_id, signature, org_id=ctx.org_id, settings=settings):
        return external_id
    return None


@router.post("/cloud-accounts", response_class=Response)
def connect(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    ctx: AdminOrg,
    submitted: SubmittedForm,
) -> Response:
    """Check the credentials with one real call; save only what the provider accepted."""
    kind = kind_of(submitted.fields.get("provider"))
    if kind is None:
        return _new_page(
            request,
            ctx,
            settings,
            kind=None,
            values={},
            form_error="Choose how Leftover should connect.",
            status_code=422,
        )
    fields, errors = _credential_fields(kind, submitted, settings)
    form_error: str | None = None
    external_id: str | None = None
    if kind.key == "aws":
        external_id = _checked_external_id(fields, ctx, settings)
        if external_id is None:
            form_error = STALE_EXTERNAL_ID
    parsed, parse_error = _parse(kind, fields, errors)
    form_error = form_error or parse_error
    name = ""
    try:
        name = clean_account_name(fields.get("name", ""))
    except ValueError as exc:
        errors["name"] = str(exc)
    if parsed is not None and form_error is None and not errors:
        try:
            account = service.connect_account(
                db,
                org_id=ctx.org_id,
                user_id=ctx.user.id,
                provider=kind.key,
                name=name or default_name(kind.key, parsed.config),
                parsed=parsed,
                settings=settings,
            )
        except CloudError as exc:
            form_error = f"Leftover could not connect: {exc.reason}"
        else:
            found = sum(not c.gone for c in service.account_clusters(db, account))
            plural = "cluster" if found == 1 else "clusters"
            add_toast(ctx.web_session, "success", f"Connected — {found} {plural} found.")
            return _done(request, f"/cloud-accounts/{account.id}")
    return _new_page(
        request,
        ctx,
        settings,
        kind=kind,
        values=kept_values(fields),
        errors=errors,
        form_error=form_error,
        external_id=external_id,
        block="connect_form",
        status_code=422,
    )


# --- one account --------------------------------------------------------------------------------


def _detail(
    request: Request,
    db: DbSession,
    ctx: OrgContext,
    account: CloudAccount,
    *,
    delete_error: str | None = None,
    block: str = "section",
    status_code: int = 200,
) -> Response:
    context = {
        "nav": "clouds",
        "account": account,
        "kind": KINDS[account.provider],
        "details": connection_details(account.provider, account.config),
        "clusters": service.account_clusters(db, account),
        "scope": service.deletion_scope(db, account),
        "can_manage": ctx.at_least(Role.admin),
        "delete_error": delete_error,
    }
    return render(request, "clouds/detail.html", context, block=block, status_code=status_code)


@router.get("/cloud-accounts/{account_id}", response_class=Response)
def account_page(request: Request, db: DbSession, ctx: CurrentOrg, account: AccountDep) -> Response:
    """Status, last discovery, warnings, the clusters found and (for admins) the actions."""
    return _detail(request, db, ctx, account)


@router.post("/cloud-accounts/{account_id}/refresh", response_class=Response)
def refresh(request: Request, db: DbSession, ctx: AdminOrg, account: AccountDep) -> Response:
    """Queue a discovery now rather than waiting for the periodic one."""
    if ctx.org.is_demo:
        add_toast(ctx.web_session, "info", "A demo account is generated: nothing to look up.")
        return _done(request, f"/cloud-accounts/{account.id}")
    service.request_discovery(db, account)
    add_toast(
        ctx.web_session,
        "info",
        f"Looking for clusters in {account.name} now — reload in a minute to see the result.",
    )
    return _done(request, f"/cloud-accounts/{account.id}")


@router.post("/cloud-accounts/{account_id}/delete", response_class=Response)
def delete(
    request: Request, db: DbSession, ctx: AdminOrg, account: AccountDep, data: FormFields
) -> Response:
    """Delete the account with its clusters, scan history and findings, once confirmed."""
    if data.get("confirm") != "yes":
        return _detail(
            request,
            db,
            ctx,
            account,
            delete_error=DELETE_UNCONFIRMED,
            block="delete_form",
            status_code=422,
        )
    name, clusters = account.name, service.deletion_scope(db, account).clusters
    service.delete_account(db, account)
    plural = "cluster" if clusters == 1 else "clusters"
    add_toast(
        ctx.web_session,
        "success",
        f"{name} is deleted, with its {clusters} {plural}, their scan history and findings.",
    )
    return _done(request, "/cloud-accounts")


# --- replace credentials ------------------------------------------------------------------------


def _stored_external_id(account: CloudAccount) -> str:
    return str(account.config.get("external_id") or "") if account.provider == "aws" else ""


def _credentials_page(
    request: Request,
    ctx: OrgContext,
    settings: Settings,
    account: CloudAccount,
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    external_id: str | None = None,
    block: str = "section",
    status_code: int = 200,
) -> Response:
    aws = None
    stored = _stored_external_id(account)
    if stored:
        # The customer's trust policy names it: a replaced role keeps it.
        aws = _aws_context(settings, external_id=stored)
    elif account.provider == "aws":
        # An account without one (connected with keys elsewhere) gets one, as on connect.
        aws = _signed_aws_context(ctx, settings, external_id)
    context = {
        **_form_context(settings, values, errors, form_error, aws),
        "account": account,
        "kind": KINDS[account.provider],
    }
    return render(request, "clouds/credentials.html", context, block=block, status_code=status_code)


@router.get("/cloud-accounts/{account_id}/credentials", response_class=Response)
def credentials_page(
    request: Request, settings: AppSettings, ctx: AdminOrg, account: AccountDep
) -> Response:
    """The provider's form, prefilled with the account's non-secret settings."""
    values = values_from_config(account.provider, account.config)
    return _credentials_page(request, ctx, settings, account, values=values)


@router.post("/cloud-accounts/{account_id}/credentials", response_class=Response)
def replace_credentials(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    ctx: AdminOrg,
    account: AccountDep,
    submitted: SubmittedForm,
) -> Response:
    """Check the new credentials first; the old ones stay unless the provider accepts these."""
    kind = KINDS[account.provider]
    fields, errors = _credential_fields(kind, submitted, settings)
    external_id: str | None = None
    stale: str | None = None
    if account.provider == "aws" and not _stored_external_id(account):
        external_id = _checked_external_id(fields, ctx, settings)
        stale = None if external_id is not None else STALE_EXTERNAL_ID
    parsed, form_error = _parse(kind, fields, errors, existing=dict(account.config))
    form_error = stale or form_error
    if parsed is not None and form_error is None:
        try:
            service.replace_credentials(db, account, parsed, settings=settings)
        except CloudError as exc:
            form_error = f"The new credentials were not saved: {exc.reason}"
        else:
            found = sum(not c.gone for c in service.account_clusters(db, account))
            plural = "cluster" if found == 1 else "clusters"
            add_toast(
                ctx.web_session, "success", f"New credentials saved — {found} {plural} found."
            )
            return _done(request, f"/cloud-accounts/{account.id}")
    return _credentials_page(
        request,
        ctx,
        settings,
        account,
        values=kept_values(fields),
        errors=errors,
        form_error=form_error,
        external_id=external_id,
        block="credentials_form",
        status_code=422,
    )
