"""Sliding-window geometry shared by convolution and pooling: output sizes, padding, strided window views."""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided


def out_size(size: int, k: int, stride: int, dilation: int, before: int, after: int, ceil_mode: bool = False) -> int:
    """Number of window positions along one axis (PyTorch's rule, including its ceil_mode correction).

    With ceil_mode a last, partial window is kept only if it starts inside the input or the leading pad.
    """
    span = size + before + after - dilation * (k - 1) - 1
    if span < 0:
        raise ValueError(f"window {k} (dilation {dilation}) does not fit an axis of {size} padded by {before}+{after}")
    n = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (n - 1) * stride >= size + before:
        n -= 1
    return n


def padded(x: np.ndarray, pads: list[tuple[int, int]], fill: float) -> np.ndarray:
    """x (N, C, *spatial) grown by (before, after) on each spatial axis with `fill`; x itself if nothing is added."""
    if not any(b or a for b, a in pads):
        return x
    grown = x.shape[:2] + tuple(n + b + a for n, (b, a) in zip(x.shape[2:], pads))
    xp = np.full(grown, fill, dtype=x.dtype)
    xp[(..., *(slice(b, b + n) for n, (b, _) in zip(x.shape[2:], pads)))] = x
    return xp


def windows(xp: np.ndarray, kernel, stride, dilation, out) -> np.ndarray:
    """A read-only view (N, C, *kernel, *out) of every window of xp (N, C, *spatial); nothing is copied.

    Element [n, c, *j, *i] is xp[n, c, *(i * stride + j * dilation)].
    """
    for size, k, s, d, o in zip(xp.shape[2:], kernel, stride, dilation, out):
        # as_strided does not check bounds: a window past the end would read foreign memory.
        assert (o - 1) * s + (k - 1) * d < size, "window view runs past the padded input"
    axis_strides = xp.strides[2:]
    return as_strided(
        xp,
        shape=xp.shape[:2] + tuple(kernel) + tuple(out),
        strides=xp.strides[:2]
        + tuple(st * d for st, d in zip(axis_strides, dilation))
        + tuple(st * s for st, s in zip(axis_strides, stride)),
        writeable=False,
    )
