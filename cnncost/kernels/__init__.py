"""A numpy forward pass for every op, written from the op definitions, to cross-check the analytic costs.

Nothing here imports cnncost.ops or cnncost.spec: the two computations meet only in verify.py.
"""
from __future__ import annotations

import numpy as np

from . import activation, border, conv, conv_transpose, linear, merge, norm, pool, reshape, resample
from .base import Kernel, Weights
from .counting import MacCounter, counted_matmul
from .memory import reuse_freed_memory

__all__ = ["KERNEL_OPS", "MacCounter", "counted_matmul", "fold_weights", "forward", "init_weights", "reuse_freed_memory", "workspace_bytes"]

_MODULES = (border, conv, conv_transpose, pool, norm, activation, linear, merge, reshape, resample)
_KERNELS: dict[str, Kernel] = {name: k for module in _MODULES for name, k in module.KERNELS.items()}
assert len(_KERNELS) == sum(len(module.KERNELS) for module in _MODULES), "an op name is defined by two modules"

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


def workspace_bytes(op: str, attrs: dict, input_shape: tuple[int, ...]) -> int:
    """The most temporary bytes one layer's kernel allocates besides its input and output (batch first)."""
    return _kernel(op).workspace(attrs, tuple(input_shape))


def fold_weights(op: str, params: dict, bn_params: dict, bn_buffers: dict, eps: float) -> dict:
    """A layer's params with the batch norm that reads only it folded in; the kernel knows its weight layout."""
    fold = _kernel(op).fold
    if fold is None:
        raise ValueError(f"the {op!r} kernel cannot absorb a batch norm")
    return fold(params, bn_params, bn_buffers, eps)
