"""Sign-in with Google, GitHub or Microsoft: the provider registry and the protocol.

Google and Microsoft speak OpenID Connect (discovery metadata, authorization code + PKCE, an ID
token verified here: RS256 signature against the provider's JWKS, ``iss``, ``aud``/``azp``,
``exp``/``iat`` and our ``nonce``). GitHub speaks plain OAuth 2 (code + PKCE), and the person is
read from its API: ``/user`` for the stable numeric id and ``/user/emails`` for the primary
address, which must be verified.

Flow state (provider, ``state``, ``nonce``, PKCE verifier and an invitation token carried through
the flow) lives in one short-lived cookie sealed with Fernet (AES + HMAC, key derived from the
app's signing key, 10-minute TTL checked on open). Nothing is stored server-side, the verifier
and invitation token are not readable by anyone holding the cookie, and the callback only
proceeds when the ``state`` it receives equals the one sealed in *this browser's* cookie.

Protocol helpers come from Authlib (grant URI, S256 code challenge, random tokens); the JOSE
work uses joserfc (Authlib's own JOSE library); HTTP uses httpx with timeouts, no redirects and
a response size cap. Nothing here logs or returns a token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any, Literal
from urllib.parse import quote

import httpx
from authlib.common.security import generate_token  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]
from cryptography.fernet import Fernet, InvalidToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from app.accounts.cookies import IDENTITY_PROVIDERS
from app.accounts.schemas import clean_email
from app.config import Settings

FLOW_COOKIE = "leftover_oidc"
FLOW_COOKIE_PATH = "/auth/"
FLOW_TTL_SECONDS = 600
METADATA_TTL_SECONDS = 3600
MAX_RESPONSE_BYTES = 1024 * 1024
CLOCK_LEEWAY_SECONDS = 60
ID_TOKEN_ALGORITHMS = ("RS256",)
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
GITHUB_API_HEADERS = {
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
}
_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$")
LABELS = dict(IDENTITY_PROVIDERS)


class SignInRefused(Exception):
    """The external sign-in cannot go on; ``message`` is for the person, in plain words."""

    def __init__(self, message: str, *, reason: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason  # a short code for logs and tests, never a token
        self.status_code = status_code


@dataclass(frozen=True)
class Provider:
    """One enabled identity provider, as configured in settings."""

    key: str
    label: str
    kind: Literal["oidc", "github"]
    client_id: str
    client_secret: str
    scope: str
    metadata_url: str = ""  # OIDC
    base_url: str = ""  # GitHub: the web host (authorize, access_token)
    api_url: str = ""  # GitHub: the REST API


@dataclass(frozen=True)
class Flow:
    """What the callback needs to finish the sign-in started in this browser."""

    provider: str
    state: str
    nonce: str
    verifier: str
    invitation: str | None = None


@dataclass(frozen=True)
class ExternalProfile:
    """Who the provider says signed in: a stable subject and a verified email."""

    provider: str
    subject: str
    email: str
    display_name: str


# Registry -------------------------------------------------------------------------------------


def _secret(settings: Settings, key: str) -> str:
    value = getattr(settings, f"{key}_client_secret", None)
    return value.get_secret_value() if value is not None else ""


def _microsoft_metadata_url(settings: Settings) -> str:
    tenant = settings.microsoft_tenant.strip()
    if not _TENANT.match(tenant):
        raise SignInRefused(
            "Sign-in with Microsoft is misconfigured (the tenant is not a valid name or id). "
            "Tell your administrator.",
            reason="bad_tenant",
            status_code=503,
        )
    return settings.microsoft_metadata_url.replace("{tenant}", quote(tenant, safe=""))


def get_provider(settings: Settings, key: str) -> Provider | None:
    """The provider ``key`` if settings enable it (a client id is set, as for the buttons)."""
    if key not in LABELS or not getattr(settings, f"{key}_client_id", None):
        return None
    client_id: str = getattr(settings, f"{key}_client_id")
    common = {"key": key, "label": LABELS[key], "client_id": client_id}
    secret = _secret(settings, key)
    if key == "github":
        return Provider(
            **common,
            kind="github",
            client_secret=secret,
            scope="read:user user:email",
            base_url=settings.github_base_url.rstrip("/"),
            api_url=settings.github_api_url.rstrip("/"),
        )
    metadata_url = (
        settings.google_metadata_url if key == "google" else _microsoft_metadata_url(settings)
    )
    return Provider(
        **common,
        kind="oidc",
        client_secret=secret,
        scope="openid email profile",
        metadata_url=metadata_url,
    )


def redirect_uri(settings: Settings, provider: Provider) -> str:
    """Our callback URL, built from settings (never from the request's Host header)."""
    return f"{settings.base_url.rstrip('/')}/auth/{provider.key}/callback"


# The flow cookie ------------------------------------------------------------------------------


def _fernet(settings: Settings) -> Fernet:
    key = hmac.new(settings.signing_key(), b"leftover:oidc-flow:v1", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(flow: Flow, *, settings: Settings) -> str:
    """The flow as an encrypted, authenticated, timestamped cookie value."""
    return _fernet(settings).encrypt(json.dumps(asdict(flow)).encode()).decode()


def unseal(value: str | None, *, settings: Settings) -> Flow | None:
    """The flow sealed in ``value`` if it is ours and under ``FLOW_TTL_SECONDS`` old."""
    if not value or len(value) > 4096:
        return None
    try:
        data = json.loads(_fernet(settings).decrypt(value.encode(), ttl=FLOW_TTL_SECONDS))
        return Flow(**data)
    except (InvalidToken, ValueError, TypeError):
        return None


def state_matches(flow: Flow, provider: Provider, state: str) -> bool:
    """Whether the callback belongs to the flow this browser started with this provider."""
    return flow.provider == provider.key and hmac.compare_digest(
        flow.state.encode(), state.encode()
    )


# HTTP -----------------------------------------------------------------------------------------


def http_client() -> httpx.Client:
    """The client for calls to providers: timeouts, no redirects, an honest User-Agent."""
    return httpx.Client(timeout=TIMEOUT, follow_redirects=False, headers={"User-Agent": "Leftover"})


def _unreachable(provider: Provider) -> SignInRefused:
    return SignInRefused(
        f"Leftover could not reach {provider.label}. Try again in a minute.",
        reason="unreachable",
        status_code=502,
    )


def _json(
    http: httpx.Client,
    provider: Provider,
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    data: dict[str, str] | None = None,
    ok_statuses: tuple[int, ...] = (200,),
) -> Any:
    """The JSON body of one call, read up to ``MAX_RESPONSE_BYTES``; SignInRefused otherwise."""
    try:
        with http.stream(method, url, headers=headers, data=data) as response:
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_RESPONSE_BYTES:
                    raise _unreachable(provider)
            status = response.status_code
    except httpx.HTTPError:
        raise _unreachable(provider) from None
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if status not in ok_statuses and not (isinstance(parsed, dict) and "error" in parsed):
        raise _unreachable(provider)
    if parsed is None:
        raise _unreachable(provider)
    return parsed


_metadata_lock = threading.Lock()
_metadata_cache: dict[str, tuple[float, dict[str, Any]]] = {}


def metadata(http: httpx.Client, provider: Provider, *, settings: Settings) -> dict[str, Any]:
    """The provider's OIDC discovery document (cached for an hour per URL)."""
    now = time.monotonic()
    with _metadata_lock:
        cached = _metadata_cache.get(provider.metadata_url)
    if cached and now - cached[0] < METADATA_TTL_SECONDS:
        return cached[1]
    doc = _json(http, provider, "GET", provider.metadata_url)
    needed = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
    if not isinstance(doc, dict) or not all(isinstance(doc.get(k), str) for k in needed):
        raise _unreachable(provider)
    if not settings.local and not all(doc[k].startswith("https://") for k in needed[1:]):
        raise _unreachable(provider)
    with _metadata_lock:
        _metadata_cache[provider.metadata_url] = (now, doc)
    return doc


# Starting -------------------------------------------------------------------------------------


def begin(
    http: httpx.Client, provider: Provider, *, settings: Settings, invitation: str | None
) -> tuple[str, Flow]:
    """The provider's authorization URL and the flow to seal in this browser's cookie."""
    flow = Flow(
        provider=provider.key,
        state=generate_token(43),
        nonce=generate_token(43),
        verifier=generate_token(64),  # RFC 7636: 43-128 characters
        invitation=invitation,
    )
    if provider.kind == "github":
        endpoint = f"{provider.base_url}/login/oauth/authorize"
        extra: dict[str, str] = {}
    else:
        endpoint = metadata(http, provider, settings=settings)["authorization_endpoint"]
        extra = {"nonce": flow.nonce}
    url: str = prepare_grant_uri(
        endpoint,
        client_id=provider.client_id,
        response_type="code",
        redirect_uri=redirect_uri(settings, provider),
        scope=provider.scope,
        state=flow.state,
        code_challenge=create_s256_code_challenge(flow.verifier),
        code_challenge_method="S256",
        **extra,
    )
    return url, flow


# Finishing ------------------------------------------------------------------------------------


def flow_expired() -> SignInRefused:
    """No sealed flow in this browser matches the callback (expired, replayed, forged)."""
    return SignInRefused(
        "This sign-in has expired or was started in another browser, so it was not finished. "
        "Start again from the sign-in page.",
        reason="state_mismatch",
    )


def refused_by_provider(provider: Provider, error: str) -> SignInRefused:
    """The provider sent the person back with ``error``; only a bare error code is shown."""
    if error == "access_denied":
        return SignInRefused(
            f"Signing in with {provider.label} was cancelled, so nothing changed. "
            "Try again, or sign in with your email and password.",
            reason="access_denied",
        )
    code = f" ({error})" if re.fullmatch(r"[a-z_]{1,40}", error) else ""  # never echo prose
    return SignInRefused(
        f"{provider.label} could not sign you in{code}. Try again.", reason="provider_error"
    )


def _not_verifiable(provider: Provider, reason: str) -> SignInRefused:
    return SignInRefused(
        f"{provider.label}'s answer could not be verified, so you are not signed in. "
        "Start again; if it keeps happening, tell your administrator.",
        reason=reason,
    )


def _unverified_email(provider: Provider, email: str) -> SignInRefused:
    where = (
        "on GitHub (Settings → Emails)" if provider.kind == "github" else "with " + provider.label
    )
    return SignInRefused(
        f"{provider.label} has not confirmed that {email} is yours, so Leftover will not sign "
        f"you in with it. Verify the address {where}, then try again.",
        reason="unverified_email",
    )


def _no_email(provider: Provider) -> SignInRefused:
    return SignInRefused(
        f"{provider.label} did not share an email address with Leftover. Allow access to "
        "your email address and try again.",
        reason="no_email",
    )


def _usable_email(provider: Provider, email: Any) -> str:
    if not isinstance(email, str) or not email:
        raise _no_email(provider)
    try:
        return clean_email(email)
    except ValueError:
        raise SignInRefused(
            f"{provider.label} gave an email address Leftover cannot use.", reason="bad_email"
        ) from None


def _display_name(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    return re.sub(r"[\x00-\x1f\x7f]", "", value).strip()[:100]


def _token_request(
    http: httpx.Client, provider: Provider, url: str, *, code: str, flow: Flow, settings: Settings
) -> dict[str, Any]:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri(settings, provider),
        "client_id": provider.client_id,
        "code_verifier": flow.verifier,
    }
    if provider.client_secret:
        data["client_secret"] = provider.client_secret
    body = _json(http, provider, "POST", url, headers={"Accept": "application/json"}, data=data)
    if not isinstance(body, dict):
        raise _not_verifiable(provider, "bad_token_response")
    if "error" in body:
        raise _not_verifiable(provider, "token_error")
    return body


def finish(
    http: httpx.Client, provider: Provider, flow: Flow, *, code: str, settings: Settings
) -> ExternalProfile:
    """Exchange ``code`` and return the verified person (SignInRefused on any doubt)."""
    if not code or len(code) > 2048:
        raise _not_verifiable(provider, "no_code")
    if provider.kind == "github":
        return _finish_github(http, provider, flow, code=code, settings=settings)
    return _finish_oidc(http, provider, flow, code=code, settings=settings)


def _finish_oidc(
    http: httpx.Client, provider: Provider, flow: Flow, *, code: str, settings: Settings
) -> ExternalProfile:
    meta = metadata(http, provider, settings=settings)
    tokens = _token_request(
        http, provider, meta["token_endpoint"], code=code, flow=flow, settings=settings
    )
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str):
        raise _not_verifiable(provider, "no_id_token")
    claims = verify_id_token(http, provider, meta, id_token, nonce=flow.nonce)
    if "email" not in claims and isinstance(meta.get("userinfo_endpoint"), str):
        claims = {**_userinfo(http, provider, meta["userinfo_endpoint"], tokens, claims), **claims}
    email = _usable_email(provider, claims.get("email"))
    if not _oidc_email_verified(claims, email):
        raise _unverified_email(provider, email)
    return ExternalProfile(
        provider=provider.key,
        subject=claims["sub"],
        email=email,
        display_name=_display_name(claims.get("name")),
    )


def _oidc_email_verified(claims: dict[str, Any], email: str) -> bool:
    """``email_verified`` (Google, standard OIDC); Microsoft states it through the optional
    ``xms_edov`` (email domain owner verified) or ``verified_primary_email`` claims."""
    if claims.get("email_verified") in (True, "true"):
        return True
    if claims.get("xms_edov") in (True, "true", 1, "1"):
        return True
    primary = claims.get("verified_primary_email")
    return isinstance(primary, list) and email in (str(v).strip().lower() for v in primary)


def _userinfo(
    http: httpx.Client,
    provider: Provider,
    url: str,
    tokens: dict[str, Any],
    claims: dict[str, Any],
) -> dict[str, Any]:
    access = tokens.get("access_token")
    if not isinstance(access, str):
        return {}
    info = _json(http, provider, "GET", url, headers={"Authorization": f"Bearer {access}"})
    if not isinstance(info, dict) or info.get("sub") != claims["sub"]:
        raise _not_verifiable(provider, "userinfo_subject")
    return {k: info[k] for k in ("email", "email_verified", "name") if k in info}


def verify_id_token(
    http: httpx.Client,
    provider: Provider,
    meta: dict[str, Any],
    id_token: str,
    *,
    nonce: str,
) -> dict[str, Any]:
    """The ID token's claims once its signature (the provider's JWKS), issuer, audience,
    expiry and nonce check out; SignInRefused otherwise."""
    jwks = _json(http, provider, "GET", meta["jwks_uri"])
    try:
        keys = KeySet.import_key_set(jwks)
        token = jwt.decode(id_token, keys, algorithms=list(ID_TOKEN_ALGORITHMS))
    except (JoseError, ValueError, TypeError, KeyError):
        raise _not_verifiable(provider, "bad_signature") from None
    claims: dict[str, Any] = token.claims
    issuer: str = meta["issuer"]
    if "{tenantid}" in issuer:  # Microsoft's multi-tenant endpoints
        tid = claims.get("tid")
        if not isinstance(tid, str) or not re.fullmatch(r"[0-9a-fA-F-]{36}", tid):
            raise _not_verifiable(provider, "bad_issuer")
        issuer = issuer.replace("{tenantid}", tid)
    registry = jwt.JWTClaimsRegistry(
        leeway=CLOCK_LEEWAY_SECONDS,
        iss={"essential": True, "value": issuer},
        sub={"essential": True},
        aud={"essential": True, "value": provider.client_id},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise _not_verifiable(provider, f"bad_claim:{type(exc).__name__}") from None
    aud = claims["aud"]
    if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != provider.client_id:
        raise _not_verifiable(provider, "bad_azp")
    if not isinstance(claims["sub"], str) or not 0 < len(claims["sub"]) <= 255:
        raise _not_verifiable(provider, "bad_sub")
    return claims


def _finish_github(
    http: httpx.Client, provider: Provider, flow: Flow, *, code: str, settings: Settings
) -> ExternalProfile:
    tokens = _token_request(
        http,
        provider,
        f"{provider.base_url}/login/oauth/access_token",
        code=code,
        flow=flow,
        settings=settings,
    )
    access = tokens.get("access_token")
    if not isinstance(access, str) or not access:
        raise _not_verifiable(provider, "no_access_token")
    headers = {**GITHUB_API_HEADERS, "Authorization": f"Bearer {access}"}
    user = _json(http, provider, "GET", f"{provider.api_url}/user", headers=headers)
    emails = _json(http, provider, "GET", f"{provider.api_url}/user/emails", headers=headers)
    if not isinstance(user, dict) or not isinstance(user.get("id"), int):
        raise _not_verifiable(provider, "bad_user")
    listed = emails if isinstance(emails, list) else []
    primary = next((e for e in listed if isinstance(e, dict) and e.get("primary") is True), None)
    if primary is None:
        raise _no_email(provider)
    email = _usable_email(provider, primary.get("email"))
    if primary.get("verified") is not True:
        raise _unverified_email(provider, email)
    return ExternalProfile(
        provider=provider.key,
        subject=str(user["id"]),
        email=email,
        display_name=_display_name(user.get("name") or user.get("login")),
    )
