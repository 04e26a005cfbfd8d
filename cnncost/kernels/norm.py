"""Normalisations at inference: batch norm from running statistics, the others from each sample's own."""
from __future__ import annotations

from math import prod

import numpy as np

from .base import Kernel, normal, uniform
from .parallel import elementwise


def _channel_shape(x: np.ndarray) -> tuple[int, ...]:
    """Broadcasts a per-channel vector over (N, C, *spatial)."""
    return (-1,) + (1,) * (x.ndim - 2)


def _standardize(x: np.ndarray, axes: tuple[int, ...], eps: float) -> np.ndarray:
    """(x - mean) / sqrt(var + eps) over `axes`, with the biased variance as PyTorch uses."""
    centred = x - x.mean(axis=axes, keepdims=True)
    var = np.square(centred).mean(axis=axes, keepdims=True)
    centred /= np.sqrt(var + np.float32(eps))
    return centred


def _affine_init(shape: tuple[int, ...], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Scale near 1 and shift near 0, random so that a swapped or ignored parameter shows in the output."""
    return {"weight": uniform(rng, shape, 0.5, 1.5), "bias": normal(rng, shape, 0.1)}


def _batchnorm(attrs, inputs, params, buffers, counter):
    x = inputs[0]
    scale = 1 / np.sqrt(buffers["running_var"] + np.float32(attrs["eps"]))
    if attrs["affine"]:
        scale *= params["weight"]
    shift = -buffers["running_mean"] * scale
    if attrs["affine"]:
        shift += params["bias"]
    return elementwise(_scale_shift, x, scale.reshape(_channel_shape(x)), shift.reshape(_channel_shape(x)))


def _scale_shift(out: np.ndarray, x: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> None:
    np.multiply(x, scale, out=out)
    out += shift


def _batchnorm_init(attrs, input_shapes, rng):
    """Running statistics are always there (inference mode); variance kept positive and near 1.

    Running statistics do not follow the real activations, so a residual block passes its input's scale
    through its branch; a scale near 1 would compound over ResNet-152's 50 blocks to ~1e12. A smaller
    scale (~0.4) keeps that growth to ~20x while biases keep plain conv-BN stacks away from zero.
    """
    c = input_shapes[0][1]
    params = {"weight": uniform(rng, (c,), 0.2, 0.6), "bias": normal(rng, (c,), 0.1)} if attrs["affine"] else {}
    return params, {"running_mean": normal(rng, (c,), 0.1), "running_var": uniform(rng, (c,), 0.5, 1.5)}


def _per_channel_affine(y: np.ndarray, attrs: dict, params: dict) -> np.ndarray:
    if attrs["affine"]:
        y *= params["weight"].reshape(_channel_shape(y))
        y += params["bias"].reshape(_channel_shape(y))
    return y


def _instancenorm(attrs, inputs, params, buffers, counter):
    x = inputs[0]
    return _per_channel_affine(_standardize(x, tuple(range(2, x.ndim)), attrs["eps"]), attrs, params)


def _groupnorm(attrs, inputs, params, buffers, counter):
    x = inputs[0]
    grouped = x.reshape(x.shape[0], attrs["groups"], -1)
    y = _standardize(grouped, (2,), attrs["eps"]).reshape(x.shape)
    return _per_channel_affine(y, attrs, params)


def _channel_affine_init(attrs, input_shapes, rng):
    return (_affine_init((input_shapes[0][1],), rng) if attrs["affine"] else {}), {}


def _layernorm_dims(attrs: dict, ndim: int) -> int:
    """How many trailing axes are normalised; None means every per-sample axis."""
    return ndim - 1 if attrs["dims"] is None else attrs["dims"]


def _layernorm(attrs, inputs, params, buffers, counter):
    x = inputs[0]
    y = _standardize(x, tuple(range(x.ndim - _layernorm_dims(attrs, x.ndim), x.ndim)), attrs["eps"])
    if attrs["affine"]:
        y *= params["weight"]
        y += params["bias"]
    return y


def _layernorm_init(attrs, input_shapes, rng):
    shape = tuple(input_shapes[0])
    normalized = shape[len(shape) - _layernorm_dims(attrs, len(shape)) :]
    return (_affine_init(normalized, rng) if attrs["affine"] else {}), {}


def _lrn(attrs, inputs, params, buffers, counter):
    """b_c = a_c / (k + alpha/size * sum of a^2 over a channel window)^beta, window padded as PyTorch does."""
    x = inputs[0]
    size = attrs["size"]
    squares = np.square(x)
    pad = [(0, 0)] * x.ndim
    pad[1] = (size // 2, (size - 1) // 2)
    squares = np.pad(squares, pad)
    c = x.shape[1]
    window_sum = squares[:, :c].copy()
    for offset in range(1, size):
        window_sum += squares[:, offset : offset + c]
    window_sum *= np.float32(attrs["alpha"] / size)
    window_sum += np.float32(attrs["k"])
    return x / window_sum ** np.float32(attrs["beta"])


def _lrn_workspace(attrs: dict, input_shape: tuple[int, ...]) -> int:
    """_lrn holds the squares, the padded squares and the window sum while the padded copy is made, then the
    window sum, its power and the quotient: at most three arrays besides input and output, the padded one
    size − 1 channels larger."""
    n, c, *spatial = input_shape
    return (3 * c + attrs["size"] - 1) * n * prod(spatial) * 4


KERNELS = {
    "batchnorm": Kernel(run=_batchnorm, init=_batchnorm_init),
    "instancenorm": Kernel(run=_instancenorm, init=_channel_affine_init),
    "groupnorm": Kernel(run=_groupnorm, init=_channel_affine_init),
    "layernorm": Kernel(run=_layernorm, init=_layernorm_init),
    "lrn": Kernel(run=_lrn, workspace=_lrn_workspace),
}
