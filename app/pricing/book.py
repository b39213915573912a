"""The price book: list prices with their source and date, plus an organisation's overrides.

Every price is an entry with a stable dotted id ("storage.aws.gp3", "lb.aws.nlb",
"azure_disk.premium.P10", …) so a settings page can list them and an organisation can override
any one by id. The embedded defaults live in ``default_prices.json`` next to this module; reading
that file is the only I/O here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any

DEFAULT_PRICES_FILE = "default_prices.json"
OVERRIDE_SOURCE = "organisation override"

# Azure managed-disk families, by the id segment used in the book.
AZURE_DISK_FAMILIES: tuple[str, ...] = ("premium", "standard_ssd", "standard_hdd")


@dataclass(frozen=True, slots=True)
class PriceEntry:
    """One price: what it is, how much, in which unit, and where the figure came from."""

    id: str
    value: float
    unit: str
    source: str
    as_of: str
    description: str
    assumed: bool = False  # a fallback Leftover assumes, not a provider's list price
    overridden: bool = False
    size_gib: int | None = None  # Azure disk tiers: the tier's size
    vcpu: float | None = None  # instance types
    memory_gib: float | None = None  # instance types
    family: str | None = None  # compute rates and instance types: "m5", "n2", "dsv5"


@dataclass(frozen=True, slots=True)
class PriceBook:
    """An immutable set of price entries with typed lookups."""

    items: tuple[PriceEntry, ...]
    _by_id: dict[str, PriceEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id: dict[str, PriceEntry] = {}
        for item in self.items:
            if item.id in by_id:
                raise ValueError(f"duplicate price id {item.id!r}")
            by_id[item.id] = item
        object.__setattr__(self, "_by_id", by_id)

    # --- generic access -------------------------------------------------------------------

    def entries(self) -> tuple[PriceEntry, ...]:
        """Every entry, in book order (for a settings page)."""
        return self.items

    def get(self, price_id: str) -> PriceEntry | None:
        """The entry with this id, or None."""
        return self._by_id.get(price_id)

    def entry(self, price_id: str) -> PriceEntry:
        """The entry with this id; KeyError naming it when the book has none."""
        try:
            return self._by_id[price_id]
        except KeyError:
            raise KeyError(f"price book has no entry {price_id!r}") from None

    def value(self, price_id: str) -> float:
        return self.entry(price_id).value

    def with_overrides(self, overrides: Mapping[str, float]) -> PriceBook:
        """A new book with the given ids' values replaced; unknown ids and bad values refused."""
        unknown = sorted(k for k in overrides if k not in self._by_id)
        if unknown:
            raise ValueError(f"unknown price id(s) in overrides: {', '.join(unknown)}")
        checked: dict[str, float] = {}
        for key, raw in overrides.items():
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                raise ValueError(f"override {key!r} must be a number, got {raw!r}")
            value = float(raw)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"override {key!r} must be a finite number >= 0, got {raw!r}")
            checked[key] = value
        return PriceBook(
            tuple(
                replace(e, value=checked[e.id], source=OVERRIDE_SOURCE, overridden=True)
                if e.id in checked
                else e
                for e in self.items
            )
        )

    # --- typed lookups --------------------------------------------------------------------

    @property
    def hours_per_month(self) -> float:
        return self.value("hours_per_month")

    def block_storage(self, provider: str, disk: str) -> PriceEntry | None:
        """$/GB-month of an AWS or GCP disk type ("gp3", "pd-ssd"), or None."""
        return self.get(f"storage.{provider}.{disk}")

    @property
    def unknown_storage(self) -> PriceEntry:
        return self.entry("storage.unknown")

    def azure_disk_tiers(self, family: str) -> tuple[PriceEntry, ...]:
        """The family's tiers ("premium", "standard_ssd", "standard_hdd"), smallest first."""
        prefix = f"azure_disk.{family}."
        tiers = [e for e in self.items if e.id.startswith(prefix) and e.size_gib is not None]
        return tuple(sorted(tiers, key=lambda e: e.size_gib or 0))

    def compute_rates(self, provider: str) -> tuple[PriceEntry, PriceEntry] | None:
        """The provider's default family (per vCPU-hour, per GiB-hour), or None."""
        vcpu = self.get(f"compute.{provider}.vcpu_hour")
        gib = self.get(f"compute.{provider}.gib_hour")
        if vcpu is None or gib is None:
            return None
        return vcpu, gib

    def instance(self, provider: str, instance_type: str) -> PriceEntry | None:
        """The hourly price of an instance type (matched case-insensitively), or None."""
        prefix = f"instance.{provider}."
        wanted = instance_type.strip().lower()
        for item in self.items:
            if item.id.startswith(prefix) and item.id[len(prefix) :].lower() == wanted:
                return item
        return None

    def control_plane(self, service: str, tier: str) -> PriceEntry | None:
        """$/cluster-hour of a managed control plane ("eks", "standard"), or None."""
        return self.get(f"control_plane.{service}.{tier}")


def _entry_from_json(raw: Mapping[str, Any]) -> PriceEntry:
    def opt_float(key: str) -> float | None:
        value = raw.get(key)
        return None if value is None else float(value)

    size = raw.get("size_gib")
    return PriceEntry(
        id=str(raw["id"]),
        value=float(raw["value"]),
        unit=str(raw["unit"]),
        source=str(raw["source"]),
        as_of=str(raw["as_of"]),
        description=str(raw["description"]),
        assumed=bool(raw.get("assumed", False)),
        size_gib=None if size is None else int(size),
        vcpu=opt_float("vcpu"),
        memory_gib=opt_float("memory_gib"),
        family=None if raw.get("family") is None else str(raw["family"]),
    )


def price_book_from_entries(raw_entries: Iterable[Mapping[str, Any]]) -> PriceBook:
    """Build a book from JSON-shaped entries (the embedded file's ``entries`` list)."""
    return PriceBook(tuple(_entry_from_json(raw) for raw in raw_entries))


@cache
def load_default_price_book() -> PriceBook:
    """The embedded default price book (read once per process; the book is immutable)."""
    text = (
        resources.files(__package__ or "app.pricing")
        .joinpath(DEFAULT_PRICES_FILE)
        .read_text(encoding="utf-8")
    )
    data = json.loads(text)
    return price_book_from_entries(data["entries"])
