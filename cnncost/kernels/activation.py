"""Elementwise activations and softmax, in float32, written from their PyTorch definitions."""
from __future__ import annotations

from math import prod

import numpy as np

from .base import Kernel, array_axis, on_first, uniform
from .parallel import PART_BYTES_MOST, elementwise

_F = np.float32

# np.maximum and np.minimum against a scalar (or a broadcast one) run a scalar loop, three times slower than
# against an array of the same value (numpy 2.4, measured on 1 MiB: 97 vs 34 µs). One read-only array per
# bound, as large as the parts elementwise() hands out, gives every part an array operand.
_BOUNDS = {value: np.full(PART_BYTES_MOST // 4, value, dtype=np.float32) for value in (0.0, 6.0)}


def _bound(value: float, part: np.ndarray):
    """`value` shaped like part, as a view of a constant array when one is large enough."""
    full = _BOUNDS[value]
    return full[: part.size].reshape(part.shape) if part.size <= full.size else _F(value)


def _relu(out: np.ndarray, x: np.ndarray) -> None:
    np.maximum(x, _bound(0.0, x), out=out)


def _relu6(out: np.ndarray, x: np.ndarray) -> None:
    np.maximum(x, _bound(0.0, x), out=out)
    np.minimum(out, _bound(6.0, out), out=out)


def _sigmoid(out: np.ndarray, x: np.ndarray) -> None:
    """1 / (1 + e^-x) in the output itself, no temporary. e^-x is capped at e^88 (float32 reaches 3.4e38), so it never
    overflows: below x = -88, where the true value is under 6.1e-39, the result is 6.1e-39. No branch on the sign
    either: a masked copy (`where=x < 0`) ran at 4.9 ns per element on mixed signs and 0.8 on one sign (branch
    misprediction), so a layer's time depended on its values; this runs at 0.8 ns whatever they are."""
    np.negative(x, out=out)
    np.minimum(out, _F(88), out=out)
    np.exp(out, out=out)
    np.add(out, _F(1), out=out)
    np.reciprocal(out, out=out)


def _silu(out: np.ndarray, x: np.ndarray) -> None:
    _sigmoid(out, x)
    out *= x


def _erf(z: np.ndarray) -> np.ndarray:
    """numpy has no erf: Abramowitz & Stegun 7.1.26, |error| <= 1.5e-7, evaluated in float64."""
    a = np.abs(z.astype(np.float64))
    t = 1 / (1 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return np.sign(z) * (1 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray, attrs: dict) -> np.ndarray:
    if attrs["approximate"] == "tanh":
        inner = np.sqrt(_F(2 / np.pi)) * (x + _F(0.044715) * x**3)
        return _F(0.5) * x * (1 + np.tanh(inner))
    return (0.5 * x * (1 + _erf(x / np.sqrt(2.0)))).astype(np.float32)


# Bytes of temporaries per input byte, measured with tracemalloc on (2, 16, 16, 384) and (2, 96, 64, 64) float32
# inputs: the erf form evaluates A&S 7.1.26 in float64 (14.0×); the tanh form keeps three float32 arrays (3.0×).
_GELU_TEMPORARIES = {"none": 14, "tanh": 3}


def _softmax(x: np.ndarray, attrs: dict) -> np.ndarray:
    axis = array_axis(attrs["axis"])
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _hardsigmoid(out: np.ndarray, x: np.ndarray) -> None:
    np.add(x, _F(3), out=out)
    np.clip(out, _F(0), _F(6), out=out)
    out /= _F(6)


def _hardswish(out: np.ndarray, x: np.ndarray) -> None:
    _hardsigmoid(out, x)
    out *= x


def _leaky_relu(x: np.ndarray, attrs: dict) -> np.ndarray:
    slope = _F(attrs["slope"])

    def scale_negatives(out: np.ndarray, part: np.ndarray) -> None:
        np.multiply(part, slope, out=out)
        np.copyto(out, part, where=part >= 0)

    return elementwise(scale_negatives, x)


def _softplus(x: np.ndarray, beta: float = 1.0, threshold: float = 20.0) -> np.ndarray:
    """log(1 + e^(βx)) / β, and x itself where βx > threshold (PyTorch Softplus); logaddexp never overflows."""
    bx = _F(beta) * x
    return np.where(bx > threshold, x, np.logaddexp(_F(0), bx) / _F(beta))


def _elu(x: np.ndarray, attrs: dict) -> np.ndarray:
    """x for x > 0, alpha·(e^x − 1) otherwise; exp only sees non-positive arguments."""
    return np.where(x > 0, x, _F(attrs["alpha"]) * np.expm1(np.minimum(x, _F(0))))


def _prelu(attrs, inputs, params, buffers, counter):
    """PyTorch PReLU: one learned slope for the negatives, or one per channel (axis 1)."""
    x, slope = inputs[0], params["weight"]
    slope = slope.reshape(1, -1, *[1] * (x.ndim - 2)) if x.ndim > 1 else slope
    return np.where(x >= 0, x, slope * x)


def _prelu_init(attrs, input_shapes, rng):
    count = input_shapes[0][1] if attrs["per_channel"] else 1
    return {"weight": uniform(rng, (count,), 0.0, 0.5)}, {}


# Arithmetic only, each written as fn(out, x) so that parts of the output can be filled on several cores.
# sigmoid and SiLU too: written whole, their temporaries were five input-sized arrays (efficientnet_b0 at batch 8
# measured twice verify's predicted peak); part by part they stay within a part per core.
_PIECEWISE = {
    "relu": _relu,
    "relu6": _relu6,
    "hardsigmoid": _hardsigmoid,
    "hardswish": _hardswish,
    "sigmoid": _sigmoid,
    "silu": _silu,
}

_TRANSCENDENTAL = {
    "tanh": np.tanh,
}

KERNELS = {
    **{name: on_first(lambda x, attrs, fn=fn: elementwise(fn, x)) for name, fn in _PIECEWISE.items()},
    **{name: on_first(lambda x, attrs, fn=fn: fn(x)) for name, fn in _TRANSCENDENTAL.items()},
    "leaky_relu": on_first(_leaky_relu),
    "gelu": Kernel(run=on_first(_gelu).run, workspace=lambda attrs, shape: _GELU_TEMPORARIES[attrs["approximate"]] * prod(shape) * 4),
    "softmax": on_first(_softmax),
    "prelu": Kernel(run=_prelu, init=_prelu_init),
    "elu": on_first(_elu),
    "softplus": on_first(lambda x, attrs: _softplus(x, attrs["beta"], attrs["threshold"])),
    "mish": on_first(lambda x, attrs: x * np.tanh(_softplus(x))),
    "hardtanh": on_first(lambda x, attrs: np.clip(x, _F(attrs["min"]), _F(attrs["max"]))),
}
