"""A numpy forward pass for every op, written from the op definitions, to cross-check the analytic costs.

Nothing here imports cnncost.ops or cnncost.spec: the two computations meet only in verify.py.
"""
from __future__ import annotations

import numpy as np

from . import activation, border, conv, conv_transpose, linear, merge, norm, pool, reshape, resample
from .base import Kernel, Weights
from .conv import im2col_bytes
from .counting import MacCounter, counted_matmul
from .memory import reuse_freed_memory

__all__ = ["KERNEL_OPS", "MacCounter", "counted_matmul", "forward", "im2col_bytes", "init_weights", "reuse_freed_memory",
           "declared_workspace", "scale_out_channels"]

_FAMILIES = (border, conv, conv_transpose, pool, norm, activation, linear, merge, reshape, resample)
_KERNELS: dict[str, Kernel] = {name: k for family in _FAMILIES for name, k in family.KERNELS.items()}
assert len(_KERNELS) == sum(len(family.KERNELS) for family in _FAMILIES), "an op name is defined by two families"

KERNEL_OPS = frozenset(_KERNELS)


def _kernel(op: str) -> Kernel:
    try:
        return _KERNELS[op]
    except KeyError:
        raise KeyError(f"no numpy kernel for op {op!r}") from None


def init_weights(op: str, attrs: dict, input_shapes: list[tuple[int, ...]], rng: np.random.Generator) -> Weights:
    """Random float32 (params, buffers) for one layer, from its hyperparameters and input shapes (batch first)."""
    return _kernel(op).init(attrs, [tuple(s) for s in input_shapes], rng)


def forward(op: str, attrs: dict, inputs: list[np.ndarray], params: dict, buffers: dict, counter: MacCounter) -> np.ndarray:
    """One layer's float32 output; convolutions and linear layers add their executed MACs to `counter`."""
    return _kernel(op).run(attrs, inputs, params, buffers, counter)


def scale_out_channels(op: str, weight: np.ndarray, scale: np.ndarray, groups: int) -> np.ndarray:
    """The layer's weight with each output channel scaled (batchnorm folding); the layout is the kernel's to know."""
    return _kernel(op).scale_out_channels(weight, scale, groups)


def declared_workspace(op: str, attrs: dict, input_shape: tuple[int, ...]) -> int | None:
    """Temporary bytes the op's kernel allocates besides its input and output, if the kernel declares them."""
    kernel = _KERNELS.get(op)
    return None if kernel is None or kernel.workspace is None else kernel.workspace(attrs, tuple(input_shape))
