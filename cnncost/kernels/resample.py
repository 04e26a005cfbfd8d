"""Resampling as torch.nn.functional.interpolate, pixel_shuffle and pixel_unshuffle.

interpolate is separable: each spatial axis in turn becomes a weighted sum of a few input rows, with the
source coordinates computed in float32 as PyTorch's CPU kernels compute them (for nearest upsampling by a
non-integer factor the index depends on that rounding).
"""
from __future__ import annotations

from math import floor

import numpy as np

from .base import on_first

_A = np.float32(-0.75)  # PyTorch's bicubic convolution constant (Keys' a)


def _output_sizes(x: np.ndarray, attrs: dict) -> tuple[list[int], list]:
    """Per axis the output size and the factor given (None when `size` is)."""
    spatial = x.shape[2:]
    if attrs["size"] is not None:
        size = attrs["size"]
        return list(size) if isinstance(size, tuple) else [size] * len(spatial), [None] * len(spatial)
    scale = attrs["scale"]
    scales = list(scale) if isinstance(scale, tuple) else [scale] * len(spatial)
    return [floor(n * s) for n, s in zip(spatial, scales)], [float(s) for s in scales]


def _coordinate_scale(n: int, out: int, scale, corners: bool) -> np.float32:
    if corners:
        return np.float32(n - 1) / np.float32(out - 1) if out > 1 else np.float32(0)
    return np.float32(1.0 / scale) if scale else np.float32(n) / np.float32(out)


def _taps(mode: str, n: int, out: int, scale, corners: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    """(input index per output, weight per output) for each tap of one axis."""
    o = np.arange(out)
    c = _coordinate_scale(n, out, scale, corners)
    if mode == "nearest":
        index = np.minimum(np.floor(o.astype(np.float32) * c).astype(np.int64), n - 1)
        return [(index, np.ones(out, np.float32))]
    if corners:
        src = c * o.astype(np.float32)
    else:
        src = c * (o.astype(np.float32) + np.float32(0.5)) - np.float32(0.5)
    if mode != "bicubic":
        src = np.maximum(src, np.float32(0))
    i = np.minimum(np.floor(src).astype(np.int64), n - 1)
    t = np.clip(src - i.astype(np.float32), 0, 1).astype(np.float32)
    if mode != "bicubic":
        return [(i, 1 - t), (np.minimum(i + 1, n - 1), t)]

    def near(x):  # |x| ≤ 1
        return ((_A + 2) * x - (_A + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((_A * x - 5 * _A) * x + 8 * _A) * x - 4 * _A

    weights = (far(t + 1), near(t), near(1 - t), far(2 - t))
    return [(np.clip(i - 1 + j, 0, n - 1), w.astype(np.float32)) for j, w in enumerate(weights)]


def _copies_same_size_axis(mode: str, axes: int) -> bool:
    """Whether PyTorch (2.13, CPU) copies an axis whose size a non-unit factor leaves unchanged (floor(8·1.1) = 8)
    instead of resampling it with the factor's coordinates: the linear modes and 2-D nearest do; bicubic and
    1-D and 3-D nearest do not. Measured, not documented."""
    return mode in ("linear", "bilinear", "trilinear") or (mode == "nearest" and axes == 2)


def _upsample(x: np.ndarray, attrs: dict) -> np.ndarray:
    sizes, scales = _output_sizes(x, attrs)
    for axis, (n, out, scale) in enumerate(zip(x.shape[2:], sizes, scales), start=2):
        if out == n and (scale is None or _copies_same_size_axis(attrs["mode"], x.ndim - 2)):
            continue  # every source coordinate is its own index
        shape = [1] * x.ndim
        shape[axis] = out
        taps = _taps(attrs["mode"], n, out, scale, attrs["align_corners"])
        y = np.zeros(x.shape[:axis] + (out,) + x.shape[axis + 1:], dtype=np.float32)
        for index, weight in taps:
            y += np.take(x, index, axis=axis) * weight.reshape(shape)
        x = y
    return x


def _pixel_shuffle(x: np.ndarray, attrs: dict) -> np.ndarray:
    """Channel c·r² + i·r + j of the input becomes channel c at (h·r + i, w·r + j)."""
    n, c, h, w = x.shape
    r = attrs["factor"]
    return x.reshape(n, c // (r * r), r, r, h, w).transpose(0, 1, 4, 2, 5, 3).reshape(n, c // (r * r), h * r, w * r)


def _pixel_unshuffle(x: np.ndarray, attrs: dict) -> np.ndarray:
    n, c, h, w = x.shape
    r = attrs["factor"]
    return x.reshape(n, c, h // r, r, w // r, r).transpose(0, 1, 3, 5, 2, 4).reshape(n, c * r * r, h // r, w // r)


KERNELS = {
    "upsample": on_first(_upsample),
    "pixel_shuffle": on_first(_pixel_shuffle),
    "pixel_unshuffle": on_first(_pixel_unshuffle),
}
