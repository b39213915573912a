"""Credentials at rest: AES-GCM bound to its row, key rotation, and the settings that hold keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import SettingsError
from app.crypto import DecryptionFailed, LocalKeyRing, key_id, new_key, parse_keys
from tests.conftest import make_settings


def test_a_value_decrypts_only_in_its_own_context() -> None:
    ring = LocalKeyRing(parse_keys(new_key()))
    sealed = ring.encrypt(b"s3cret", context="cloud_accounts:1:secret")
    assert b"s3cret" not in sealed.encode()
    assert ring.decrypt(sealed, context="cloud_accounts:1:secret") == b"s3cret"
    with pytest.raises(DecryptionFailed, match="another row"):
        ring.decrypt(sealed, context="cloud_accounts:2:secret")


def test_two_encryptions_differ_and_tampering_is_detected() -> None:
    ring = LocalKeyRing(parse_keys(new_key()))
    first, second = (ring.encrypt(b"x", context="c") for _ in range(2))
    assert first != second, "a fresh nonce each time"
    version, kid, nonce, body = first.split(".")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(DecryptionFailed):
        ring.decrypt(".".join((version, kid, nonce, flipped)), context="c")
    with pytest.raises(DecryptionFailed, match="not a Leftover ciphertext"):
        ring.decrypt("garbage", context="c")


def test_rotation_decrypts_with_any_key_and_encrypts_with_the_newest() -> None:
    old, new = new_key(), new_key()
    sealed_old = LocalKeyRing(parse_keys(old)).encrypt(b"v", context="c")
    ring = LocalKeyRing(parse_keys(f"{new}, {old}"))
    assert ring.decrypt(sealed_old, context="c") == b"v"
    assert not ring.is_current(sealed_old)
    resealed = ring.encrypt(b"v", context="c")
    assert ring.is_current(resealed)
    assert resealed.split(".")[1] == key_id(parse_keys(new)[0])
    with pytest.raises(DecryptionFailed, match="no longer configured"):
        LocalKeyRing(parse_keys(new)).decrypt(sealed_old, context="c")


def test_the_key_id_does_not_reveal_the_key() -> None:
    key = parse_keys(new_key())[0]
    assert key.hex()[:12] != key_id(key)
    assert len(key_id(key)) == 12


@pytest.mark.parametrize("value", ["not base64!", "c2hvcnQ", f"{new_key()},abc"])
def test_bad_keys_in_settings_are_refused_with_a_message(tmp_path: Path, value: str) -> None:
    with pytest.raises((SettingsError, ValueError), match="LEFTOVER_ENCRYPTION_KEYS"):
        make_settings(tmp_path, encryption_keys=value)


def test_production_needs_encryption_keys(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="LEFTOVER_ENCRYPTION_KEYS must be set"):
        make_settings(
            tmp_path,
            "postgresql+psycopg://x@127.0.0.1/x",
            mode="production",
            base_url="https://leftover.example",
            secret_key="k" * 48,
            encryption_keys="",
        )


def test_local_mode_makes_one_key_and_keeps_it(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    sealed = settings.key_ring().encrypt(b"v", context="c")
    assert settings.key_ring().decrypt(sealed, context="c") == b"v"
    key_file = tmp_path / ".leftover-encryption-key"
    assert key_file.stat().st_mode & 0o777 == 0o600
