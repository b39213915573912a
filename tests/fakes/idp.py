"""A fake identity provider on 127.0.0.1 speaking enough OpenID Connect and GitHub OAuth for
the sign-in tests: a real HTTP server (stdlib), a real RSA key (cryptography), RS256 ID tokens
signed by hand (so the app's verifier is checked against an independent implementation).

Paths (``idp.url`` is ``http://127.0.0.1:<port>``):

- Google-style OIDC: ``/google/.well-known/openid-configuration``, ``/google/authorize``,
  ``/google/token``, ``/google/userinfo``, ``/jwks``.
- Microsoft-style OIDC per tenant: ``/ms/<tenant>/v2.0/.well-known/openid-configuration``,
  ``/ms/<tenant>/oauth2/v2.0/authorize`` and ``/token``. For ``common``/``organizations``/
  ``consumers`` the issuer is the ``{tenantid}`` template and tokens carry ``tid``.
- GitHub-style OAuth 2: ``/login/oauth/authorize``, ``/login/oauth/access_token``,
  ``/api/user``, ``/api/user/emails``.

``/authorize`` answers at once: a redirect back with a code for ``idp.user`` (or
``idp.github_user``), or with ``error=`` when ``knobs.error`` is set. Knobs make bad tokens:
wrong audience, issuer or nonce, expired, signed with another key, tampered after signing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

MS_MULTI_TENANTS = frozenset({"common", "organizations", "consumers"})
HOME_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _uint(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass
class FakeUser:
    sub: str = "google-sub-1"
    email: str = "ada@example.com"
    email_verified: Any = True  # None: leave the claim out
    name: str = "Ada Lovelace"
    extra: dict[str, Any] = field(default_factory=dict)  # more ID token claims (xms_edov, tid)


@dataclass
class GitHubUser:
    id: int = 4242
    login: str = "ada"
    name: str | None = "Ada Lovelace"
    emails: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"email": "ada@example.com", "primary": True, "verified": True},
            {"email": "ada@old.example.com", "primary": False, "verified": False},
        ]
    )


@dataclass
class Knobs:
    error: str | None = None  # /authorize redirects back with this error
    audience: str | None = None
    issuer: str | None = None
    nonce: str | None = None
    expired: bool = False
    wrong_key: bool = False
    tampered: bool = False
    omit_email_in_id_token: bool = False  # the app must fall back to /userinfo


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str | None
    nonce: str | None
    issuer: str | None  # None: a GitHub grant
    subject: str


class FakeIdP:
    """Start with ``with FakeIdP() as idp``; change ``user``, ``github_user``, ``knobs``."""

    def __init__(self, *, clients: dict[str, str] | None = None) -> None:
        self.clients = clients or {}  # client_id -> client_secret
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "fake-key-1"
        self.user = FakeUser()
        self.github_user = GitHubUser()
        self.knobs = Knobs()
        self.grants: dict[str, Grant] = {}
        self.access_tokens: dict[str, str] = {}  # token -> subject
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.issued: list[str] = []  # every code, access token and ID token handed out
        self.requests: list[str] = []  # request paths (no query)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # lifecycle ---------------------------------------------------------------------------------

    def __enter__(self) -> FakeIdP:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread.is_alive():  # shutdown() waits for serve_forever, so only if it runs
            self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def google_metadata_url(self) -> str:
        return f"{self.url}/google/.well-known/openid-configuration"

    def microsoft_metadata_template(self) -> str:
        return f"{self.url}/ms/{{tenant}}/v2.0/.well-known/openid-configuration"

    # tokens ------------------------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()
        jwk = {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid}
        return {"keys": [{**jwk, "n": _uint(numbers.n), "e": _uint(numbers.e)}]}

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = (
            b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        )
        key = self.other_key if self.knobs.wrong_key else self.key
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        token = signing_input + "." + b64url(signature)
        if self.knobs.tampered:
            forged = {**claims, "email": "mallory@example.com"}
            token = ".".join(
                [token.split(".")[0], b64url(json.dumps(forged).encode()), token.split(".")[2]]
            )
        return token

    def id_token(self, grant: Grant) -> str:
        now = int(time.time())
        assert grant.issuer is not None
        issuer = grant.issuer
        claims: dict[str, Any] = {}
        if "{tenantid}" in issuer:
            issuer = issuer.replace("{tenantid}", HOME_TENANT_ID)
            claims["tid"] = HOME_TENANT_ID
        claims.update(
            iss=self.knobs.issuer or issuer,
            sub=grant.subject,
            aud=self.knobs.audience or grant.client_id,
            iat=now - 7200 if self.knobs.expired else now,
            exp=now - 3600 if self.knobs.expired else now + 600,
            nonce=self.knobs.nonce or grant.nonce,
            name=self.user.name,
        )
        if not self.knobs.omit_email_in_id_token:
            claims["email"] = self.user.email
            if self.user.email_verified is not None:
                claims["email_verified"] = self.user.email_verified
        claims.update(self.user.extra)
        return self.sign(claims)

    def _issue(self, value: str) -> str:
        self.issued.append(value)
        return value

    # HTTP --------------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                idp._route(self, "GET")

            def do_POST(self) -> None:
                idp._route(self, "POST")

        return Handler

    def _send(self, h: BaseHTTPRequestHandler, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _redirect(self, h: BaseHTTPRequestHandler, url: str) -> None:
        h.send_response(302)
        h.send_header("Location", url)
        h.send_header("Content-Length", "0")
        h.end_headers()

    def _route(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        path = parts.path
        self.requests.append(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        form: dict[str, str] = {}
        if method == "POST":
            length = int(h.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(h.rfile.read(length).decode()).items()}
        segments = path.strip("/").split("/")
        if path == "/jwks":
            return self._send(h, 200, self.jwks())
        if path == "/google/.well-known/openid-configuration":
            return self._send(h, 200, self._metadata(f"{self.url}/google", f"{self.url}/google"))
        if segments[0] == "ms" and path.endswith("/v2.0/.well-known/openid-configuration"):
            tenant = segments[1]
            issuer = f"{self.url}/ms/{'{tenantid}' if tenant in MS_MULTI_TENANTS else tenant}/v2.0"
            return self._send(h, 200, self._metadata(issuer, f"{self.url}/ms/{tenant}/oauth2/v2.0"))
        if path.endswith("/authorize") and method == "GET":
            return self._authorize(h, path, query)
        if (path.endswith("/token") or path == "/login/oauth/access_token") and method == "POST":
            return self._token(h, path, form)
        if path in ("/google/userinfo", "/api/user", "/api/user/emails"):
            return self._api(h, path)
        return self._send(h, 404, {"error": "not_found"})

    def _metadata(self, issuer: str, endpoints: str) -> dict[str, Any]:
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{endpoints}/authorize",
            "token_endpoint": f"{endpoints}/token",
            "userinfo_endpoint": f"{self.url}/google/userinfo",
            "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        }

    def _issuer_for(self, path: str) -> str | None:
        if path.startswith("/google/"):
            return f"{self.url}/google"
        if path.startswith("/ms/"):
            tenant = path.split("/")[2]
            return f"{self.url}/ms/{'{tenantid}' if tenant in MS_MULTI_TENANTS else tenant}/v2.0"
        return None  # GitHub

    def _authorize(self, h: BaseHTTPRequestHandler, path: str, query: dict[str, str]) -> None:
        self.authorize_requests.append({"path": path, **query})
        redirect_uri, state = query.get("redirect_uri", ""), query.get("state", "")
        if query.get("client_id") not in self.clients or not redirect_uri:
            return self._send(h, 400, {"error": "invalid_client"})
        if self.knobs.error:
            params = {"error": self.knobs.error, "state": state}
            return self._redirect(h, f"{redirect_uri}?{urlencode(params)}")
        issuer = self._issuer_for(path)
        code = self._issue(secrets.token_urlsafe(24))
        self.grants[code] = Grant(
            client_id=query["client_id"],
            redirect_uri=redirect_uri,
            challenge=query.get("code_challenge")
            if query.get("code_challenge_method") == "S256"
            else None,
            nonce=query.get("nonce"),
            issuer=issuer,
            subject=self.user.sub if issuer else str(self.github_user.id),
        )
        self._redirect(h, f"{redirect_uri}?{urlencode({'code': code, 'state': state})}")

    def _token(self, h: BaseHTTPRequestHandler, path: str, form: dict[str, str]) -> None:
        self.token_requests.append({"path": path, **form})
        grant = self.grants.pop(form.get("code", ""), None)
        client_id = form.get("client_id", "")
        # GitHub answers errors with 200 and an "error" member; OIDC providers with 400/401.
        github = path == "/login/oauth/access_token"
        if self.clients.get(client_id) != form.get("client_secret") or client_id == "":
            return self._send(h, 200 if github else 401, {"error": "invalid_client"})
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if (
            grant is None
            or grant.client_id != client_id
            or grant.redirect_uri != form.get("redirect_uri")
            or (grant.challenge is not None and b64url(digest) != grant.challenge)
        ):
            error = "bad_verification_code" if github else "invalid_grant"
            return self._send(h, 200 if github else 400, {"error": error})
        access = self._issue(secrets.token_urlsafe(24))
        self.access_tokens[access] = grant.subject
        if grant.issuer is None:  # GitHub answers 200 even for errors; this is success
            return self._send(h, 200, {"access_token": access, "token_type": "bearer"})
        body = {"access_token": access, "token_type": "Bearer", "expires_in": 3600}
        body["id_token"] = self._issue(self.id_token(grant))
        self._send(h, 200, body)

    def _api(self, h: BaseHTTPRequestHandler, path: str) -> None:
        auth = h.headers.get("Authorization", "")
        subject = self.access_tokens.get(auth.removeprefix("Bearer ").strip())
        if not auth.startswith("Bearer ") or subject is None:
            return self._send(h, 401, {"message": "Bad credentials"})
        if path == "/google/userinfo":
            info: dict[str, Any] = {
                "sub": subject,
                "email": self.user.email,
                "name": self.user.name,
            }
            if self.user.email_verified is not None:
                info["email_verified"] = self.user.email_verified
            return self._send(h, 200, info)
        gh = self.github_user
        if path == "/api/user":
            return self._send(h, 200, {"id": gh.id, "login": gh.login, "name": gh.name})
        return self._send(h, 200, gh.emails)
