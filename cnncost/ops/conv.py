"""Convolution 1d/2d/3d: MACs = C_out · prod(out spatial) · (C_in / groups) · prod(kernel)."""
from __future__ import annotations

from math import prod

from cnncost.ops import register
from cnncost.ops.base import Key, Op, OpError
from cnncost.ops.window import dropped_warnings, effective_kernel, output_size, pads, sliding


class Conv(Op):
    family = "conv"
    elementwise = False
    counts_as_layer = True
    absorbs_batchnorm = True
    flops_doc = "2·MACs, plus 1 per output element for the bias add"

    def __init__(self, spatial: int):
        self.spatial = spatial
        self.name = f"conv{spatial}d"
        self.doc = f"{spatial}-D convolution (PyTorch Conv{spatial}d)"
        self.keys = (
            Key("out", "int", doc="output channels (filters)"),
            Key("kernel", "ints", doc="kernel size: int or one per spatial axis"),
            Key("stride", "ints", 1, "step between windows"),
            Key("padding", "padding", 0, "zeros added on each side: int, per-axis list, 'same' or 'valid'"),
            Key("dilation", "ints", 1, "spacing between kernel taps"),
            Key("groups", "int", 1, "channel groups; groups = C_in makes it depthwise"),
            Key("bias", "bool", True, "add a learned bias per output channel"),
        )

    def geometry(self, attrs, in_shape):
        sizes = in_shape[1:]
        kernels = [effective_kernel(k, d) for k, d in zip(attrs["kernel"], attrs["dilation"])]
        return sizes, kernels, pads(attrs["padding"], sizes, kernels, attrs["stride"])

    def output_shape(self, attrs, in_shapes):
        (in_shape,) = in_shapes
        channels, groups = in_shape[0], attrs["groups"]
        if channels % groups or attrs["out"] % groups:
            raise OpError(f"groups={groups} must divide both input channels {channels} and out={attrs['out']}", "groups")
        sizes, kernels, pad_list = self.geometry(attrs, in_shape)
        spatial = tuple(output_size(n, k, s, p) for n, k, s, p in zip(sizes, kernels, attrs["stride"], pad_list))
        return (attrs["out"], *spatial)

    def params(self, attrs, in_shapes):
        weights = attrs["out"] * (in_shapes[0][0] // attrs["groups"]) * prod(attrs["kernel"])
        return weights + (attrs["out"] if attrs["bias"] else 0)

    def macs(self, attrs, in_shapes, out_shape):
        return prod(out_shape) * (in_shapes[0][0] // attrs["groups"]) * prod(attrs["kernel"])

    def flops(self, attrs, in_shapes, out_shape):
        return 2 * self.macs(attrs, in_shapes, out_shape) + (prod(out_shape) if attrs["bias"] else 0)

    def window(self, attrs, in_shapes):
        _, kernels, pad_list = self.geometry(attrs, in_shapes[0])
        return [sliding(k, s, before) for k, s, (before, _) in zip(kernels, attrs["stride"], pad_list)]

    def warnings(self, attrs, in_shapes):
        if attrs["padding"] == "same":
            return []
        sizes, kernels, pad_list = self.geometry(attrs, in_shapes[0])
        return dropped_warnings(sizes, kernels, attrs["stride"], pad_list, silence="to read them, pad so that the last window reaches the end, or use `padding: same`")

    def filters(self, attrs):
        return attrs["out"]

    def group(self, attrs, in_shapes):
        groups = attrs["groups"]
        if groups > 1 and groups == in_shapes[0][0]:
            return "depthwise conv"
        if all(k == 1 for k in attrs["kernel"]):
            return "1×1 conv" if self.spatial == 2 else "pointwise conv"
        kernel = "×".join(map(str, attrs["kernel"]))
        return f"{kernel} conv" + (" (grouped)" if groups > 1 else "")


register(Conv(1), Conv(2), Conv(3))
