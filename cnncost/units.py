"""Human units: reading `5M`, `600M`, `64MiB` and writing counts and bytes for people.

Counts use SI (k = 10³, M = 10⁶, G = 10⁹); bytes use binary units (KiB = 1024 B), as the footers say.
Every number a user types (flags, budgets in specs and budget files) is read here, once: exact, finite, and
within MAX_COUNT, so no caller meets NaN, a negative seed or Python's 4,300-digit conversion limit.
"""
from __future__ import annotations

import re
from fractions import Fraction

from cnncost.errors import CnnCostError
from cnncost.limits import MAX_COUNT

MAX_SEED = 2**64 - 1  # numpy seeds are non-negative; 64 bits are plenty and keep the echo short
_DIGITS = len(str(MAX_COUNT)) + 20  # more digits than this cannot be a number under the bound (leading zeros aside)

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

# Durations are held in whole nanoseconds, so latency budgets compare as exactly as counts do.
DURATION_SUFFIXES = {"ns": 1, "us": 10**3, "µs": 10**3, "ms": 10**6, "s": 10**9}


def parse_duration(text, what: str = "value") -> int:
    """`10ms` → 10,000,000 ns; `250us`, `1.5s`; a unit is required (a bare 10 could mean seconds or ms)."""
    match = _SIZE.match(str(text)) if isinstance(text, (str, int, float)) and not isinstance(text, bool) else None
    if not match or match.group(2) not in DURATION_SUFFIXES or not match.group(2):
        raise CnnCostError(f"cannot read {what} {_shown(text)}", None, "write a duration with its unit: 10ms, 250us, 1.5s or 800ns")
    return _parse(f"{match.group(1)}{match.group(2)}", DURATION_SUFFIXES, what, "a duration such as 10ms")


def parse_percent(text, what: str = "value") -> Fraction:
    """`5`, `2.5` or `0.1` percent, exactly; NaN, infinities, negatives and signs are refused."""
    match = _SIZE.match(text) if isinstance(text, str) else None
    if not match or match.group(2) or len(match.group(1)) > _DIGITS:
        raise CnnCostError(f"cannot read {what} {_shown(text)}", None, "write a percentage such as 5 or 2.5")
    return _bounded(Fraction(match.group(1)), what, text)


def parse_seed(text, what: str = "--seed") -> int:
    """A whole number from 0 to 2^64 − 1."""
    value = text if isinstance(text, int) and not isinstance(text, bool) else None
    if isinstance(text, str) and re.fullmatch(r"\s*\d{1,30}\s*", text):
        value = int(text)
    if value is None or not 0 <= value <= MAX_SEED:
        raise CnnCostError(f"{what} must be a whole number from 0 to {MAX_SEED:,}, not {_shown(text)}")
    return value


def _parse(text, suffixes: dict, what: str, example: str) -> int:
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 0:
            raise CnnCostError(f"{what} must not be negative: {text}")
        return _bounded(text, what, text)
    match = _SIZE.match(str(text)) if isinstance(text, (str, float)) and not isinstance(text, bool) else None
    if not match or match.group(2) not in suffixes:
        raise CnnCostError(f"cannot read {what} {_shown(text)}", None, f"write {example}")
    if len(match.group(1)) > _DIGITS:  # Fraction() would hit Python's 4,300-digit limit on a 5,000-digit budget
        raise CnnCostError(f"{what} ({len(match.group(1)):,} digits) is over the limit of 10^100")
    value = _bounded(Fraction(match.group(1)) * suffixes[match.group(2)], what, text)
    if value.denominator != 1:
        raise CnnCostError(f"{what} {_shown(text)} is not a whole number")
    return int(value)


def _bounded(value, what: str, text):
    if value > MAX_COUNT:
        raise CnnCostError(f"{what} {_shown(text)} is over the limit of 10^100")
    return value


def _shown(text) -> str:
    """A value echoed in an error, cut short so a 5,000-digit argument keeps the message one readable line."""
    shown = repr(text)
    return shown if len(shown) <= 40 else f"{shown[:30]}…({len(shown):,} characters)"


def count(n: int) -> str:
    """61,100,840 → '61.10 M' (SI, for params, MACs, FLOPs); below 1000 the plain integer. As `size`, a figure never
    reads 1000 of a unit: 999,999 → '1.00 M', not '1000.00 k'."""
    if -1000 < n < 1000:  # most cells of a large table's Params column: no scale to try
        return str(n)
    for suffix, scale in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if abs(n) * 200 >= 199_999 * (scale // 1000):  # exact: it would show as 1000.00 or more of the unit below
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


def duration(seconds: float) -> str:
    """0.0123 → '12.3 ms' (SI prefixes of the second)."""
    for suffix, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.3g} {suffix}"
    return f"{seconds * 1e9:.3g} ns"


def shape(dims) -> str:
    return "×".join(str(d) for d in dims)
