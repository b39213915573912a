"""Request dependencies: the database session, who is visiting, CSRF, the current user and
organisation, role checks, and loaders that turn a path id into a row of *this* organisation.

Every route gets ``load_visitor`` and ``csrf_protect`` (create_app adds them app-wide), so the
page context is filled and every POST/PUT/PATCH/DELETE is checked without a route opting in.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from app.accounts import service
from app.accounts.cookies import SESSION_COOKIE, anon_value
from app.accounts.models import ROLE_RANK, Membership, Organisation, Role, User, WebSession
from app.config import Settings
from app.db import session_scope
from app.security import csrf_token, csrf_valid
from app.tenancy import get_for_org
from app.web import is_htmx

T = TypeVar("T")

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_REFUSED = "Your session expired or the form is stale — reload and try again."
MAX_FORM_BYTES = 2 * 1024 * 1024


class SignInRequired(Exception):
    """Raised for an anonymous visitor on a signed-in page; create_app turns it into a
    redirect (pages) or 401 with HX-Redirect (HTMX)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


def db_session(request: Request) -> Iterator[Session]:
    """One session per request; committed when the route returns, before the response."""
    with session_scope(request.app.state.sessionmaker) as session:
        yield session


DbSession = Annotated[Session, Depends(db_session, scope="function")]


def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(app_settings)]


@dataclass
class Visitor:
    """Who is making the request: nobody, or a user with a live session and memberships."""

    anon: str
    token: str | None = None
    web_session: WebSession | None = None
    user: User | None = None
    memberships: list[Membership] = field(default_factory=list)
    membership: Membership | None = None  # in the session's current organisation

    @property
    def csrf_basis(self) -> str:
        return self.token or self.anon

    @property
    def org(self) -> Organisation | None:
        return self.membership.org if self.membership else None


@dataclass(frozen=True)
class UserView:
    """The signed-in user as templates see it: plain values, safe to render after a rollback
    (error pages render once the request's session is gone)."""

    id: uuid.UUID
    email: str
    display_name: str
    email_verified: bool
    has_password: bool

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            email_verified=user.email_verified,
            has_password=user.password_hash is not None,
        )


@dataclass(frozen=True)
class OrgView:
    id: uuid.UUID
    name: str
    is_demo: bool = False


def load_visitor(request: Request, db: DbSession, settings: AppSettings) -> Visitor:
    """The visitor behind the session cookie; fills ``request.state.page`` for templates."""
    visitor = Visitor(anon=anon_value(request))
    token = request.cookies.get(SESSION_COOKIE)
    web_session = service.load_session(db, token, settings=settings) if token else None
    if token and web_session is None:
        request.state.drop_session_cookie = True
        db.commit()  # an expired session's deletion must survive a redirect to sign-in
    page: dict[str, Any] = request.state.page
    if web_session is not None:
        visitor.token, visitor.web_session = token, web_session
        visitor.user = db.get_one(User, web_session.user_id)
        visitor.memberships = service.memberships_of(db, web_session.user_id)
        by_org = {m.org_id: m for m in visitor.memberships}
        current = by_org.get(web_session.current_org_id) if web_session.current_org_id else None
        if current is None and visitor.memberships:
            current = visitor.memberships[0]
            web_session.current_org_id = current.org_id
        visitor.membership = current
        wants_page = request.method == "GET" and not is_htmx(request)
        org = visitor.org
        page.update(
            user=UserView.of(visitor.user),
            org=OrgView(id=org.id, name=org.name, is_demo=org.is_demo) if org else None,
            role=current.role if current else None,
            memberships=[
                {"org_id": m.org_id, "org_name": m.org.name, "role": m.role}
                for m in visitor.memberships
            ],
            toasts=service.take_toasts(web_session) if wants_page else [],
        )
    page["csrf_token"] = csrf_token(settings.signing_key(), visitor.csrf_basis)
    request.state.visitor = visitor
    return visitor


