"""MAC counting at the call site, from the shapes of the arrays actually multiplied.

verify.py compares this count with the analytic one; taking it from the operands (not from the
layer's hyperparameters) is what makes the comparison independent.
"""
from __future__ import annotations

from math import prod

import numpy as np


class MacCounter:
    """A running total of multiply-accumulates executed by the kernels."""

    __slots__ = ("macs",)

    def __init__(self) -> None:
        self.macs = 0

    def add(self, n: int) -> None:
        self.macs += int(n)


def counted_matmul(a: np.ndarray, b: np.ndarray, counter: MacCounter, out: np.ndarray | None = None) -> np.ndarray:
    """`a @ b` for (..., m, k) @ (..., k, n), adding prod(broadcast batch) * m * k * n to `counter`."""
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2]:
        raise ValueError(f"counted_matmul needs (..., m, k) @ (..., k, n), got {a.shape} @ {b.shape}")
    (m, k), n = a.shape[-2:], b.shape[-1]
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    counter.add(prod(batch) * m * k * n)
    return np.matmul(a, b, out=out)
