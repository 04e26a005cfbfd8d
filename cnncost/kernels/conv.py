"""Convolution (1d/2d/3d, grouped, dilated) as BLAS matmuls over an im2col copy, one chunk at a time.

Each chunk is one batched matmul (groups, out/groups, C/groups * K) @ (groups, C/groups * K, columns), so
depthwise convolution is a single call too. The column matrix is laid out (C, *kernel, samples, *out) so
that, for one sample, the product lands directly in the NCHW output. Small feature maps take several
samples per chunk (a wider matmul, then one transpose of the output); large ones are split by output rows
so the column matrix stays small enough to be reused from cache. A pointwise convolution needs no copy:
the input already is the column matrix, and all samples go through one batched matmul.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod, sqrt

import numpy as np

from .base import Kernel, he_uniform, uniform
from .counting import MacCounter, counted_matmul
from .windows import out_size, windows

# Measured on the 2-core target (OpenBLAS sgemm, batch 8). A pointwise convolution multiplies its input
# as it lies, one batched matmul over the samples, when a sample has at least ~128 columns: the matmuls
# then run as fast as one wide one would, without the copies. Below that, and for every im2col matmul
# narrower than ~1k columns, several samples go into one chunk (a wider matmul, then one transpose of
# the output). A column matrix over ~8 MB no longer stays in cache between the copy that builds it and
# the matmul that reads it, so large feature maps are cut into bands of output rows.
_MIN_DIRECT_COLUMNS = 128
_MIN_COLUMNS = 1024
_CHUNK_BYTES = 8 << 20
_F32 = 4


def _same_pads(size: int, k: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow's 'same': out = ceil(size / stride), any odd pad goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (k - 1) + 1 - size, 0)
    return total // 2, total - total // 2


@dataclass(frozen=True)
class _Plan:
    """Where the windows are and how the batch is cut into matmul chunks."""

    pads: list[tuple[int, int]]
    out: tuple[int, ...]
    samples: int  # per chunk; > 1 only when whole samples are too small for a good matmul
    rows: int  # of the first output axis per chunk; < all only when one sample is too big
    direct: bool  # 1x1, stride 1, unpadded, large enough: the input already is the column matrix

    @property
    def columns(self) -> int:
        return self.samples * self.rows * prod(self.out[1:])

    @property
    def padded(self) -> bool:
        return any(map(any, self.pads))


def _plan(attrs: dict, input_shape: tuple[int, ...]) -> _Plan:
    """Padding, output size and chunking for one convolution; im2col_bytes reads the same plan."""
    n, c, *spatial = input_shape
    kernel, stride, dilation = attrs["kernel"], attrs["stride"], attrs["dilation"]
    if len(spatial) != len(kernel):
        raise ValueError(f"a {len(kernel)}-d convolution got input of shape {tuple(input_shape)}")
    padding = attrs["padding"]
    if padding == "same":
        pads = [_same_pads(*a) for a in zip(spatial, kernel, stride, dilation)]
    elif padding == "valid":
        pads = [(0, 0)] * len(spatial)
    else:
        pads = [(p, p) for p in padding]
    out = tuple(out_size(size, k, s, d, b, a) for size, k, s, d, (b, a) in zip(spatial, kernel, stride, dilation, pads))
    per_sample, per_row = prod(out), prod(out[1:])
    pointwise = all(k == 1 for k in kernel) and all(s == 1 for s in stride) and not any(map(any, pads))
    if pointwise and per_sample >= _MIN_DIRECT_COLUMNS:
        return _Plan(pads, out, n, out[0], True)
    row_bytes = c * prod(kernel) * _F32
    samples = max(1, min(n, _MIN_COLUMNS // per_sample, _CHUNK_BYTES // (row_bytes * per_sample)))
    if samples > 1:
        samples = -(-n // -(-n // samples))  # as many chunks, evened out: 8 samples by 5 become 4 + 4
    if samples > 1 or pointwise:
        return _Plan(pads, out, samples, out[0], False)
    rows = max(1, min(out[0], _CHUNK_BYTES // (row_bytes * per_row)))
    return _Plan(pads, out, 1, rows, False)


def im2col_bytes(attrs: dict, input_shape: tuple[int, ...]) -> int:
    """Temporary bytes one convolution allocates besides its input and output: padded chunk, column chunk, staging.

    0 for pointwise convolutions that multiply the input as it lies.
    """
    plan = _plan(attrs, input_shape)
    if plan.direct:
        return 0
    n, c, *spatial = input_shape
    pad = plan.samples * c * prod(size + b + a for size, (b, a) in zip(spatial, plan.pads)) if plan.padded else 0
    cols = c * prod(attrs["kernel"]) * plan.columns
    staging = attrs["out"] * plan.columns if plan.samples > 1 else 0
    return (pad + cols + staging) * _F32


def scale_axis0(weight: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """A convolution's weight (C_out, C_in/groups, *k) with each output channel's taps scaled."""
    return weight * scale.reshape(-1, *[1] * (weight.ndim - 1))


def folding(scale_outputs=scale_axis0):
    """Batch norm folded into a layer; `scale_outputs(weight, scale)` knows where its output channels lie:
    w' = w·γ/√(σ²+ε) per output channel; b' = (b − μ)·γ/√(σ²+ε) + β."""

    def fold(params: dict, bn: dict, bn_buffers: dict, eps: float) -> dict:
        scale = bn_buffers["running_var"] + np.float32(eps)
        scale = (bn.get("weight", np.ones_like(scale)) / np.sqrt(scale)).astype(np.float32)
        bias = params.get("bias", np.zeros_like(scale))
        bias = (bias - bn_buffers["running_mean"]) * scale + bn.get("bias", np.zeros_like(scale))
        return {"weight": scale_outputs(params["weight"], scale).astype(np.float32), "bias": bias.astype(np.float32)}

    return fold


def _conv(attrs: dict, inputs: list[np.ndarray], params: dict, buffers: dict, counter: MacCounter) -> np.ndarray:
    x, w, bias = inputs[0], params["weight"], params.get("bias")
    plan = _plan(attrs, x.shape)
    n, c, *spatial = x.shape
    groups, kernel, nd = attrs["groups"], tuple(attrs["kernel"]), len(plan.out)
    o = w.shape[0]
    wg = w.reshape(groups, o // groups, -1)
    bg = None if bias is None else bias.reshape(groups, o // groups, 1)
    y = np.empty((n, o, *plan.out), dtype=np.float32)
    if plan.direct:
        # (groups, O/g, C/g) @ (N, groups, C/g, positions): each sample's product lands in place in y.
        dest = y.reshape(n, groups, o // groups, -1)
        counted_matmul(wg, x.reshape(n, groups, c // groups, -1), counter, out=dest)
        if bg is not None:
            dest += bg
        return y

    rows, per_row = plan.out[0], prod(plan.out[1:])
    workspace = np.empty(c * prod(kernel) * plan.columns, dtype=np.float32)
    staging = np.empty((groups, o // groups, plan.columns), dtype=np.float32) if plan.samples > 1 else None
    if plan.padded:
        # Each chunk of samples is copied into the middle of a zeroed buffer that the im2col copy then reads
        # while it is still in cache; the zero border is written once.
        grown = tuple(size + b + a for size, (b, a) in zip(spatial, plan.pads))
        pad_buffer = np.zeros((plan.samples, c, *grown), dtype=np.float32)
        interior = (slice(None), slice(None), *(slice(b, b + size) for size, (b, _) in zip(spatial, plan.pads)))

    for n0 in range(0, n, plan.samples):
        nb = min(plan.samples, n - n0)
        samples = x[n0 : n0 + nb]
        if plan.padded:
            pad_buffer[:nb][interior] = samples
            samples = pad_buffer[:nb]
        # (C, *kernel, samples, *out): copying a band of this view into a C-ordered buffer is the im2col step.
        view = windows(samples, kernel, attrs["stride"], attrs["dilation"], plan.out)
        view = view.transpose(1, *range(2, 2 + nd), 0, *range(2 + nd, 2 + 2 * nd))
        for r0 in range(0, rows, plan.rows):
            nr = min(plan.rows, rows - r0)
            chunk = workspace[: c * prod(kernel) * nb * nr * per_row].reshape(c, *kernel, nb, nr, *plan.out[1:])
            np.copyto(chunk, view[(slice(None),) * (2 + nd) + (slice(r0, r0 + nr),)])
            cols = chunk.reshape(groups, -1, nb * nr * per_row)
            if nb == 1:
                dest = y[n0, :, r0 : r0 + nr].reshape(groups, o // groups, -1)
                if not np.may_share_memory(dest, y):  # (numpy < 2.1 has no reshape(copy=False) to say this)
                    raise RuntimeError("the output band must be a view of y for matmul to write into it")
                counted_matmul(wg, cols, counter, out=dest)
                if bg is not None:
                    dest += bg
            else:
                prods = counted_matmul(wg, cols, counter, out=staging[:, :, : nb * rows * per_row])
                if bg is not None:
                    prods += bg
                y[n0 : n0 + nb] = prods.reshape(o, nb, *plan.out).swapaxes(0, 1)
    return y


def _init(attrs: dict, input_shapes: list[tuple[int, ...]], rng: np.random.Generator):
    """He-initialised weights; bias in PyTorch's default range."""
    c_in, groups, kernel, out = input_shapes[0][1], attrs["groups"], tuple(attrs["kernel"]), attrs["out"]
    fan_in = c_in // groups * prod(kernel)
    params = {"weight": he_uniform(rng, (out, c_in // groups, *kernel), fan_in)}
    if attrs["bias"]:
        params["bias"] = uniform(rng, (out,), -1 / sqrt(fan_in), 1 / sqrt(fan_in))
    return params, {}


KERNELS = {f"conv{d}d": Kernel(run=_conv, init=_init, workspace=im2col_bytes, fold=folding()) for d in (1, 2, 3)}
