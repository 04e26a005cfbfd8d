"""Ops that combine several inputs: elementwise sum and product, concatenation, matrix product."""
from __future__ import annotations

import numpy as np

from .base import Kernel, array_axis
from .counting import counted_matmul
from .parallel import elementwise


def _sum(out: np.ndarray, first: np.ndarray, second: np.ndarray, *rest: np.ndarray) -> None:
    np.add(first, second, out=out)
    for x in rest:
        out += x


def _product(out: np.ndarray, first: np.ndarray, second: np.ndarray, *rest: np.ndarray) -> None:
    """Broadcasting product, e.g. squeeze-and-excitation's (N, C, H, W) * (N, C, 1, 1). `out` has the shape of
    all inputs broadcast, so the first product is spread over it even if only a later input is that large."""
    np.multiply(first, second, out=out)
    for x in rest:
        out *= x


def _add(attrs, inputs, params, buffers, counter):
    return elementwise(_sum, *inputs)


def _mul(attrs, inputs, params, buffers, counter):
    return elementwise(_product, *inputs)


def _concat(attrs, inputs, params, buffers, counter):
    return np.concatenate(inputs, axis=array_axis(attrs["axis"]))


def _matmul(attrs, inputs, params, buffers, counter):
    """torch.matmul of (N, …, M, K) and (N, …, K, N'): the batch and leading axes broadcast, MACs counted."""
    return counted_matmul(inputs[0], inputs[1], counter)


KERNELS = {
    "add": Kernel(run=_add),
    "mul": Kernel(run=_mul),
    "concat": Kernel(run=_concat),
    "matmul": Kernel(run=_matmul),
}
