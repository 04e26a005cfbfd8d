"""Transposed convolution (1d/2d/3d, grouped, dilated), written from its definition as a scatter:

    y[n, g·O/g + o, i·stride − padding + t·dilation] += Σ_c x[n, g·C/g + c, i] · w[g·C/g + c, o, t]

One batched BLAS matmul (a product per group) multiplies every input pixel by every tap at once — (O/g · K, C/g) @ (C/g, pixels),
counted through counted_matmul, so verify sees C·pixels·(O/g)·K MACs from the operands — and each tap's
product is then added into the output at its strided offset (col2im).
"""
from __future__ import annotations

from math import prod, sqrt

import numpy as np

from .base import Kernel, he_uniform, uniform
from .conv import folding
from .counting import MacCounter, counted_matmul


def _sizes(attrs: dict, spatial: tuple) -> tuple:
    return tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + q + 1
        for n, k, s, p, q, d in zip(spatial, attrs["kernel"], attrs["stride"], attrs["padding"],
                                    attrs["output_padding"], attrs["dilation"])
    )


def _scatter_sizes(attrs: dict, spatial: tuple) -> tuple:
    """The uncropped scatter target per axis: every tap of every input pixel lands inside it, and so does the
    cropped output (output_padding may reach past the last tap)."""
    return tuple(max((i - 1) * s + d * (k - 1) + 1, p + o) for i, k, s, d, p, o in
                 zip(spatial, attrs["kernel"], attrs["stride"], attrs["dilation"], attrs["padding"], _sizes(attrs, spatial)))


def _workspace(attrs: dict, input_shape: tuple) -> int:
    """Bytes besides input, output and weights, all alive at the end: the input regrouped for the matmul, the
    product of every pixel with every tap, and the uncropped scatter target unless nothing is cropped (then
    the target is the output itself: U-Net's up-convolutions); all float32. (The weights are regrouped as a
    view, and verify counts them already: measured with tracemalloc on dcgan_generator and U-Net's up1.)"""
    n, c, *spatial = input_shape
    pixels, out, taps = prod(spatial), attrs["out"], prod(attrs["kernel"])
    full = _scatter_sizes(attrs, tuple(spatial))
    scatter = 0 if full == _sizes(attrs, tuple(spatial)) else n * out * prod(full)
    return 4 * (n * c * pixels + n * out * taps * pixels + scatter)


def _conv_transpose(attrs: dict, inputs: list, params: dict, buffers: dict, counter: MacCounter) -> np.ndarray:
    x, w, bias = inputs[0], params["weight"], params.get("bias")
    n, c, *spatial = x.shape
    groups, kernel, stride, dilation = attrs["groups"], tuple(attrs["kernel"]), attrs["stride"], attrs["dilation"]
    per_group = w.shape[1]
    out, full = _sizes(attrs, tuple(spatial)), _scatter_sizes(attrs, tuple(spatial))
    y = np.zeros((n, groups * per_group, *full), dtype=np.float32)
    # (groups, O/g·K, C/g) @ (groups, C/g, N·pixels): every input pixel times every tap.
    wg = w.reshape(groups, c // groups, per_group * prod(kernel)).transpose(0, 2, 1)
    xg = x.reshape(n, groups, c // groups, prod(spatial)).transpose(1, 2, 0, 3).reshape(groups, c // groups, -1)
    taps = counted_matmul(wg, xg, counter).reshape(groups, per_group, *kernel, n, *spatial)
    taps = np.moveaxis(taps.reshape(groups * per_group, *kernel, n, *spatial), 1 + len(kernel), 0)
    for tap in np.ndindex(*kernel):
        index = tuple(slice(t * d, t * d + (i - 1) * s + 1, s) for t, d, i, s in zip(tap, dilation, spatial, stride))
        y[(slice(None), slice(None), *index)] += taps[(slice(None), slice(None), *tap)]
    y = y[(slice(None), slice(None), *(slice(p, p + o) for p, o in zip(attrs["padding"], out)))]
    if bias is not None:
        y += bias.reshape(-1, *[1] * len(out))
    return np.ascontiguousarray(y)


def _init(attrs: dict, input_shapes: list, rng: np.random.Generator):
    """Weights laid out (C_in, C_out/groups, *kernel) as PyTorch's; He-scaled by the taps that reach one
    output pixel on average, C_in/groups · prod(kernel / stride), so deep decoders stay O(1)."""
    c_in, groups, kernel, out = input_shapes[0][1], attrs["groups"], tuple(attrs["kernel"]), attrs["out"]
    fan_in = max(1, c_in // groups * prod(kernel) // prod(attrs["stride"]))
    params = {"weight": he_uniform(rng, (c_in, out // groups, *kernel), fan_in)}
    if attrs["bias"]:
        params["bias"] = uniform(rng, (out,), -1 / sqrt(fan_in), 1 / sqrt(fan_in))
    return params, {}


def _scale_out_channels(weight: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Multiply each output channel's weights by scale[channel]: axis 1 within each group of C_in rows
    (the weight is (C_in, C_out/groups, *k), so groups = C_out / its second axis)."""
    c_in, per_group, *kernel = weight.shape
    groups = scale.size // per_group
    grouped = weight.reshape(groups, c_in // groups, per_group, *kernel)
    return (grouped * scale.reshape(groups, 1, per_group, *[1] * len(kernel))).reshape(weight.shape)


KERNELS = {f"conv_transpose{d}d": Kernel(run=_conv_transpose, init=_init, fold=folding(_scale_out_channels),
                                              workspace=_workspace)
           for d in (1, 2, 3)}
