"""Refresh the default prices from the providers' public price APIs, when the operator allows.

Each provider is read in full before anything is written, and on its own: a provider that is
down, refuses the call or answers something malformed gets an error in the report and no
writes, and the others still count. Only ids the embedded book has are written, as
``PriceDefault`` rows (value, the API as source, today as ``as_of``), and only when the value
found differs from the current default. A change by more than ``PLAUSIBLE_FACTOR`` (or to zero)
is refused: it is far likelier a meter mapped wrongly than a price that moved that much.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import httpx
from sqlalchemy import Table
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import session_scope
from app.pricing import store
from app.pricing.book import PriceBook, load_default_price_book
from app.pricing.models import PriceDefault
from app.pricing.sources import aws, azure, gcp
from app.pricing.sources.common import (
    FoundPrice,
    MalformedResponse,
    SourceResult,
    SourceUnavailable,
)

log = logging.getLogger("leftover.pricing.refresh")

PLAUSIBLE_FACTOR = Decimal(10)
_QUANTUM = Decimal(1).scaleb(-store.PRICE_PLACES)


@dataclass(frozen=True)
class PriceChange:
    price_id: str
    old: Decimal
    new: Decimal
    detail: str  # the meter / SKU / product it was read from


@dataclass
class ProviderReport:
    """What one provider's refresh did."""

    provider: str  # "aws" | "gcp" | "azure"
    status: str = "ok"  # "ok" | "failed" | "skipped"
    changed: list[PriceChange] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # id -> why the value was not written
    error: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class RefreshReport:
    providers: list[ProviderReport]

    @property
    def written(self) -> int:
        return sum(len(p.changed) for p in self.providers)

    def provider(self, name: str) -> ProviderReport:
        return next(p for p in self.providers if p.provider == name)

    def lines(self) -> list[str]:
        """One line per provider, then its error and notes (for logs and the task result)."""
        out = []
        for p in self.providers:
            out.append(
                f"{p.provider}: {p.status}; {len(p.changed)} changed, {len(p.unchanged)} "
                f"unchanged, {len(p.not_found)} not found, {len(p.skipped)} skipped, "
                f"{len(p.refused)} refused"
            )
            out += [f"{p.provider}: {c.price_id} {c.old} -> {c.new}" for c in p.changed]
            out += [f"{p.provider}: {k} not written: {v}" for k, v in p.refused.items()]
            out += [f"{p.provider}: error: {p.error}"] if p.error else []
            out += [f"{p.provider}: {note}" for note in p.notes]
        return out

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (Decimals as strings), for a Celery task result."""
        data = asdict(self)
        for provider in data["providers"]:
            for change in provider["changed"]:
                change["old"], change["new"] = str(change["old"]), str(change["new"])
        return data


Fetch = Callable[[], SourceResult]


def refresh_default_prices(
    session: Session, *, settings: Settings, now: datetime, http: httpx.Client | None = None
) -> RefreshReport:
    """Read the three providers' public price APIs and write the prices that changed.

    ``http`` is the client for the unauthenticated APIs (one with the settings' timeout is made
    when None). The caller commits."""
    book = load_default_price_book()
    current = store.default_price_book(session)
    bundle = settings.cloud_ca_bundle
    client = http or httpx.Client(
        timeout=settings.price_timeout_seconds,
        verify=ssl.create_default_context(cafile=bundle) if bundle else True,
        headers={"User-Agent": "leftover-price-refresh"},
    )
    try:
        runs = _runs(client, settings, book)
        results = [(name, wanted, _fetch(name, fetch)) for name, wanted, fetch in runs]
    finally:
        if http is None:
            client.close()
    reports = []
    for name, wanted, outcome in results:
        if isinstance(outcome, ProviderReport):
            reports.append(outcome)
            continue
        report, writes = _compare(name, wanted, outcome, current)
        _write(session, writes, now)
        reports.append(report)
    return RefreshReport(reports)


def _runs(
    client: httpx.Client, settings: Settings, book: PriceBook
) -> list[tuple[str, list[str], Fetch | str]]:
    """(provider, ids it looks up, its reader — or why it is skipped)."""
    key = settings.price_gcp_api_key.get_secret_value() if settings.price_gcp_api_key else ""
    gcp_run: Fetch | str = (
        (lambda: gcp.fetch(client, settings.price_gcp_url, key, book))
        if key.strip()
        else "no API key for the Cloud Billing Catalog (LEFTOVER_PRICE_GCP_API_KEY)"
    )
    return [
        (
            "aws",
            aws.wanted_ids(book),
            lambda: aws.fetch(
                client,
                settings.price_aws_url,
                book,
                query_endpoint=settings.price_aws_query_url,
                timeout=settings.price_timeout_seconds,
                ca_bundle=settings.cloud_ca_bundle,
            ),
        ),
        ("gcp", gcp.wanted_ids(book), gcp_run),
        (
            "azure",
            azure.wanted_ids(book),
            lambda: azure.fetch(client, settings.price_azure_url, book),
        ),
    ]


def _fetch(name: str, fetch: Fetch | str) -> SourceResult | ProviderReport:
    """The reader's result, or the report of a provider skipped or failed (nothing written)."""
    if isinstance(fetch, str):
        return ProviderReport(name, status="skipped", notes=[f"skipped: {fetch}"])
    try:
        return fetch()
    except MalformedResponse as exc:
        error = f"malformed response, nothing written: {exc}"
    except SourceUnavailable as exc:
        error = f"unavailable, nothing written: {exc}"
    except Exception:  # one provider's bug must not cost the others their refresh
        log.exception("price refresh of %s failed unexpectedly", name)
        error = "unexpected error, nothing written (the worker log has the details)"
    return ProviderReport(name, status="failed", error=error)


