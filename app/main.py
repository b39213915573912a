"""create_app(): the web application — routers, static files, security headers, error pages."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from app import jobs
from app.accounts.cookies import visitor_cookies
from app.config import Settings, get_settings
from app.db import make_engine, make_sessionmaker
from app.deps import SignInRequired, csrf_protect, load_visitor
from app.web import STATIC_DIR, is_htmx, render

log = logging.getLogger("leftover.web")

# Strict: no inline script or style, nothing from elsewhere, no framing, forms post home.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)


def security_headers(settings: Settings) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if not settings.local:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return headers


def create_app(settings: Settings | None = None) -> FastAPI:
    """The whole web app for ``settings`` (the process's settings when not given)."""
    settings = settings or get_settings()
    # Every route loads the visitor (page context) and checks CSRF on unsafe methods.
    app = FastAPI(
        title="Leftover",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(load_visitor), Depends(csrf_protect)],
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.database)
    app.state.sessionmaker = make_sessionmaker(app.state.engine)
    jobs.attach(app.state.sessionmaker, settings)
    headers = security_headers(settings)

    @app.middleware("http")
    async def _headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.middleware("http")(visitor_cookies(settings))
    app.add_middleware(BodyLimit, max_bytes=max_request_bytes(settings))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in _routers():
        app.include_router(router)

    @app.get("/healthz", include_in_schema=False)
    def _healthz() -> PlainTextResponse:
        """Liveness for load balancers and the dashboard benchmark's floor: no page work."""
        return PlainTextResponse("ok")

    @app.exception_handler(SignInRequired)
    async def _sign_in_first(request: Request, exc: SignInRequired) -> Response:
        if is_htmx(request):
            return Response(status_code=401, headers={"HX-Redirect": exc.url})
        return RedirectResponse(exc.url, status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (404, 405) and _wants_html(request):
            return render(request, "errors/404.html", status_code=404)
        if exc.status_code == 403 and _wants_html(request):
            return render(request, "errors/403.html", {"detail": exc.detail}, status_code=403)
        return JSONResponse(
            {"detail": exc.detail},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        # Forms validate themselves and re-render with field errors; this only catches
        # malformed requests (a path id that is not a UUID, a missing form field).
        if _wants_html(request):
            return render(request, "errors/404.html", status_code=404)
        return JSONResponse({"detail": "malformed request"}, status_code=422)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if _wants_html(request):
            return render(request, "errors/500.html", status_code=500)
        return JSONResponse({"detail": "internal error"}, status_code=500)

    return app


def max_request_bytes(settings: Settings) -> int:
    """The largest request body accepted: room for one upload, its form and encoding."""
    return 2 * settings.max_upload_bytes + 1024 * 1024


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` (413) before anything buffers them.

    Form parsing keeps a whole upload in memory before a route can check its size, so the cap
    applies to the declared Content-Length; a body without one (chunked) is refused with 411,
    which no browser form sends. Routes still check each upload against ``max_upload_bytes``
    to show a field error.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            declared = headers.get(b"content-length")
            if declared is None and b"chunked" in headers.get(b"transfer-encoding", b"").lower():
                message, status = "Send the request with a Content-Length.", 411
                await PlainTextResponse(message, status_code=status)(scope, receive, send)
                return
            if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
                message, status = "The request is too large for Leftover to accept.", 413
                await PlainTextResponse(message, status_code=status)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _wants_html(request: Request) -> bool:
    return is_htmx(request) or "text/html" in request.headers.get("accept", "text/html")


def _routers() -> list[APIRouter]:
    from app.accounts.oidc_routes import router as oidc
    from app.accounts.routes import router as accounts
    from app.clouds.routes import router as clouds
    from app.clusters.routes import router as clusters
    from app.dashboard.routes import router as dashboard
    from app.findings.ignore_routes import router as ignores
    from app.findings.routes import router as findings
    from app.mail_routes import router as mail
    from app.pricing.routes import router as prices

    return [accounts, oidc, dashboard, clusters, findings, ignores, clouds, mail, prices]
