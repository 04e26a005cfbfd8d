"""Max and average pooling (windowed, adaptive, global) with PyTorch's semantics, on any number of spatial axes."""
from __future__ import annotations

from dataclasses import replace
from math import prod

import numpy as np

from .base import array_axis, on_first
from .parallel import fill, filled_at_once
from .windows import out_size, padded


def _pool_axis(x: np.ndarray, axis: int, k: int, stride: int, dilation: int, combine: np.ufunc, dest: np.ndarray):
    """Combine the k taps of every window along one axis into `dest`, which has the output positions there."""

    def tap(j: int) -> np.ndarray:
        index = [slice(None)] * x.ndim
        index[axis] = slice(j * dilation, j * dilation + stride * (dest.shape[axis] - 1) + 1, stride)
        return x[tuple(index)]

    if k == 1:
        np.copyto(dest, tap(0))
    else:
        combine(tap(0), tap(1), out=dest)
    for j in range(2, k):
        combine(dest, tap(j), out=dest)
    return dest


def _pool(x: np.ndarray, attrs: dict, pad_value: float, dilation, combine: np.ufunc, divisor=None) -> np.ndarray:
    """Windowed max or sum (divided by `divisor` if given), one spatial axis at a time: a box's max or sum is
    the per-axis ones nested.

    The last axis goes first, so the one pass that reads with a stride also shrinks the array the most;
    this is several times faster than combining whole-window taps. With ceil_mode the last window may
    run past the pad, so the pad after is grown to cover it. Channels are pooled a part at a time, small
    enough that the padded copy and one axis's result are still in cache when the next axis reads them.
    """
    kernel, stride, padding, ceil = attrs["kernel"], attrs["stride"], attrs["padding"], attrs["ceil_mode"]
    geometry = list(zip(x.shape[2:], kernel, stride, dilation, padding))
    out = [out_size(n, k, s, d, p, p, ceil) for n, k, s, d, p in geometry]
    pads = [(p, max(p, (o - 1) * s + d * (k - 1) + 1 - n - p)) for (n, k, s, d, p), o in zip(geometry, out)]

    def pool_part(dest: np.ndarray, part: np.ndarray) -> None:
        y = padded(part, pads, pad_value)
        for axis in reversed(range(len(kernel))):
            _, k, s, d, _ = geometry[axis]
            shape = y.shape[: axis + 2] + (out[axis],) + y.shape[axis + 3 :]
            y = _pool_axis(y, axis + 2, k, s, d, combine, dest if axis == 0 else np.empty(shape, dtype=np.float32))
        if divisor is not None:
            dest /= divisor

    return fill(pool_part, np.empty(x.shape[:2] + tuple(out), dtype=np.float32), x)


def _pool_workspace(attrs: dict, input_shape: tuple[int, ...]) -> int:
    """_pool works part by part (fill), so only the parts being filled at once hold temporaries. Per part: with
    padding (or ceil_mode) a padded copy of its input, then the partial results pooled along the last axis, the
    last two, ...; the final axis is pooled into the output. Each temporary lives until the next is made."""
    n, c, *spatial = input_shape
    dilation = attrs.get("dilation") or (1,) * len(spatial)
    geometry = list(zip(spatial, attrs["kernel"], attrs["stride"], dilation, attrs["padding"]))
    out = [out_size(size, k, s, d, p, p, attrs["ceil_mode"]) for size, k, s, d, p in geometry]
    sizes = [size + p + max(p, (o - 1) * s + d * (k - 1) + 1 - size - p) for (size, k, s, d, p), o in zip(geometry, out)]
    chain = [n * c * prod(sizes)] if sizes != spatial else []
    chain += [n * c * prod(sizes[: len(sizes) - i]) * prod(out[len(sizes) - i :]) for i in range(1, len(sizes))]
    whole = max((sum(chain[i : i + 2]) for i in range(len(chain))), default=0)
    return whole * 4 * filled_at_once((n, c, *out), 4) // (n * c * prod(out) * 4)


