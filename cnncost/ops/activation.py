"""Activations and softmax: elementwise, no parameters; FLOPs per element as listed (our stated convention)."""
from __future__ import annotations

from cnncost.ops import register
from cnncost.ops.base import Key, Op, OpError


class Activation(Op):
    family = "activation"

    def __init__(self, name: str, flops: int, formula: str, keys: tuple = ()):
        self.name, self.flops_per_element, self.keys = name, flops, keys
        self.doc = formula
        self.flops_doc = f"{flops} per element"


class Softmax(Op):
    name = "softmax"
    family = "activation"
    doc = "softmax along one per-sample axis (0 = channels)"
    keys = (Key("axis", "axis", 0, "per-sample axis; 0 = channels, negative counts from the end"),)
    flops_per_element = 3
    flops_doc = "3 per element (exp, sum, divide)"

    def output_shape(self, attrs, in_shapes):
        shape = in_shapes[0]
        if not -len(shape) <= attrs["axis"] < len(shape):
            raise OpError(f"axis {attrs['axis']} is out of range for shape {shape}", "axis")
        return shape


register(
    Activation("relu", 1, "max(x, 0)"),
    Activation("relu6", 2, "min(max(x, 0), 6)"),
    Activation("leaky_relu", 2, "x if x > 0 else slope·x", (Key("slope", "float", 0.01, "negative slope"),)),
    Activation("sigmoid", 4, "1 / (1 + exp(−x))"),
    Activation("tanh", 5, "tanh(x)"),
    Activation(
        "gelu",
        8,
        "x·Φ(x)",
        (Key("approximate", "choice", "none", "'none' (erf) or 'tanh'", ("none", "tanh")),),
    ),
    Activation("silu", 5, "x·sigmoid(x) (swish)"),
    Activation("hardswish", 4, "x·relu6(x + 3) / 6"),
    Activation("hardsigmoid", 3, "relu6(x + 3) / 6"),
    Softmax(),
)
