"""Activations and softmax: elementwise, no parameters; FLOPs per element as listed (our stated convention)."""
from __future__ import annotations

from math import prod

from cnncost.ops import register
from cnncost.ops.base import SAVES_INPUT, SAVES_OUTPUT, Key, Op, OpError, Saved, per_sample_axes


class Activation(Op):
    kind = "activation"

    def __init__(self, name: str, flops: int, formula: str, keys: tuple = (), saves: str = "input", in_place: bool = False):
        self.name, self.flops_per_element, self.keys = name, flops, keys
        self.doc = formula
        self.flops_doc = f"{flops} per element"
        self.saves, self.in_place = saves, in_place

    def saved(self, attrs, in_shapes, out_shape):
        """PyTorch's derivative reads the input or the output. Run in place, an op whose derivative reads the
        input (relu6 = hardtanh_) has autograd keep a copy of the input before it is overwritten (measured with
        torch 2.13: mobilenet_v2 saves 0.69× our figure without the copy)."""
        if self.saves == "output":
            return SAVES_OUTPUT
        return (Saved(elements=prod(in_shapes[0])),) if self.in_place else SAVES_INPUT


class PReLU(Activation):
    """leaky_relu with a learned slope: one shared, or one per channel (PyTorch PReLU(num_parameters=C))."""

    def __init__(self):
        super().__init__("prelu", 2, "x if x > 0 else a·x, a learned",
                         (Key("per_channel", "bool", False, "one slope per channel (C parameters) instead of one"),))

    def params(self, attrs, in_shapes):
        return in_shapes[0][0] if attrs["per_channel"] else 1


class HardTanh(Activation):
    def __init__(self):
        super().__init__("hardtanh", 2, "min(max(x, min), max)",
                         (Key("min", "float", -1.0, "lower bound"), Key("max", "float", 1.0, "upper bound")))

    def finish_attrs(self, attrs):
        if not attrs["min"] < attrs["max"]:
            raise OpError(f"hardtanh needs min < max, got min={attrs['min']} and max={attrs['max']}", "max")
        return attrs


class Softmax(Op):
    name = "softmax"
    kind = "activation"
    doc = "softmax along one per-sample axis (0 = channels)"
    keys = (Key("axis", "axis", 0, "per-sample axis; 0 = channels, negative counts from the end"),)
    flops_per_element = 3
    flops_doc = "3 per element (exp, sum, divide)"

    def saved(self, attrs, in_shapes, out_shape):
        return SAVES_OUTPUT

    def output_shape(self, attrs, in_shapes):
        per_sample_axes([attrs["axis"]], in_shapes[0], "axis")
        return in_shapes[0]


register(
    Activation("relu", 1, "max(x, 0)", saves="output", in_place=True),
    Activation("relu6", 2, "min(max(x, 0), 6)", in_place=True),
    Activation("leaky_relu", 2, "x if x > 0 else slope·x", (Key("slope", "float", 0.01, "negative slope"),)),
    Activation("sigmoid", 4, "1 / (1 + exp(−x))", saves="output"),
    Activation("tanh", 5, "tanh(x)", saves="output"),
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
    PReLU(),
    Activation("elu", 4, "x if x > 0 else alpha·(exp(x) − 1)", (Key("alpha", "float", 1.0, "scale of the negative part"),)),
    Activation("softplus", 4, "log(1 + exp(beta·x)) / beta, x where beta·x > threshold", (
        Key("beta", "float", 1.0, "sharpness"),
        Key("threshold", "float", 20.0, "above beta·x = threshold the output is x"),
    )),
    Activation("mish", 10, "x·tanh(softplus(x))"),
    HardTanh(),
)
