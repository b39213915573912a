"""Passwords, opaque tokens and CSRF: the primitives the accounts domain builds on.

- Passwords: Argon2id (argon2-cffi's defaults, RFC 9106's second recommended profile),
  rehashed on sign-in when the parameters change.
- Tokens (session ids, reset and invitation links): 256 random bits, URL-safe; only their
  SHA-256 is stored, so a database leak does not hand out live sessions or links.
- CSRF: a token derived with HMAC from the visitor's session cookie, sent back in a form field
  or the ``X-CSRF-Token`` header (HTMX adds it through ``hx-headers``). Nothing to store, and it
  changes whenever the session id rotates.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Verified against when the account does not exist, so both paths take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; constant work when there is no stored hash."""
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    if password.strip() == "" or len(set(password)) < 4:
        return "Choose a less predictable password."
    return None


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(key: bytes, session_value: str) -> str:
    """The CSRF token for a visitor whose session cookie is ``session_value``."""
    return hmac.new(key, b"csrf:" + session_value.encode(), hashlib.sha256).hexdigest()


def csrf_valid(key: bytes, session_value: str | None, presented: str | None) -> bool:
    if not session_value or not presented:
        return False
    return hmac.compare_digest(csrf_token(key, session_value), presented)
