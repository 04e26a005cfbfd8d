"""Fully connected layer on the last axis: MACs = prod(leading axes) · in · out."""
from __future__ import annotations

from math import prod

from cnncost.ops import register
from cnncost.ops.base import Key, Op
from cnncost.ops.window import sliding, whole


class Linear(Op):
    name = "linear"
    family = "linear"
    doc = "fully connected layer applied to the last axis (PyTorch Linear)"
    keys = (Key("out", "int", doc="output features"), Key("bias", "bool", True, "add a learned bias"))
    elementwise = False
    counts_as_layer = True
    flops_doc = "2·MACs, plus 1 per output element for the bias add"

    def output_shape(self, attrs, in_shapes):
        return (*in_shapes[0][:-1], attrs["out"])

    def params(self, attrs, in_shapes):
        return in_shapes[0][-1] * attrs["out"] + (attrs["out"] if attrs["bias"] else 0)

    def macs(self, attrs, in_shapes, out_shape):
        return prod(out_shape) * in_shapes[0][-1]

    def flops(self, attrs, in_shapes, out_shape):
        return 2 * self.macs(attrs, in_shapes, out_shape) + (prod(out_shape) if attrs["bias"] else 0)

    def window(self, attrs, in_shapes):
        return _whole(in_shapes[0]) if len(in_shapes[0]) > 1 and in_shapes[0][1:] else None


def _whole(shape):
    """A linear on a C×spatial tensor mixes only the last axis; treat that axis as fully covered."""
    spatial = shape[1:]
    return [sliding(1, 1, 0)] * (len(spatial) - 1) + [whole(spatial[-1])]


register(Linear())
