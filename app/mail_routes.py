"""/dev/outbox: the mail Leftover queued, readable in the browser — local mode only.

On a laptop without SMTP, reset and invitation links would otherwise be lost; here they can be
read before signing in. Outside local mode every URL below is a 404, as if it did not exist.
Bodies are shown as text: everything is escaped, and only http(s) URLs become links.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.mail import OutgoingMail
from app.web import render

router = APIRouter(prefix="/dev/outbox")

LIST_LIMIT = 200
_URL = re.compile(r"https?://[^\s<>\"'()\[\]{}]+")
_TRAILING = ".,;:!?"


def _local_session(request: Request) -> Iterator[Session]:
    settings: Settings = request.app.state.settings
    if not settings.local:
        raise HTTPException(status_code=404)
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        session.close()


LocalSession = Annotated[Session, Depends(_local_session)]


def text_parts(body: str) -> list[tuple[str, str]]:
    """``body`` split into ("text", …) and ("link", url) pieces; the template escapes both."""
    parts: list[tuple[str, str]] = []
    position = 0
    for match in _URL.finditer(body):
        url = match.group(0).rstrip(_TRAILING)
        end = match.start() + len(url)
        if match.start() > position:
            parts.append(("text", body[position : match.start()]))
        parts.append(("link", url))
        position = end
    if position < len(body):
        parts.append(("text", body[position:]))
    return parts


def _status(mail: OutgoingMail) -> tuple[str, str]:
    if mail.sent_at is not None:
        return "delivered", "success"
    if mail.last_error and mail.attempts:
        return "not delivered yet", "warning"
    return "queued", "neutral"


@router.get("", response_class=HTMLResponse)
def outbox(request: Request, session: LocalSession) -> HTMLResponse:
    """Every queued message, newest first (local mode only; no sign-in needed)."""
    mails = session.scalars(
        select(OutgoingMail)
        .order_by(OutgoingMail.created_at.desc(), OutgoingMail.id)
        .limit(LIST_LIMIT)
    ).all()
    rows = [{"mail": mail, "status": _status(mail)} for mail in mails]
    settings: Settings = request.app.state.settings
    return render(
        request,
        "dev/outbox.html",
        {"rows": rows, "outbox_dir": str(settings.outbox_dir.resolve()), "limit": LIST_LIMIT},
    )


@router.get("/{message_id}", response_class=HTMLResponse)
def outbox_message(request: Request, message_id: str, session: LocalSession) -> HTMLResponse:
    """One message: sender, recipient, subject and its text with clickable links."""
    try:
        ident = uuid.UUID(message_id)
    except ValueError:
        raise HTTPException(status_code=404) from None
    mail = session.get(OutgoingMail, ident)
    if mail is None:
        raise HTTPException(status_code=404)
    settings: Settings = request.app.state.settings
    return render(
        request,
        "dev/outbox_message.html",
        {
            "mail": mail,
            "status": _status(mail),
            "mail_from": settings.mail_from,
            "parts": text_parts(mail.text_body),
        },
    )
