"""Human units: reading `5M`, `600M`, `64MiB` and writing counts and bytes for people.

Counts use SI (k = 10³, M = 10⁶, G = 10⁹); bytes use binary units (KiB = 1024 B), as the footers say.
"""
from __future__ import annotations

import re
from fractions import Fraction

from cnncost.errors import CnnCostError

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*([A-Za-z]*)\s*$")
COUNT_SUFFIXES = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
BYTE_SUFFIXES = {
    "": 1, "B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
    "kB": 10**3, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
}


def parse_count(text, what: str = "value") -> int:
    """`5M` → 5,000,000; `1.5G` → 1,500,000,000; plain integers pass through. Exact, no float rounding."""
    return _parse(text, COUNT_SUFFIXES, what, "a count such as 5M, 600k or 1.2G")


def parse_bytes(text, what: str = "value") -> int:
    """`64MiB` → 67,108,864; `1GB` → 10⁹; a bare number is bytes."""
    return _parse(text, BYTE_SUFFIXES, what, "a size such as 64MiB, 512KiB or 2GiB")


def _parse(text, suffixes: dict, what: str, example: str) -> int:
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 0:
            raise CnnCostError(f"{what} must not be negative: {text}")
        return text
    match = _SIZE.match(str(text)) if isinstance(text, (str, float)) and not isinstance(text, bool) else None
    if not match or match.group(2) not in suffixes:
        raise CnnCostError(f"cannot read {what} {text!r}", None, f"write {example}")
    value = Fraction(match.group(1)) * suffixes[match.group(2)]
    if value.denominator != 1:
        raise CnnCostError(f"{what} {text!r} is not a whole number")
    return int(value)


def count(n: int) -> str:
    """61,100,840 → '61.10 M' (SI, for params, MACs, FLOPs); below 1000 the plain integer."""
    for suffix, scale in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {suffix}"
    return str(n)


def size(n: int) -> str:
    """802,816 → '784.0 KiB' (binary, 1 KiB = 1024 B). A figure never reads 1000 or more of a unit: from
    1000 of one it moves to the next (1,024,000 B → '0.98 MiB', not '1000.0 KiB'), keeping four digits."""
    for suffix, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        below = scale // 1024  # the unit a smaller figure would be shown in: whole bytes, else one decimal
        if (abs(n) >= 1000) if below == 1 else (abs(n) * 20 >= below * 19_999):  # exact: shown ≥ 1000 (999.95 rounds up)
            value = n / scale
            return f"{value:.2f} {suffix}" if abs(n) < scale else f"{value:.1f} {suffix}"
    return f"{n} B"


def shape(dims) -> str:
    return "×".join(str(d) for d in dims)
