"""Kubernetes resource quantities ("100Gi", "250m", "129e6") parsed exactly.

The grammar is the API's own (k8s.io/apimachinery resource.Quantity): a signed decimal number
followed by a binary-SI suffix (Ki … Ei), a decimal-SI suffix (n u m "" k M G T P E) or a
decimal exponent (e3, E-2). Arithmetic is done in Decimal so "1.5Ti" is exact.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation, localcontext

GIB = 1 << 30

_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}

_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]+|[numkMGTPE]?)"
)


def parse_quantity(value: str | int | float | Decimal) -> Decimal:
    """The quantity's exact value in base units (bytes, cores …); ValueError on anything else."""
    if isinstance(value, bool):
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    if isinstance(value, int | Decimal):
        number = Decimal(value)
        if not number.is_finite():
            raise ValueError(f"not a Kubernetes quantity: {value!r}")
        return number
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a Kubernetes quantity: {value!r}")
        return Decimal(repr(value))
    if not isinstance(value, str):
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    match = _QUANTITY.fullmatch(value)
    if match is None:
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    suffix = match["suffix"]
    try:
        number = Decimal(match["number"])
    except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
        raise ValueError(f"not a Kubernetes quantity: {value!r}") from None
    with localcontext() as ctx:
        ctx.prec = 60  # ample for 1024**6 times 20 significant digits: keep every result exact
        if suffix in _BINARY:
            return number * (Decimal(1024) ** _BINARY[suffix])
        if suffix in _DECIMAL:
            return number.scaleb(_DECIMAL[suffix])
        exponent = int(suffix[1:])
        if abs(exponent) > 1000:
            raise ValueError(f"quantity exponent out of range: {value!r}")
        return number.scaleb(exponent)


def parse_bytes(value: str | int | float | Decimal) -> int:
    """A memory or storage quantity in whole bytes, rounded up as the API server does."""
    return math.ceil(parse_quantity(value))


def parse_cores(value: str | int | float | Decimal) -> float:
    """A CPU quantity in cores ("250m" → 0.25)."""
    return float(parse_quantity(value))


def bytes_to_gib(size: int | float | Decimal) -> float:
    """Bytes as GiB (2**30 bytes)."""
    return float(Decimal(size) / GIB)
