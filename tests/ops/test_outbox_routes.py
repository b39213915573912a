"""/dev/outbox: lists and shows queued mail in local mode (escaped, links clickable, no sign-in
needed), and does not exist in production mode."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app import jobs
from app.config import Settings
from app.db import session_scope
from app.mail import OutgoingMail, queue_mail
from app.mail_routes import text_parts
from app.main import create_app
from tests.conftest import make_settings

EVIL = '<script>alert("x")</script>'
LINK = "http://127.0.0.1:8000/password/reset/tok-123"


def _queue(factory: sessionmaker[Session], **values: str) -> OutgoingMail:
    factory.configure(info=jobs.sender_info(lambda name, kwargs: None))
    with session_scope(factory) as session:
        return queue_mail(session, **values)


def test_outbox_lists_newest_first_and_shows_a_message(settings: Settings, factory: Any) -> None:
    first = _queue(factory, to="ada@example.com", subject="Verify your email", text="hello")
    second = _queue(
        factory,
        to="bob@example.com",
        subject=f"Reset {EVIL}",
        text=f"Choose a new password: {LINK}.\nIgnore this if it was not you. {EVIL}\n"
        "javascript:alert(1) is not a link.",
    )
    with TestClient(create_app(settings)) as client:
        page = client.get("/dev/outbox")
        assert page.status_code == 200
        html = page.text
        assert EVIL not in html
        assert "Reset &lt;script&gt;" in html
        assert html.index(f"/dev/outbox/{second.id}") < html.index(f"/dev/outbox/{first.id}")
        assert "ada@example.com" in html
        assert "bob@example.com" in html

        shown = client.get(f"/dev/outbox/{second.id}")
        assert shown.status_code == 200
        body = shown.text
        assert EVIL not in body
        assert "&lt;script&gt;alert(" in body
        assert f'<a href="{LINK}">{LINK}</a>.' in body, "the link works, the full stop stays text"
        assert 'href="javascript:' not in body
        assert "bob@example.com" in body
        assert shown.headers["content-security-policy"].startswith("default-src 'self'")


def test_unknown_or_malformed_message_ids_are_404(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        assert client.get(f"/dev/outbox/{uuid.uuid4()}").status_code == 404
        assert client.get("/dev/outbox/not-an-id").status_code == 404


def test_outbox_does_not_exist_in_production(settings: Settings, factory: Any) -> None:
    mail = _queue(factory, to="ada@example.com", subject="Secret link", text=LINK)
    production = make_settings(
        settings.data_dir,
        mode="production",
        base_url="https://leftover.example",
        database_url=settings.database,
    )
    with TestClient(create_app(production), base_url="https://testserver") as client:
        for path in ("/dev/outbox", f"/dev/outbox/{mail.id}"):
            response = client.get(path)
            assert response.status_code == 404
            assert "Secret link" not in response.text


def test_text_parts_only_link_http_urls() -> None:
    assert text_parts("see https://a.example/x?y=1, then ftp://b and (http://c.example/d)") == [
        ("text", "see "),
        ("link", "https://a.example/x?y=1"),
        ("text", ", then ftp://b and ("),
        ("link", "http://c.example/d"),
        ("text", ")"),
    ]
    assert text_parts("") == []
