"""Fully connected layer on the last axis (one matmul of every leading position at once), and layer scale."""
from __future__ import annotations

from math import sqrt

import numpy as np

from .base import Kernel, array_axis, he_uniform, uniform
from .counting import counted_matmul


# Measured on the 2-core target: for a few rows (a batch of feature vectors) the weight matrix, read once
# from memory, dominates, and OpenBLAS streams it faster as W @ x.T than as x @ W.T (VGG-16's 25088 -> 4096
# layer at batch 8: 41 vs 57 ms). With many rows the usual order wins, and transposing back would be a big copy.
_MAX_ROWS_WEIGHT_FIRST = 64


def _linear(attrs, inputs, params, buffers, counter):
    x, w = inputs[0], params["weight"]
    rows = x.reshape(-1, x.shape[-1])
    if len(rows) <= _MAX_ROWS_WEIGHT_FIRST:
        y = np.ascontiguousarray(counted_matmul(w, rows.T, counter).T)
    else:
        y = counted_matmul(rows, w.T, counter)
    if "bias" in params:
        y += params["bias"]
    return y.reshape(*x.shape[:-1], w.shape[0])


def _init(attrs, input_shapes, rng):
    """He-initialised weight (VGG's classifier is Linear+ReLU); bias in PyTorch's default range."""
    fan_in = input_shapes[0][-1]
    params = {"weight": he_uniform(rng, (attrs["out"], fan_in), fan_in)}
    if attrs["bias"]:
        params["bias"] = uniform(rng, (attrs["out"],), -1 / sqrt(fan_in), 1 / sqrt(fan_in))
    return params, {}


def _along(x: np.ndarray, axis: int, values: np.ndarray) -> np.ndarray:
    """`values` shaped to broadcast along one array axis of x."""
    shape = [1] * x.ndim
    shape[axis] = -1
    return values.reshape(shape)


def _scale(attrs, inputs, params, buffers, counter):
    x = inputs[0]
    return x * _along(x, array_axis(attrs["axis"]), params["weight"])


def _scale_init(attrs, input_shapes, rng):
    """One multiplier per element of the axis; random (not ConvNeXt's 1e-6) so a wrong axis shows."""
    size = input_shapes[0][array_axis(attrs["axis"])]
    return {"weight": uniform(rng, (size,), 0.5, 1.5)}, {}


KERNELS = {"linear": Kernel(run=_linear, init=_init), "scale": Kernel(run=_scale, init=_scale_init)}