def _maxpool(x: np.ndarray, attrs: dict) -> np.ndarray:
    return _pool(x, attrs, -np.inf, attrs["dilation"], np.maximum)


def _avg_divisor(size: int, k: int, s: int, p: int, out: int, count_include_pad: bool) -> np.ndarray:
    """PyTorch's divisor along one axis: the window clipped to the padded input, or to the input alone."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, size + p)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def _avgpool(x: np.ndarray, attrs: dict) -> np.ndarray:
    geometry = zip(x.shape[2:], attrs["kernel"], attrs["stride"], attrs["padding"])
    divisor = np.ones((), dtype=np.int64)
    for n, k, s, p in geometry:
        o = out_size(n, k, s, 1, p, p, attrs["ceil_mode"])
        divisor = np.multiply.outer(divisor, _avg_divisor(n, k, s, p, o, attrs["count_include_pad"]))
    return _pool(x, attrs, 0.0, (1,) * len(attrs["kernel"]), np.add, divisor.astype(np.float32))


def _bins(size: int, out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PyTorch's adaptive bins [floor(i*size/out), ceil((i+1)*size/out)) as a padded index table.

    Short bins repeat their last index; `valid` marks the real entries and `width` counts them.
    """
    i = np.arange(out)
    start, end = i * size // out, -(-(i + 1) * size // out)
    width = end - start
    index = start[:, None] + np.arange(width.max())
    valid = index < end[:, None]
    return np.minimum(index, end[:, None] - 1), valid, width


def _adaptive(reduce: str):
    """Adaptive pooling one spatial axis at a time: a box's max or mean is the max or mean of per-axis ones."""

    def pool(x: np.ndarray, attrs: dict) -> np.ndarray:
        if all(out == 1 for out in attrs["output"]):  # one bin over everything: a global pool, in one reduction
            return getattr(x, reduce)(axis=tuple(range(2, x.ndim)), keepdims=True)
        for axis, out in enumerate(attrs["output"], start=2):
            index, valid, width = _bins(x.shape[axis], out)
            gathered = np.take(x, index, axis=axis)  # axis becomes (out, widest bin)
            trailing = (1,) * (x.ndim - axis - 1)
            if reduce == "max":
                x = gathered.max(axis=axis + 1)
            else:
                gathered *= valid.reshape(valid.shape + trailing)
                x = gathered.sum(axis=axis + 1) / width.reshape(width.shape + trailing).astype(np.float32)
        return x

    return pool


def _global(reduce: str):
    def pool(x: np.ndarray, attrs: dict) -> np.ndarray:
        axes = tuple(range(2, x.ndim))
        return getattr(x, reduce)(axis=axes, keepdims=attrs["keepdims"])

    return pool


def _reduce(reduce: str):
    """mean, sum or max over per-sample axes; numpy's reductions keep float32."""

    def run(x: np.ndarray, attrs: dict) -> np.ndarray:
        return getattr(x, reduce)(axis=tuple(array_axis(a) for a in attrs["axes"]), keepdims=attrs["keepdims"])

    return run


KERNELS = {
    **{f"maxpool{d}d": replace(on_first(_maxpool), workspace=_pool_workspace) for d in (1, 2, 3)},
    **{f"avgpool{d}d": replace(on_first(_avgpool), workspace=_pool_workspace) for d in (1, 2, 3)},
    **{f"adaptive_maxpool{d}d": on_first(_adaptive("max")) for d in (1, 2, 3)},
    **{f"adaptive_avgpool{d}d": on_first(_adaptive("mean")) for d in (1, 2, 3)},
    "global_maxpool": on_first(_global("max")),
    "global_avgpool": on_first(_global("mean")),
    "mean": on_first(_reduce("mean")),
    "sum": on_first(_reduce("sum")),
    "amax": on_first(_reduce("max")),
}
