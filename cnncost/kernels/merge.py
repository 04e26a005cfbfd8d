"""Ops that combine several inputs: elementwise sum and product, concatenation."""
from __future__ import annotations

import numpy as np

from .base import Kernel, array_axis


def _add(attrs, inputs, params, buffers, counter):
    total = inputs[0] + inputs[1]
    for x in inputs[2:]:
        total += x
    return total


def _mul(attrs, inputs, params, buffers, counter):
    """Broadcasting product, e.g. squeeze-and-excitation's (N, C, H, W) * (N, C, 1, 1)."""
    product = inputs[0] * inputs[1]
    for x in inputs[2:]:
        product = product * x  # not in place: a later input may broadcast the result to a larger shape
    return product


def _concat(attrs, inputs, params, buffers, counter):
    return np.concatenate(inputs, axis=array_axis(attrs["axis"]))


KERNELS = {
    "add": Kernel(run=_add),
    "mul": Kernel(run=_mul),
    "concat": Kernel(run=_concat),
}
