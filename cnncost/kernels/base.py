"""What every kernel is made of, so the modules of each kind of op only say what is particular to them."""
from __future__ import annotations

from dataclasses import dataclass
from math import sqrt
from typing import Callable

import numpy as np

Weights = tuple[dict[str, np.ndarray], dict[str, np.ndarray]]


def no_weights(attrs: dict, input_shapes: list[tuple[int, ...]], rng: np.random.Generator) -> Weights:
    return {}, {}


def no_workspace(attrs: dict, input_shape: tuple[int, ...]) -> int:
    return 0


@dataclass(frozen=True)
class Kernel:
    """One op's numpy forward and, when it has weights, how to allocate them.

    run(attrs, inputs, params, buffers, counter) -> output; init(attrs, input_shapes, rng) -> (params, buffers);
    workspace(attrs, input_shape) -> the most temporary bytes run allocates besides its input and output (the
    memory verify predicts and measures); fold(params, bn_params, bn_buffers, eps) -> params with a batch norm
    that reads only this layer folded in, for kernels whose op absorbs batch norm.
    """

    run: Callable[..., np.ndarray]
    init: Callable[..., Weights] = no_weights
    workspace: Callable[[dict, tuple], int] = no_workspace
    fold: Callable[..., dict] | None = None


def on_first(fn: Callable[[np.ndarray, dict], np.ndarray]) -> Kernel:
    """A weightless op of one input, written as fn(x, attrs)."""
    return Kernel(run=lambda attrs, inputs, params, buffers, counter: fn(inputs[0], attrs))


def array_axis(axis: int) -> int:
    """Spec axes count per sample (0 = channels); arrays carry the batch first. Negative axes count from the end."""
    return axis + 1 if axis >= 0 else axis


def normal(rng: np.random.Generator, shape: tuple[int, ...], std: float) -> np.ndarray:
    return rng.standard_normal(shape, dtype=np.float32) * np.float32(std)


def uniform(rng: np.random.Generator, shape: tuple[int, ...], low: float, high: float) -> np.ndarray:
    """Drawn in float32: about 4× faster than rng.uniform's float64 draw and cast, or a normal draw."""
    x = rng.random(shape, dtype=np.float32)
    x *= np.float32(high - low)
    x += np.float32(low)
    return x


def he_uniform(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    """Weights with He's variance 2/fan_in, which keeps activations O(1) through deep ReLU stacks.

    Uniform on ±√(6/fan_in) (PyTorch's kaiming_uniform_ for ReLU) rather than normal: the same variance,
    drawn several times faster. Drawing weights was most of verify's time on VGG-16 (138 M of them:
    1.2 s, against 0.2 s for the forward pass).
    """
    bound = sqrt(6 / fan_in)
    return uniform(rng, shape, -bound, bound)
