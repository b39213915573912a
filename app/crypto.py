"""Credentials at rest: the only code that touches encryption keys (SECURITY.md 5).

AES-256-GCM with a key ring: encrypt with the newest key, decrypt with whichever key a value
names, so keys rotate by prepending a new one to ``LEFTOVER_ENCRYPTION_KEYS`` and re-encrypting
at leisure (``leftover rotate-keys``). The associated data binds a ciphertext to its row and
purpose ("cloud_accounts:<id>:secret"), so a value copied into another row does not decrypt.

``KeyRing`` is the seam for a KMS: anything with ``encrypt``/``decrypt`` of the same shape can
replace ``LocalKeyRing`` (envelope encryption with a data key per value, for example).

A stored value looks like ``v1.<key id>.<nonce>.<ciphertext>`` (URL-safe base64 parts); the key
id is a short hash of the key, never the key.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12


class DecryptionFailed(Exception):
    """A stored value could not be decrypted: unknown key, tampered, or moved to another row."""


class KeyRing(Protocol):
    def encrypt(self, plaintext: bytes, *, context: str) -> str: ...

    def decrypt(self, token: str, *, context: str) -> bytes: ...


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"leftover-key-id:" + key).hexdigest()[:12]


def parse_keys(value: str) -> list[bytes]:
    """Keys from a comma-separated list of URL-safe base64 32-byte keys, newest first."""
    keys = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            key = _unb64(part)
        except ValueError:
            raise ValueError("LEFTOVER_ENCRYPTION_KEYS holds a value that is not base64") from None
        if len(key) != KEY_BYTES:
            raise ValueError(
                f"LEFTOVER_ENCRYPTION_KEYS: each key must be {KEY_BYTES} bytes "
                "(python -c 'import secrets,base64; "
                "print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())')"
            )
        keys.append(key)
    return keys


def new_key() -> str:
    """A fresh key in the form LEFTOVER_ENCRYPTION_KEYS expects."""
    return _b64(secrets.token_bytes(KEY_BYTES))


def local_key_file(data_dir: Path) -> list[bytes]:
    """Local mode without configured keys: one key made once and kept in ``data_dir``."""
    path = data_dir / ".leftover-encryption-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(new_key())
    return parse_keys(path.read_text())


class LocalKeyRing:
    """AES-GCM with keys held in memory; the first key encrypts, any key decrypts."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("a key ring needs at least one key")
        self._newest = keys[0]
        self._by_id = {key_id(k): AESGCM(k) for k in keys}

    def encrypt(self, plaintext: bytes, *, context: str) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = AESGCM(self._newest).encrypt(nonce, plaintext, context.encode())
        return ".".join((VERSION, key_id(self._newest), _b64(nonce), _b64(sealed)))

    def decrypt(self, token: str, *, context: str) -> bytes:
        parts = token.split(".")
        if len(parts) != 4 or parts[0] != VERSION:
            raise DecryptionFailed("not a Leftover ciphertext")
        cipher = self._by_id.get(parts[1])
        if cipher is None:
            raise DecryptionFailed("encrypted with a key that is no longer configured")
        try:
            return cipher.decrypt(_unb64(parts[2]), _unb64(parts[3]), context.encode())
        except (InvalidTag, ValueError):
            raise DecryptionFailed("the value was altered or belongs to another row") from None

    def is_current(self, token: str) -> bool:
        """Whether ``token`` is already encrypted with the newest key (rotation skips it)."""
        parts = token.split(".")
        return len(parts) == 4 and parts[1] == key_id(self._newest)
