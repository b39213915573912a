"""What every price reader shares: bounded JSON GETs, number checks, and picking one price
per id from the candidates an API lists."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import httpx

MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # the AWS ELB offer file is a few MB; the cap stops a runaway
MAX_PAGES = 200  # a paginated listing that never ends is a broken API, not a big one


class SourceUnavailable(Exception):
    """The price API could not be reached or refused the request (the message says which)."""


class MalformedResponse(Exception):
    """The price API answered with something other than its documented shape."""


@dataclass(frozen=True, slots=True)
class FoundPrice:
    """A price read from an API for one book id, and where exactly it came from."""

    value: Decimal
    source: str  # recorded as the entry's source: the API's URL (never a key)
    detail: str  # which meter/SKU/product it was, for the report


@dataclass
class SourceResult:
    """What one provider's reader found; ``skipped`` ids were not looked up (and why)."""

    found: dict[str, FoundPrice] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class Candidates:
    """Prices seen for each id; the best-ranked wins, a tie between different prices is
    ambiguous and yields nothing (a wrong price is worse than the embedded one)."""

    seen: dict[str, list[tuple[str, Decimal, str]]] = field(default_factory=dict)

    def add(self, price_id: str, value: Decimal, detail: str, *, rank: str = "") -> None:
        self.seen.setdefault(price_id, []).append((rank, value, detail))

    def resolve(self, source: str, notes: list[str]) -> dict[str, FoundPrice]:
        found: dict[str, FoundPrice] = {}
        for price_id, options in sorted(self.seen.items()):
            best = max(rank for rank, _, _ in options)
            top = [(value, detail) for rank, value, detail in options if rank == best]
            values = {value for value, _ in top}
            if len(values) > 1:
                listed = ", ".join(f"{d} = {v}" for v, d in top)
                notes.append(f"{price_id}: several different prices match ({listed}); kept as is")
                continue
            value, detail = top[0]
            found[price_id] = FoundPrice(value=value, source=source, detail=detail)
        return found


def decimal_of(raw: Any, what: str) -> Decimal:
    """A finite non-negative price from a JSON number or numeric string."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise MalformedResponse(f"{what}: expected a number, got {type(raw).__name__}")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise MalformedResponse(f"{what}: {str(raw)[:40]!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise MalformedResponse(f"{what}: {value} is not a price")
    return value


def expect(value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    """``value`` if it has the JSON type the API documents; MalformedResponse otherwise."""
    if not isinstance(value, kind):
        raise MalformedResponse(f"{what}: expected {_names(kind)}, got {type(value).__name__}")
    return value


def _names(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {dict: "an object", list: "a list", str: "a string", int: "a number"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def same_origin(url: str, base: str) -> bool:
    """Whether a pagination link stays on the API's own scheme, host and port."""
    a, b = urlsplit(url), urlsplit(base)
    default = {"https": 443, "http": 80}
    return (
        a.scheme == b.scheme
        and (a.hostname or "").lower() == (b.hostname or "").lower()
        and (a.port or default.get(a.scheme)) == (b.port or default.get(b.scheme))
    )


def get_json(
    http: httpx.Client,
    url: str,
    *,
    what: str,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    secret: str | None = None,
) -> Any:
    """GET ``url`` and parse its JSON body, at most MAX_RESPONSE_BYTES, no redirects.

    Errors name ``what`` and the HTTP status, never the URL's query or ``secret``."""
    try:
        with http.stream(
            "GET", url, params=params, headers=headers, follow_redirects=False
        ) as response:
            if response.status_code != 200:
                said = _error_text(response)
                raise SourceUnavailable(
                    _scrub(f"{what}: HTTP {response.status_code}{said}", secret)
                )
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > MAX_RESPONSE_BYTES:
                    raise MalformedResponse(
                        f"{what}: response larger than {MAX_RESPONSE_BYTES:,} bytes"
                    )
    except httpx.TimeoutException:
        raise SourceUnavailable(f"{what}: timed out") from None
    except httpx.HTTPError as exc:
        raise SourceUnavailable(_scrub(f"{what}: {type(exc).__name__}", secret)) from None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedResponse(f"{what}: the response is not JSON") from None


def _error_text(response: httpx.Response) -> str:
    """A short reason from an error body (Google and Azure put one in JSON), or nothing."""
    try:
        raw = response.read()[:4096]
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, httpx.HTTPError):
        return ""
    error = data.get("error") if isinstance(data, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    if not isinstance(message, str) and isinstance(data, dict):
        message = data.get("Message") or data.get("message")
    return f" ({str(message)[:200]})" if isinstance(message, str) and message else ""


def _scrub(text: str, secret: str | None) -> str:
    return text.replace(secret, "[redacted]") if secret else text
