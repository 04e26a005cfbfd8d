"""Fully connected layer on the last axis: one matmul of every leading position at once."""
from __future__ import annotations

from math import sqrt

import numpy as np

from .base import Kernel, normal, uniform
from .counting import counted_matmul


def _linear(attrs, inputs, params, buffers, counter):
    x, w = inputs[0], params["weight"]
    y = counted_matmul(x.reshape(-1, x.shape[-1]), w.T, counter)
    if "bias" in params:
        y += params["bias"]
    return y.reshape(*x.shape[:-1], w.shape[0])


def _init(attrs, input_shapes, rng):
    """He-normal weight (VGG's classifier is Linear+ReLU); bias in PyTorch's default range."""
    fan_in = input_shapes[0][-1]
    params = {"weight": normal(rng, (attrs["out"], fan_in), sqrt(2 / fan_in))}
    if attrs["bias"]:
        params["bias"] = uniform(rng, (attrs["out"],), -1 / sqrt(fan_in), 1 / sqrt(fan_in))
    return params, {}


KERNELS = {"linear": Kernel(run=_linear, init=_init)}
