"""Fully connected layer on the last axis: MACs = prod(leading axes) · in · out."""
from __future__ import annotations

from math import prod

from cnncost.ops import register
from cnncost.ops.base import SAVES_INPUT, Key, Op, OpError, per_sample_axes
from cnncost.ops.window import sliding, whole


class Linear(Op):
    name = "linear"
    kind = "linear"
    doc = "fully connected layer applied to the last axis (PyTorch Linear)"
    keys = (
        Key("out", "int", doc="output features"),
        Key("bias", "bool", True, "add a learned bias"),
        Key("in", "int", None, "input features the layer was built for; any other size is an error"),
    )
    elementwise = False
    counts_as_layer = True
    flops_doc = "2·MACs, plus 1 per output element for the bias add"

    def output_shape(self, attrs, in_shapes):
        got = in_shapes[0][-1]
        if attrs["in"] is not None and got != attrs["in"]:
            raise OpError(
                f"linear was built for in: {attrs['in']} features but receives {got} (input shape changed?); "
                "pool to a fixed size before it (e.g. adaptive_avgpool2d: {output: …}) or use the input size it was built for",
                "in",
            )
        return (*in_shapes[0][:-1], attrs["out"])

    def params(self, attrs, in_shapes):
        return in_shapes[0][-1] * attrs["out"] + (attrs["out"] if attrs["bias"] else 0)

    def macs(self, attrs, in_shapes, out_shape):
        return prod(out_shape) * in_shapes[0][-1]

    def flops(self, attrs, in_shapes, out_shape):
        return 2 * self.macs(attrs, in_shapes, out_shape) + (prod(out_shape) if attrs["bias"] else 0)

    def saved(self, attrs, in_shapes, out_shape):
        return SAVES_INPUT  # for the weight gradient

    def window(self, attrs, in_shapes):
        return _whole(in_shapes[0]) if len(in_shapes[0]) > 1 and in_shapes[0][1:] else None

    def product_shape(self, attrs, in_shapes, out_shape):
        """(out features) × (in features) @ (in features) × (every leading position: 1 for a classifier on a vector,
        H·W for ConvNeXt's channels-last MLP)."""
        return attrs["out"], in_shapes[0][-1], prod(in_shapes[0][:-1])


def _whole(shape):
    """A linear on a C×spatial tensor mixes only the last axis; treat that axis as fully covered."""
    spatial = shape[1:]
    return [sliding(1, 1, 0)] * (len(spatial) - 1) + [whole(spatial[-1])]


class Scale(Op):
    """A learned multiplier per element of one axis: ConvNeXt's layer scale (gamma·x, gamma of shape C×1×1)."""

    name = "scale"
    kind = "linear"
    doc = "multiply by a learned value per element of one per-sample axis (layer scale)"
    keys = (Key("axis", "axis", 0, "per-sample axis the multipliers run along; 0 = channels, negative from the end"),)
    flops_per_element = 1
    flops_doc = "1 per element (the multiply); 0 MACs"

    def output_shape(self, attrs, in_shapes):
        per_sample_axes([attrs["axis"]], in_shapes[0], "axis")
        return in_shapes[0]

    def kind_of(self, attrs, in_shapes):
        return "layer scale"  # not a linear layer in `--group-by op`: no MACs, one weight per channel

    def params(self, attrs, in_shapes):
        shape = in_shapes[0]
        return shape[per_sample_axes([attrs["axis"]], shape, "axis")[0]]

    def saved(self, attrs, in_shapes, out_shape):
        """gamma's gradient is the input times the output's gradient: autograd keeps the input."""
        return SAVES_INPUT


register(Linear(), Scale())