def _compare(
    name: str, wanted: list[str], result: SourceResult, current: PriceBook
) -> tuple[ProviderReport, dict[str, FoundPrice]]:
    report = ProviderReport(name, notes=list(result.notes))
    writes: dict[str, FoundPrice] = {}
    for price_id in wanted:
        found = result.found.get(price_id)
        if price_id in result.skipped:
            report.skipped.append(price_id)
        elif found is None:
            report.not_found.append(price_id)
        else:
            new = found.value.quantize(_QUANTUM)
            old = Decimal(str(current.value(price_id))).quantize(_QUANTUM)
            why = _implausible(old, new)
            if new == old:
                report.unchanged.append(price_id)
            elif why:
                report.refused[price_id] = f"{why} ({found.detail}: {old} -> {new})"
            else:
                report.changed.append(PriceChange(price_id, old, new, found.detail))
                writes[price_id] = FoundPrice(new, found.source, found.detail)
    return report, writes


def _implausible(old: Decimal, new: Decimal) -> str | None:
    if new > store.MAX_PRICE:
        return "more than a million"
    if old > 0 and new == 0:
        return "a list price became zero"
    if old > 0 and (new / old > PLAUSIBLE_FACTOR or old / new > PLAUSIBLE_FACTOR):
        return f"changed by more than {PLAUSIBLE_FACTOR}×"
    return None


def _write(session: Session, writes: dict[str, FoundPrice], now: datetime) -> None:
    as_of = now.date().isoformat()
    table = cast(Table, PriceDefault.__table__)
    for price_id, found in writes.items():
        values = {"value": found.value, "source": found.source, "as_of": as_of, "refreshed_at": now}
        insert = store.dialect_insert(session, table).values(price_id=price_id, **values)
        session.execute(insert.on_conflict_do_update(index_elements=["price_id"], set_=values))


def run_price_refresh(
    factory: sessionmaker[Session], *, settings: Settings, now: datetime
) -> RefreshReport | None:
    """The ``pricing.refresh`` task's body: refresh and commit when the operator enabled it
    (``LEFTOVER_PRICE_REFRESH``); None when disabled."""
    if not settings.price_refresh:
        log.info("price refresh is disabled (LEFTOVER_PRICE_REFRESH); nothing fetched")
        return None
    with session_scope(factory) as session:
        report = refresh_default_prices(session, settings=settings, now=now)
    for line in report.lines():
        log.info("price refresh: %s", line)
    return report