VisitorDep = Annotated[Visitor, Depends(load_visitor)]


async def csrf_protect(request: Request, visitor: VisitorDep, settings: AppSettings) -> None:
    """Refuse a state-changing request without this visitor's CSRF token (403)."""
    if request.method not in UNSAFE_METHODS:
        return
    presented = request.headers.get("X-CSRF-Token")
    if not presented:
        length = request.headers.get("content-length", "0")
        if not length.isdigit() or int(length) > MAX_FORM_BYTES:
            raise HTTPException(status_code=413, detail="The form is too large.")
        form = await request.form()
        value = form.get("csrf_token")
        presented = value if isinstance(value, str) else None
    if not csrf_valid(settings.signing_key(), visitor.csrf_basis, presented):
        raise HTTPException(status_code=403, detail=CSRF_REFUSED)


async def form_fields(request: Request) -> dict[str, str]:
    """The submitted form's text fields (first value of each; files are left out)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


FormFields = Annotated[dict[str, str], Depends(form_fields)]


def safe_next(url: str | None) -> str:
    """A same-site path to return to after sign-in; anything else becomes "/"."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    if any(ord(c) < 32 for c in url):
        return "/"
    return url


def current_user(request: Request, visitor: VisitorDep, db: DbSession) -> User:
    """The signed-in user; otherwise sign-in (or sign-up, on an instance nobody has joined)."""
    if visitor.user is None:
        if not service.has_users(db):
            raise SignInRequired("/signup")
        target = request.url.path
        if request.url.query and request.method == "GET":
            target += "?" + request.url.query
        if request.method != "GET" or target == "/":
            raise SignInRequired("/signin")
        raise SignInRequired("/signin?next=" + quote(target, safe=""))
    return visitor.user


CurrentUser = Annotated[User, Depends(current_user)]


@dataclass(frozen=True)
class OrgContext:
    """The signed-in user acting in their current organisation."""

    user: User
    org: Organisation
    membership: Membership
    web_session: WebSession

    @property
    def org_id(self) -> uuid.UUID:
        return self.org.id

    @property
    def role(self) -> Role:
        return Role(self.membership.role)

    def at_least(self, role: Role | str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[Role(role)]


def current_org(user: CurrentUser, visitor: VisitorDep) -> OrgContext:
    """The current organisation; a user who belongs to none is sent to create one."""
    if visitor.membership is None or visitor.web_session is None:
        raise SignInRequired("/account#new-org")
    return OrgContext(
        user=user,
        org=visitor.membership.org,
        membership=visitor.membership,
        web_session=visitor.web_session,
    )


CurrentOrg = Annotated[OrgContext, Depends(current_org)]


def require_role(minimum: Role | str) -> Any:
    """A dependency giving the OrgContext if the user's role is ``minimum`` or higher (403)."""
    wanted = Role(minimum)

    def check(ctx: CurrentOrg) -> OrgContext:
        if not ctx.at_least(wanted):
            raise HTTPException(
                status_code=403,
                detail=f"This needs the {wanted.value} role or higher in {ctx.org.name}.",
            )
        return ctx

    return Depends(check)


ViewerOrg = CurrentOrg
MemberOrg = Annotated[OrgContext, require_role(Role.member)]
AdminOrg = Annotated[OrgContext, require_role(Role.admin)]
OwnerOrg = Annotated[OrgContext, require_role(Role.owner)]


def org_loader(model: type[T], param: str) -> Any:
    """A dependency loading ``model`` by the path parameter ``param`` within the current
    organisation: another organisation's id, or a malformed one, is a 404."""

    def load(request: Request, db: DbSession, ctx: CurrentOrg) -> T:
        return get_for_org(db, model, request.path_params.get(param, ""), ctx.org_id)

    load.__name__ = f"load_{getattr(model, '__name__', 'row').lower()}"
    return Depends(load)
