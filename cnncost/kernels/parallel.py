"""Elementwise work on every core: numpy releases the GIL inside ufuncs, so parts of one output fill in parallel.

BLAS already uses every core for the matmuls; without this, pooling, activations, normalisation and sums
run on one. An op writes `fn(out_part, *input_parts)` for parts of its output cut along the leading axes;
each element is computed by the same ufuncs as without the cut, so the result is bit-identical.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor, wait
from math import prod
from typing import Callable, Iterator

import numpy as np

# Measured on the 2-core target: below ~1 MiB of output the hand-off to a thread costs more than it saves.
# Parts of ~1 MiB pooled fastest: the padded copy and one axis's partial result are still in cache for the
# next pass, and the parts are few enough that the Python call per part stays negligible.
_MIN_BYTES = 1 << 20
_PART_BYTES = 1 << 20
PART_BYTES_MOST = max(_MIN_BYTES, _PART_BYTES)  # what fn is given at most, unless one (sample, channel) is larger
_WORKERS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
_POOL: ThreadPoolExecutor | None = None


def _start_pool() -> None:
    global _POOL
    _POOL = ThreadPoolExecutor(max_workers=_WORKERS - 1, thread_name_prefix="cnncost-kernel") if _WORKERS > 1 else None


_start_pool()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_start_pool)  # a forked child has none of its parent's threads


def _parts(shape: tuple[int, ...], itemsize: int, part_bytes: int) -> list[tuple[slice, ...]]:
    """Index tuples that cut `shape` into pieces of about part_bytes along its first axis or, when one index
    there is larger than that, along the second within each index of the first. Never deeper: an op may
    change the other axes (pooling does), and (sample, channel) is the unit every op keeps."""
    prefixes: list[tuple[slice, ...]] = [()]
    for axis, size in enumerate(shape[:2]):
        inner = prod(shape[axis + 1 :]) * itemsize
        if inner < part_bytes or axis == 1:
            step = max(1, part_bytes // max(inner, 1))
            return [p + (slice(i, i + step),) for p in prefixes for i in range(0, size, step)]
        prefixes = [(slice(i, i + 1),) for i in range(size)]
    return prefixes


def _part_of(a: np.ndarray, index: tuple[slice, ...], ndim: int) -> np.ndarray:
    """The piece of a broadcast operand that meets out[index]: axes it lacks or broadcasts stay whole."""
    offset = ndim - a.ndim
    own = tuple(
        slice(None) if axis < offset or a.shape[axis - offset] == 1 else s for axis, s in enumerate(index)
    )[offset:]
    return a[own] if own else a


def _run_parts(fn: Callable[..., object], out: np.ndarray, inputs: tuple[np.ndarray, ...], parts: Iterator) -> None:
    for index in parts:
        fn(out[index], *(_part_of(a, index, out.ndim) for a in inputs))


def filled_at_once(shape: tuple[int, ...], itemsize: int) -> int:
    """Bytes of an output of `shape` that fill() hands out at the same time: all of it when small, else the
    largest parts, one per core, as _parts cuts them (whole samples or channels: 3 samples of 301 kB make a
    part of 903 kB, not 1 MiB)."""
    total = prod(shape) * itemsize
    if total < _MIN_BYTES or len(shape) == 0:
        return total
    sizes = sorted((_part_bytes(index, shape, itemsize) for index in _parts(shape, itemsize, _PART_BYTES)), reverse=True)
    return min(total, sum(sizes[:_WORKERS]))


def _part_bytes(index: tuple[slice, ...], shape: tuple[int, ...], itemsize: int) -> int:
    """Bytes of out[index]: the sliced leading axes' spans times the whole trailing axes."""
    return prod(len(range(*s.indices(n))) for s, n in zip(index, shape)) * prod(shape[len(index):]) * itemsize


def fill(fn: Callable[..., object], out: np.ndarray, *inputs: np.ndarray, threads: bool = True) -> np.ndarray:
    """Call fn(out_part, *input_parts) over all of `out` (inputs broadcast to it), part by part, the parts
    shared among the cores unless threads is False.

    Parts of about 1 MiB let an fn of several passes (multiply, then add) read its own last pass from cache.
    Small outputs take one call on the whole arrays. Returns `out`.
    """
    if out.nbytes < _MIN_BYTES or out.ndim == 0:
        fn(out, *inputs)
        return out
    # One iterator shared by every core: whoever is free takes the next part, so a core slowed by another
    # thread (BLAS's, still spinning after a matmul) does less of the work. A list iterator's next() is atomic.
    parts = iter(_parts(out.shape, out.itemsize, _PART_BYTES))
    pool = _POOL if threads else None
    jobs = [pool.submit(_run_parts, fn, out, inputs, parts) for _ in range(_WORKERS - 1)] if pool else []
    try:
        _run_parts(fn, out, inputs, parts)
    finally:
        wait(jobs)  # no thread may still write to `out` once this returns or raises
    for job in jobs:
        job.result()
    return out


# OpenBLAS's idle workers spin for 2^OPENBLAS_THREAD_TIMEOUT cycles (default 2^28, about 0.1 s) after every
# matmul, so between convolutions they hold the second core: a thread started for an activation or a sum
# gets half a core, and these memory-bound ops come out no faster (measured: slightly slower) than on one.
# With the timeout set low before numpy loads (OpenBLAS clamps it to 4..30; `verify` does this through
# cnncost.blasenv unless the user chose a value), the workers sleep at once and the split pays off: ResNet-50 at batch 8, batch norm 62 -> 43 ms, ReLU 33 -> 23 ms. Pooling does enough
# work per byte to gain from a second thread either way, so it always splits.
_TIMEOUT = os.environ.get("OPENBLAS_THREAD_TIMEOUT", "").strip()
_BLAS_WORKERS_SLEEP = _TIMEOUT.isdigit() and int(_TIMEOUT) <= 16


def elementwise(fn: Callable[..., object], *inputs: np.ndarray) -> np.ndarray:
    """A fresh float32 array of the inputs' broadcast shape, filled by fn(out_part, *input_parts)."""
    out = np.empty(np.broadcast_shapes(*(a.shape for a in inputs)), dtype=np.float32)
    return fill(fn, out, *inputs, threads=_BLAS_WORKERS_SLEEP)
