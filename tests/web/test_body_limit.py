"""Request bodies are capped before anything buffers them (uploads are checked again per field)."""

from __future__ import annotations

from collections.abc import Iterator

from app.config import Settings
from app.main import max_request_bytes
from tests.conftest import Browser


def test_a_body_over_the_cap_is_refused_with_413(client: Browser, settings: Settings) -> None:
    body = b"email=a%40b.c&password=" + b"x" * max_request_bytes(settings)
    response = client.post(
        "/signin", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413
    assert "too large" in response.text


def test_a_body_without_a_length_is_refused_with_411(client: Browser) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"email=a%40b.c&password=x"

    response = client.post(
        "/signin", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 411


def test_a_body_under_the_cap_reaches_the_route(client: Browser) -> None:
    response = client.submit("/signin", {"email": "nobody@example.com", "password": "x" * 20})
    assert response.status_code == 422  # the form's own answer, not the cap's
